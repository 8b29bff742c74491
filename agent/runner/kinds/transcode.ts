/**
 * transcode: re-encodes the first video and audio stream of the input with
 * the profile's codecs into its container, on NVENC or the CPU as admission
 * placed it. Settings a container cannot hold are replaced by compatible
 * ones and the job log says so, rather than failing the job.
 */
import type { TranscodeProfile } from '../../config/config.schema.js';
import type { MediaInfo } from '../../media/ffprobe.js';
import type { MediaTools } from '../../media/locate.js';
import type { KindContext, KindRunner, Placement } from '../kind.js';
import { FINISHED, fileUrl, outputPath, probeInput, requireEncoder, requireVideo, runFfmpeg } from './run-ffmpeg.js';

const X264_PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow', 'placebo'];
// Per x264 preset (same order): NVENC p1..p7, SVT-AV1 preset, libaom/libvpx cpu-used.
const NVENC_PRESET = ['p1', 'p1', 'p2', 'p3', 'p3', 'p4', 'p5', 'p6', 'p7', 'p7'];
const SVT_PRESET = [12, 11, 10, 9, 8, 7, 5, 4, 3, 2];
const CPU_USED = [5, 5, 5, 4, 3, 2, 1, 1, 0, 0];
const MUXER = { mp4: 'mp4', mkv: 'matroska', webm: 'webm', mov: 'mov' } as const;
const WEBM_VIDEO = ['vp8', 'vp9', 'av1'];
const WEBM_AUDIO = ['opus', 'vorbis'];

export interface TranscodePlanInput {
  profile: TranscodeProfile;
  /** The probed input; needed only when a stream is copied (see `needsProbe`), null otherwise. */
  info: MediaInfo | null;
  placement: Placement;
  tools: MediaTools;
  inputPath: string;
  outputPath: string;
}

export interface TranscodePlan {
  /** ffmpeg arguments after the global options. */
  args: string[];
  /** Environment ffmpeg needs on top of the agent's (the GPU to use). */
  env: Record<string, string>;
  videoEncoder: string;
  audioEncoder: string | null;
  /** Settings that were changed to fit the input or the container, for the job log. */
  notes: string[];
}

/** The ffmpeg arguments for a transcode; pure apart from the encoder checks, which throw AttemptError('internal'). */
export function planTranscode({ profile, info, placement, tools, inputPath, outputPath: output }: TranscodePlanInput): TranscodePlan {
  const notes: string[] = [];
  const env: Record<string, string> = {};
  if (needsProbe(profile) && !info?.video) throw new Error('planTranscode needs the probed video stream to copy it');
  /** The source's video codec: known whenever a stream is copied (checked above), the only case that reads it. */
  const sourceCodec = info?.video?.codec ?? null;
  const { container } = profile;
  let presetIndex = X264_PRESETS.indexOf(profile.video.preset);
  if (presetIndex < 0 && !(placement.encoder === 'nvenc' && /^p[1-7]$/.test(profile.video.preset))) {
    notes.push(`unknown preset "${profile.video.preset}", using medium`);
  }
  if (presetIndex < 0) presetIndex = X264_PRESETS.indexOf('medium');

  let codec: string = profile.video.codec;
  if (container === 'webm' && codec !== 'vp9' && codec !== 'av1' && !(codec === 'copy' && WEBM_VIDEO.includes(sourceCodec!))) {
    notes.push(`webm cannot hold ${codec === 'copy' ? sourceCodec : codec} video, encoding vp9 instead`);
    codec = 'vp9';
  }

  // V, not v: the first video stream that is not cover art, as the probe picks it.
  const args = ['-i', fileUrl(inputPath), '-map', '0:V:0'];
  const crf = (max: number) => String(Math.min(profile.video.crf, max));
  const maxKbps = profile.video.maxBitrateKbps;
  const capped = maxKbps > 0 ? ['-maxrate', `${maxKbps}k`, '-bufsize', `${maxKbps * 2}k`] : [];
  let videoEncoder: string;
  let nvenc = placement.encoder === 'nvenc' && codec !== 'copy';
  if (nvenc && (codec === 'vp9' || (codec === 'av1' && !tools.encoders.has('av1_nvenc')))) {
    notes.push(`NVENC cannot encode ${codec} here, using the CPU encoder`);
    nvenc = false;
  }
  if (codec === 'copy') {
    videoEncoder = 'copy';
    args.push('-c:v', 'copy');
    if (profile.video.width > 0) notes.push('width is ignored when the video is copied');
  } else if (nvenc) {
    videoEncoder = `${codec}_nvenc`;
    requireEncoder(tools, videoEncoder);
    const preset = /^p[1-7]$/.test(profile.video.preset) ? profile.video.preset : (NVENC_PRESET[presetIndex] ?? 'p4');
    args.push('-c:v', videoEncoder);
    if (placement.gpuIndex !== null) {
      // The placed GPU is pinned through the environment, the way the executor pins every GPU process;
      // ffmpeg then sees it alone, as device 0. PCI order makes CUDA count GPUs the way nvidia-smi does.
      env.CUDA_VISIBLE_DEVICES = String(placement.gpuIndex);
      env.CUDA_DEVICE_ORDER = 'PCI_BUS_ID';
      args.push('-gpu', '0');
    }
    args.push('-preset', preset, '-rc', 'vbr', '-cq', crf(51), '-b:v', '0', ...capped);
  } else if (codec === 'h264' || codec === 'hevc') {
    videoEncoder = codec === 'h264' ? 'libx264' : 'libx265';
    requireEncoder(tools, videoEncoder);
    args.push('-c:v', videoEncoder, '-preset', X264_PRESETS[presetIndex] ?? 'medium', '-crf', crf(51), ...capped);
    if (codec === 'hevc') args.push('-x265-params', 'log-level=error');
  } else if (codec === 'av1' && tools.encoders.has('libsvtav1')) {
    videoEncoder = 'libsvtav1';
    args.push('-c:v', videoEncoder, '-preset', String(SVT_PRESET[presetIndex] ?? 7), '-crf', crf(63), ...capped);
  } else {
    // libaom and libvpx read -b:v as the ceiling of constrained quality; 0 means pure quality.
    videoEncoder = codec === 'av1' ? 'libaom-av1' : 'libvpx-vp9';
    requireEncoder(tools, videoEncoder);
    const ceiling = maxKbps > 0 ? `${maxKbps}k` : '0';
    args.push('-c:v', videoEncoder, '-crf', crf(63), '-b:v', ceiling, '-cpu-used', String(CPU_USED[presetIndex] ?? 2), '-row-mt', '1');
    if (codec === 'vp9') args.push('-deadline', 'good');
  }
  if (codec !== 'copy') {
    // Browsers and most players only decode 8-bit 4:2:0 H.264.
    if (codec === 'h264') args.push('-pix_fmt', 'yuv420p');
    if (profile.video.width > 0) args.push('-vf', `scale=${profile.video.width}:-2`);
  }
  const hevcOut = codec === 'hevc' || (codec === 'copy' && sourceCodec === 'hevc');
  if (hevcOut && (container === 'mp4' || container === 'mov')) args.push('-tag:v', 'hvc1'); // Apple players refuse the default hev1 tag

  const audioEncoder = planAudio(profile, info, tools, args, notes);
  args.push('-f', MUXER[container]);
  if (container === 'mp4' || container === 'mov') args.push('-movflags', '+faststart');
  // ffmpeg 4.x still calls VP9, AV1 and Opus in MP4 experimental.
  if (container === 'mp4' && (['vp9', 'av1'].includes(codec) || audioEncoder === 'libopus')) args.push('-strict', 'experimental');
  args.push(fileUrl(output));
  return { args, env, videoEncoder, audioEncoder, notes };
}

