/**
 * target-size: re-encodes the input so that the file comes out at or under
 * `targetMb` (10^6 bytes), for upload limits and mail attachments.
 *
 * One-pass bitrate control is used rather than two-pass: it is half the
 * work, and rate control lands within a few percent of the asked bitrate,
 * which the margins below absorb. When a pass still comes out too big (short
 * clips overshoot most: the encoder's buffer fills at the start), the video
 * bitrate is scaled down by what it overshot and the encode repeated.
 */
import fs from 'node:fs/promises';
import type { TargetSizeProfile } from '../../config/config.schema.js';
import type { KindContext, KindRunner } from '../kind.js';
import { AttemptError } from '../process.js';
import { FINISHED, fileUrl, outputPath, probeInput, requireEncoder, requireVideo, runFfmpeg } from './run-ffmpeg.js';

/** Share of the file the container's headers and index take. */
export const CONTAINER_OVERHEAD = 0.02;
/** Share kept back for rate control landing above its target. */
export const RATE_SAFETY = 0.03;
/** Below this the picture is mush; the target is then called impossible. */
export const MIN_VIDEO_KBPS = 16;
/** Encodes after the first when the output is still too big. */
const EXTRA_PASSES = 2;
/** The job's percent range of each pass: a retry adds little to the bar rather than sending it back to 0. */
const PASS_RANGES: ReadonlyArray<readonly [number, number]> = [[0, 90], [90, 97], [97, 100]];

export interface SqueezePass {
  videoKbps: number;
  sizeBytes: number;
}

/** The video bitrate (kbit/s) that fills `targetBytes` over the duration next to the audio; may be ≤ 0. */
export function planVideoKbps(targetBytes: number, durationSeconds: number, audioKbps: number): number {
  const totalKbps = (targetBytes * 8) / 1000 / durationSeconds;
  return Math.floor(totalKbps * (1 - CONTAINER_OVERHEAD - RATE_SAFETY) - audioKbps);
}

const megabytes = (bytes: number) => `${Number((bytes / 1e6).toPrecision(3))} MB`;

export const runTargetSize: KindRunner<TargetSizeProfile> = async (ctx: KindContext<TargetSizeProfile>) => {
  const info = await probeInput(ctx);
  const video = requireVideo(ctx, info);
  const { profile } = ctx;
  const targetBytes = Math.floor(profile.targetMb * 1e6);
  const duration = info.durationSeconds;
  if (duration === null || duration <= 0) {
    throw new AttemptError('bad_input', `cannot squeeze ${ctx.fileName}: duration unknown`);
  }
  const audioKbps = info.audio && profile.audioBitrateKbps > 0 ? profile.audioBitrateKbps : 0;
  const audioBytes = (audioKbps * 1000 * duration) / 8;
  if (audioBytes >= targetBytes * (1 - CONTAINER_OVERHEAD)) {
    throw new AttemptError(
      'bad_input',
      `cannot squeeze ${ctx.fileName} under ${megabytes(targetBytes)}: its ${duration.toFixed(1)} s of audio at ${audioKbps} kbit/s alone take ${megabytes(audioBytes)}`,
    );
  }
  let videoKbps = planVideoKbps(targetBytes, duration, audioKbps);
  if (videoKbps < MIN_VIDEO_KBPS) {
    throw new AttemptError(
      'bad_input',
      `cannot squeeze ${ctx.fileName} under ${megabytes(targetBytes)}: ${duration.toFixed(1)} s would leave only ${Math.max(0, videoKbps)} kbit/s for the video`,
    );
  }

  const encoder = profile.videoCodec === 'h264' ? 'libx264' : 'libx265';
  requireEncoder(ctx.tools, encoder);
  if (audioKbps > 0) requireEncoder(ctx.tools, 'aac');
  const output = outputPath(ctx, profile.container);
  const argsFor = (kbps: number) => [
    '-i', fileUrl(ctx.inputPath), '-map', `0:${video.index}`,
    ...(audioKbps > 0 && info.audio ? ['-map', `0:${info.audio.index}`, '-c:a', 'aac', '-b:a', `${audioKbps}k`] : ['-an']),
    // maxrate/bufsize keep one-pass ABR from spending the budget early and overshooting.
    '-c:v', encoder, '-preset', profile.preset, '-b:v', `${kbps}k`, '-maxrate', `${kbps}k`, '-bufsize', `${kbps * 2}k`, '-pix_fmt', 'yuv420p',
    ...(profile.width > 0 ? ['-vf', `scale=${profile.width}:-2`] : []),
    ...(encoder === 'libx265' ? ['-x265-params', 'log-level=error', ...(profile.container === 'mp4' ? ['-tag:v', 'hvc1'] : [])] : []),
    ...(profile.container === 'mp4' ? ['-f', 'mp4', '-movflags', '+faststart'] : ['-f', 'matroska']),
    fileUrl(output),
  ];

  const passes: SqueezePass[] = [];
  for (let pass = 0; pass <= EXTRA_PASSES; pass += 1) {
    ctx.log(`pass ${pass + 1}: video at ${videoKbps} kbit/s, audio at ${audioKbps} kbit/s, for ${megabytes(targetBytes)}`);
    await runFfmpeg(ctx, argsFor(videoKbps), { duration, percentRange: PASS_RANGES[pass] });
    const sizeBytes = (await fs.stat(output)).size;
    passes.push({ videoKbps, sizeBytes });
    if (sizeBytes <= targetBytes) {
      ctx.log(`pass ${pass + 1}: ${megabytes(sizeBytes)}, within ${megabytes(targetBytes)}`);
      ctx.progress(FINISHED);
      return { result: { targetBytes, passes }, mediaSeconds: duration };
    }
    // Audio comes out the same size every pass, so only the video share is scaled by the overshoot.
    const videoShare = (targetBytes - audioBytes) / Math.max(1, sizeBytes - audioBytes);
    const next = Math.floor(videoKbps * Math.min(videoShare, targetBytes / sizeBytes) * 0.95);
    ctx.log(`pass ${pass + 1}: ${megabytes(sizeBytes)} is over ${megabytes(targetBytes)}${pass < EXTRA_PASSES ? `; trying ${next} kbit/s` : ''}`);
    if (next < MIN_VIDEO_KBPS) break;
    videoKbps = next;
  }
  // A failed attempt must not leave an oversized file behind as if it were an output.
  await fs.rm(output, { force: true });
  const sizes = passes.map((p) => megabytes(p.sizeBytes)).join(', ');
  throw new AttemptError('internal', `could not squeeze ${ctx.fileName} under ${megabytes(targetBytes)}: ${passes.length} passes came out at ${sizes}`);
};
