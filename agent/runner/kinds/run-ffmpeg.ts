/**
 * What the ffmpeg-based kinds share: probing the input, running ffmpeg
 * through the executor with progress, turning its exit into an AttemptError,
 * and noticing cancellation.
 */
import path from 'node:path';
import type { Profile } from '../../config/config.schema.js';
import type { JobProgress } from '../../jobs/job.js';
import { createFfmpegInputReader, type FfmpegInput } from '../../media/ffmpeg-input.js';
import { createProgressParser, toJobProgress } from '../../media/ffmpeg-progress.js';
import { classifyFfmpegFailure, probeMedia, type MediaInfo } from '../../media/ffprobe.js';
import type { MediaTools } from '../../media/locate.js';
import type { KindContext } from '../kind.js';
import { AttemptError } from '../process.js';

/**
 * Options every ffmpeg run starts with: never wait on a terminal, never ask
 * before overwriting (outputs go to a staging folder the attempt owns), and
 * machine-readable progress on stdout instead of `\r` stats on stderr.
 */
export const FFMPEG_GLOBAL_ARGS: readonly string[] = ['-nostdin', '-hide_banner', '-y', '-progress', 'pipe:1', '-nostats'];

/**
 * A path as ffmpeg must get it: `file:` plus the absolute path, so a name
 * such as `-rf.mp4` or `concat:a|b` is neither an option nor a protocol.
 */
export function fileUrl(file: string): string {
  return `file:${path.resolve(file)}`;
}

/** Where an output with this extension goes: the staging folder, under the final name. */
export function outputPath(ctx: KindContext, extension: string): string {
  return path.join(ctx.stagingDir, `${ctx.outputBase}.${extension}`);
}

/** One argument as a POSIX shell would need it, so a logged command can be pasted into a terminal. */
export function quoteArg(arg: string): string {
  if (/^[\w@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

export function formatCommand(file: string, args: readonly string[]): string {
  return [file, ...args].map(quoteArg).join(' ');
}

/**
 * The error for an attempt whose signal fired. The executor may abort with an
 * AttemptError as the reason (a stall or a timeout is retried, a cancel is
 * not); that reason wins.
 */
export function cancelledError(signal: AbortSignal, what: string): AttemptError {
  if (signal.reason instanceof AttemptError) return signal.reason;
  return new AttemptError('cancelled', `${what} was cancelled`, { isCanceled: true });
}

export function throwIfAborted(signal: AbortSignal, what: string): void {
  if (signal.aborted) throw cancelledError(signal, what);
}

export function requireEncoder(tools: MediaTools, encoder: string): void {
  if (tools.encoders.has(encoder)) return;
  throw new AttemptError(
    'internal',
    `ffmpeg has no ${encoder} encoder (${tools.ffmpeg.path}, ${tools.ffmpeg.version}); install an ffmpeg built with it or change the profile`,
  );
}

/** Probes the job's input, failing as cancelled rather than as a probe error when the attempt was stopped. */
export async function probeInput(ctx: KindContext): Promise<MediaInfo> {
  throwIfAborted(ctx.signal, 'probing the input');
  let info: MediaInfo;
  try {
    info = await probeMedia(ctx.tools.ffprobe.path, ctx.inputPath, { signal: ctx.signal, name: ctx.fileName });
  } catch (thrown) {
    if (ctx.signal.aborted) throw cancelledError(ctx.signal, 'probing the input');
    throw thrown;
  }
  ctx.log(`input: ${describeMedia(info)}`);
  return info;
}

function describeMedia(info: MediaInfo): string {
  const parts = [info.durationSeconds !== null ? `${info.durationSeconds.toFixed(2)} s` : 'duration unknown', info.formatName ?? 'unknown format'];
  if (info.video) parts.push(`video ${info.video.codec} ${info.video.width}x${info.video.height}${info.video.fps ? ` ${info.video.fps.toFixed(2)} fps` : ''}`);
  if (info.audio) parts.push(`audio ${info.audio.codec}${info.audio.channels ? ` ${info.audio.channels} ch` : ''}`);
  return parts.join(', ');
}

/** A kind that needs pictures fails at once on an input without them. */
export function requireVideo(ctx: KindContext, info: MediaInfo): NonNullable<MediaInfo['video']> {
  if (info.video) return info.video;
  throw new AttemptError('bad_input', `${ctx.fileName} has no video stream`);
}

export interface RunFfmpegOptions {
  /**
   * Media seconds the run covers, for percent and ETA: a number, null when
   * unknown, or 'from-input' for the duration ffmpeg reports for its input.
   */
  duration: number | null | 'from-input';
  /** Maps this run's 0–100 onto the job's, for kinds that run ffmpeg more than once. */
  percentRange?: readonly [number, number];
  /** Extra environment for ffmpeg. */
  env?: Record<string, string>;
}

/**
 * Runs ffmpeg with `args` after the global options. Resolves with what ffmpeg
 * said about its input (null if it printed nothing about it); throws
 * AttemptError otherwise.
 */
export async function runFfmpeg(ctx: KindContext<Profile>, args: readonly string[], options: RunFfmpegOptions): Promise<FfmpegInput | null> {
  throwIfAborted(ctx.signal, 'ffmpeg');
  const fullArgs = [...FFMPEG_GLOBAL_ARGS, ...args];
  ctx.log(formatCommand(ctx.tools.ffmpeg.path, fullArgs));
  const [from, to] = options.percentRange ?? [0, 100];
  const reader = createFfmpegInputReader();
  // ffmpeg prints its input's report on stderr before the first progress block reaches stdout.
  const duration = () => (options.duration === 'from-input' ? (reader.input?.durationSeconds ?? null) : options.duration);
  const parser = createProgressParser((block) => {
    const progress = toJobProgress(block, duration());
    const percent = progress.percent === null ? null : Math.round((from + ((to - from) * progress.percent) / 100) * 10) / 10;
    ctx.progress({ ...progress, percent });
  });
  const exit = await ctx.exec(ctx.tools.ffmpeg.path, fullArgs, {
    env: options.env,
    onStdout: (chunk) => parser.push(chunk),
    onStderrLine: (line) => reader.push(line),
  });
  throwIfAborted(ctx.signal, 'ffmpeg');
  if (exit.exitCode !== 0 || exit.signal !== null) throw classifyFfmpegFailure(exit, 'ffmpeg', { input: reader.input, name: ctx.fileName });
  return reader.input;
}

/** The progress a kind reports once its work is done. */
export const FINISHED: JobProgress = { percent: 100, fps: null, speed: null, etaSeconds: 0 };