function planAudio(profile: TranscodeProfile, info: MediaInfo | null, tools: MediaTools, args: string[], notes: string[]): string | null {
  const { container } = profile;
  let codec: string = profile.audio.codec;
  if (codec === 'none') {
    args.push('-an');
    return null;
  }
  if (info && !info.audio) {
    notes.push(NO_AUDIO);
    return null;
  }
  const sourceCodec = info?.audio?.codec ?? null;
  if (container === 'webm' && codec !== 'opus' && !(codec === 'copy' && WEBM_AUDIO.includes(sourceCodec!))) {
    notes.push(`webm cannot hold ${codec === 'copy' ? sourceCodec : codec} audio, encoding opus instead`);
    codec = 'opus';
  }
  if (container === 'mov' && codec === 'opus') {
    notes.push('mov cannot hold opus audio, encoding aac instead');
    codec = 'aac';
  }
  // Unprobed, the audio is mapped if there is any: the trailing ? lets ffmpeg go on without it.
  args.push('-map', info ? '0:a:0' : '0:a:0?');
  if (codec === 'copy') {
    args.push('-c:a', 'copy');
    return 'copy';
  }
  const encoder = codec === 'opus' ? 'libopus' : 'aac';
  requireEncoder(tools, encoder);
  args.push('-c:a', encoder, '-b:a', `${profile.audio.bitrateKbps}k`);
  return encoder;
}

/**
 * Whether the plan depends on the input's codecs: only a stream copy does
 * (which containers can hold it, Apple's tag for HEVC). Every other transcode
 * starts ffmpeg at once and takes the input's duration from what ffmpeg
 * prints about it, which saves an ffprobe start per job (about 0.1 s of CPU
 * and wall time with Debian's ffmpeg, several percent of a short encode).
 */
export function needsProbe(profile: TranscodeProfile): boolean {
  return profile.video.codec === 'copy' || profile.audio.codec === 'copy';
}

const NO_AUDIO = 'the input has no audio stream; the output has none either';

export const runTranscode: KindRunner<TranscodeProfile> = async (ctx: KindContext<TranscodeProfile>) => {
  let info: MediaInfo | null = null;
  if (needsProbe(ctx.profile)) {
    info = await probeInput(ctx);
    requireVideo(ctx, info);
  }
  const plan = planTranscode({
    profile: ctx.profile,
    info,
    placement: ctx.placement,
    tools: ctx.tools,
    inputPath: ctx.inputPath,
    outputPath: outputPath(ctx, ctx.profile.container),
  });
  for (const note of plan.notes) ctx.log(note);
  const input = await runFfmpeg(ctx, plan.args, { duration: info ? info.durationSeconds : 'from-input', env: plan.env });
  // Unprobed, whether the input had audio is known only now.
  const audioDropped = !info && input !== null && !input.hasAudio && plan.audioEncoder !== null;
  if (audioDropped) ctx.log(NO_AUDIO);
  ctx.progress(FINISHED);
  return {
    result: { videoEncoder: plan.videoEncoder, audioEncoder: audioDropped ? null : plan.audioEncoder, container: ctx.profile.container },
    mediaSeconds: info ? info.durationSeconds : (input?.durationSeconds ?? null),
  };
};
