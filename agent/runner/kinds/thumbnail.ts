/**
 * thumbnail: one frame of the input as a JPEG or WebP image, `width` pixels
 * wide, taken at a time in seconds or at a share of the duration.
 */
import fs from 'node:fs/promises';
import type { ThumbnailProfile } from '../../config/config.schema.js';
import type { KindContext, KindRunner } from '../kind.js';
import { AttemptError } from '../process.js';
import { FINISHED, fileUrl, outputPath, probeInput, requireEncoder, requireVideo, runFfmpeg } from './run-ffmpeg.js';

/**
 * The time to seek to. A seek at or past the last frame yields no picture,
 * so the time is kept a little before the end: the longer of half a second
 * and two frames.
 */
export function thumbnailTime(at: ThumbnailProfile['at'], durationSeconds: number | null, fps: number | null): number {
  let seconds: number;
  if (typeof at === 'number') {
    seconds = at;
  } else {
    seconds = durationSeconds === null ? 0 : (durationSeconds * Number.parseFloat(at)) / 100;
  }
  if (durationSeconds !== null) {
    const margin = Math.max(0.5, 2 / (fps ?? 25));
    seconds = Math.min(seconds, durationSeconds - margin);
  }
  return Math.max(0, Math.round(seconds * 1000) / 1000);
}

export const runThumbnail: KindRunner<ThumbnailProfile> = async (ctx: KindContext<ThumbnailProfile>) => {
  const info = await probeInput(ctx);
  const video = requireVideo(ctx, info);
  const { profile } = ctx;
  const extension = profile.format === 'jpeg' ? 'jpg' : 'webp';
  const output = outputPath(ctx, extension);
  // `-update 1` makes the image2 muxer take the name literally, not as a `%d` pattern.
  const encode =
    profile.format === 'jpeg'
      ? ['-c:v', 'mjpeg', '-q:v', '3', '-f', 'image2', '-update', '1']
      : ['-c:v', 'libwebp', '-quality', '80', '-f', 'webp'];
  if (profile.format === 'webp') requireEncoder(ctx.tools, 'libwebp');
  if (info.durationSeconds === null && typeof profile.at === 'string') {
    ctx.log(`the duration of ${ctx.fileName} is unknown; taking the first frame instead of ${profile.at}`);
  }
  const wanted = thumbnailTime(profile.at, info.durationSeconds, video.fps);

  // Durations in headers can be wrong; a seek that finds no frame falls back to the start.
  for (const seconds of wanted > 0 ? [wanted, 0] : [0]) {
    const args = [
      // -ss before -i seeks by keyframe index instead of decoding everything up to the time.
      '-ss', seconds.toFixed(3), '-i', fileUrl(ctx.inputPath),
      '-map', `0:${video.index}`, '-frames:v', '1', '-vf', `scale=${profile.width}:-2`, '-an', '-sn',
      ...encode, fileUrl(output),
    ];
    await runFfmpeg(ctx, args, { duration: null });
    const size = await fs.stat(output).then((stat) => stat.size, () => 0);
    if (size > 0) {
      ctx.progress(FINISHED);
      return { result: { atSeconds: seconds, format: profile.format, width: profile.width }, mediaSeconds: info.durationSeconds };
    }
    await fs.rm(output, { force: true });
    ctx.log(`no frame could be decoded at ${seconds.toFixed(3)} s`);
  }
  throw new AttemptError('bad_input', `ffmpeg could not decode any video frame of ${ctx.fileName}`);
};
