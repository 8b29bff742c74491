/**
 * What ffprobe says about an input, and what an ffmpeg failure means for the
 * job: bad input fails it at once, transient trouble is retried, a broken
 * setup is internal.
 */
import { execFile, type ExecFileException } from 'node:child_process';
import path from 'node:path';
import { errnoCode } from '../errors.js';
import type { FfmpegInput } from './ffmpeg-input.js';
import { AttemptError, type ExitInfo } from '../runner/process.js';

export interface VideoInfo {
  /** Stream index in the file, for `-map 0:<index>`. */
  index: number;
  codec: string;
  width: number;
  height: number;
  /** Average frame rate, or null when the container does not say. */
  fps: number | null;
}

export interface AudioInfo {
  index: number;
  codec: string;
  channels: number | null;
  /** bit/s, or null when unknown. */
  bitRate: number | null;
}

export interface MediaInfo {
  durationSeconds: number | null;
  /** ffprobe's demuxer names, e.g. "mov,mp4,m4a,3gp,3g2,mj2". */
  formatName: string | null;
  sizeBytes: number | null;
  /** Overall bit/s, or null when unknown. */
  bitRate: number | null;
  /** The first video stream that is not cover art. */
  video: VideoInfo | null;
  audio: AudioInfo | null;
  /** How many streams of any type the file has. */
  streams: number;
  /** ffprobe's JSON as it printed it. */
  raw: unknown;
}

export interface ProbeOptions {
  signal?: AbortSignal;
  /** @default 60000 */
  timeoutMs?: number;
  /** The name used in error messages. @default the file's base name */
  name?: string;
}

interface RawStream {
  index?: number;
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  channels?: number;
  bit_rate?: string;
  duration?: string;
  disposition?: { attached_pic?: number };
}
interface RawProbe {
  streams?: RawStream[];
  format?: { format_name?: string; duration?: string; size?: string; bit_rate?: string };
}

/**
 * Probes `file`. The path goes to ffprobe as `file:<absolute path>` so that a
 * name such as `-rf.mp4`, `concat:a.mp4|b.mp4` or `http:x` is read as a plain
 * file, never as an option or a protocol.
 */
export function probeMedia(ffprobePath: string, file: string, options: ProbeOptions = {}): Promise<MediaInfo> {
  const name = options.name ?? path.basename(file);
  const args = ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', `file:${path.resolve(file)}`];
  return new Promise((resolve, reject) => {
    const execOptions = { signal: options.signal, timeout: options.timeoutMs ?? 60_000, maxBuffer: 32 * 1024 * 1024, encoding: 'utf8' as const };
    execFile(ffprobePath, args, execOptions, (error, stdout, stderr) => {
      if (error) {
        reject(probeError(error, stderr, name, options.signal));
        return;
      }
      let raw: RawProbe;
      try {
        raw = JSON.parse(stdout) as RawProbe;
      } catch {
        reject(new AttemptError('internal', `ffprobe printed something other than JSON for ${name}`));
        return;
      }
      const info = toMediaInfo(raw);
      if (info.streams === 0) {
        reject(new AttemptError('bad_input', `ffprobe cannot read ${name}: it holds no audio or video streams`));
        return;
      }
      resolve(info);
    });
  });
}

function probeError(error: ExecFileException, stderr: string, name: string, signal?: AbortSignal): AttemptError {
  const stderrTail = stderr.split('\n').filter((line) => line.trim() !== '').slice(-20);
  if (signal?.aborted || error.name === 'AbortError') {
    return new AttemptError('transient', `probing ${name} was cancelled`, { isCanceled: true, stderrTail });
  }
  if (error.killed) {
    return new AttemptError('transient', `ffprobe took too long to read ${name} and was stopped`, { timedOut: true, signal: error.signal ?? null, stderrTail });
  }
  // A string code is Node's (ENOENT, EACCES, maxBuffer), not ffprobe's exit status.
  if (errnoCode(error)) {
    return new AttemptError('internal', `cannot run ffprobe on ${name}: ${error.message}`);
  }
  if (error.signal) {
    return new AttemptError('transient', `ffprobe was stopped by ${error.signal} while reading ${name}`, { signal: error.signal, stderrTail });
  }
  const exitCode = typeof error.code === 'number' ? error.code : null;
  const line = keyLine(stderrTail) ?? 'no error message';
  return new AttemptError('bad_input', `ffprobe cannot read ${name}: ${line}`, { exitCode, stderrTail });
}

function toMediaInfo(raw: RawProbe): MediaInfo {
  const streams = raw.streams ?? [];
  const video = streams.find((s) => s.codec_type === 'video' && s.disposition?.attached_pic !== 1);
  const audio = streams.find((s) => s.codec_type === 'audio');
  const streamDurations = streams.map((s) => num(s.duration)).filter((d): d is number => d !== null);
  return {
    durationSeconds: num(raw.format?.duration) ?? (streamDurations.length > 0 ? Math.max(...streamDurations) : null),
    formatName: raw.format?.format_name ?? null,
    sizeBytes: num(raw.format?.size),
    bitRate: num(raw.format?.bit_rate),
    video: video
      ? { index: video.index ?? 0, codec: video.codec_name ?? 'unknown', width: video.width ?? 0, height: video.height ?? 0, fps: rate(video.avg_frame_rate) ?? rate(video.r_frame_rate) }
      : null,
    audio: audio ? { index: audio.index ?? 0, codec: audio.codec_name ?? 'unknown', channels: audio.channels ?? null, bitRate: num(audio.bit_rate) } : null,
    streams: streams.length,
    raw,
  };
}

function num(value: string | undefined): number | null {
  const parsed = value === undefined ? NaN : Number(value);
  return Number.isFinite(parsed) && parsed >= 0 ? parsed : null;
}

/** "30000/1001" as a number; "0/0" (unknown) as null. */
function rate(value: string | undefined): number | null {
  const [n, d] = (value ?? '').split('/').map(Number);
  return n !== undefined && d !== undefined && n > 0 && d > 0 ? n / d : null;
}

const BAD_INPUT = [
  /Invalid data found when processing input/i,
  /moov atom not found/i,
  /could not find codec parameters/i,
  /does not contain any stream/i,
  /Invalid NAL unit/i,
  /matches no streams/i,
];
// Checked before BAD_INPUT: "Error while decoding stream #0:0: Cannot allocate memory" is the machine's fault, not the file's.
const TRANSIENT: Array<[RegExp, string]> = [
  [/No space left on device/i, 'ran out of disk space'],
  // Only failure wording: the tail of an NVENC run names h264_nvenc in its stream mapping too.
  [/OpenEncodeSessionEx failed|No capable devices found|CUDA_ERROR|Cannot load libcuda|Cannot init CUDA|Cannot load libnvidia-encode/i, 'could not use the GPU encoder'],
  [/out of memory|Cannot allocate memory/i, 'ran out of memory'],
];
// A retry cannot fix an argument this ffmpeg does not understand.
const INTERNAL = [/Unknown encoder/i, /Encoder \S+ not found/i, /Unrecognized option/i, /Option not found/i];
// Summary lines that say that ffmpeg failed, not why.
const GENERIC = [/^Conversion failed!?$/i, /^Exiting normally/i, /^Error opening output files?/i];

/**
 * The stderr line that explains a failure, made readable: the demuxer tag
 * (`[mov,mp4 @ 0x55…]`) and the directory of a `file:` path are dropped.
 */
function keyLine(tail: readonly string[], pattern?: RegExp): string | null {
  const lines = [...tail].reverse().map((line) => line.trim()).filter((line) => line !== '');
  const found = pattern ? lines.find((line) => pattern.test(line)) : lines.find((line) => !GENERIC.some((g) => g.test(line)));
  if (found === undefined) return pattern ? null : (lines[0] ?? null);
  const line = found.replace(/^\[[^\]]* @ 0x[0-9a-f]+\]\s*/i, '');
  // "file:/srv/work/…/a b.mkv: Input/output error": the path ends at the first ": " (the message may hold slashes).
  const withPath = /^file:(\/.*?): (.*)$/.exec(line);
  return withPath ? `${path.basename(withPath[1]!)}: ${withPath[2]}` : line;
}

/** What ffmpeg printed about its input before it failed, for the words of the error. */
export interface FailedInput {
  /** The `Input #0` report; null when ffmpeg ended before it could print one (it could not open or read the file). */
  input: FfmpegInput | null;
  /** The file's name, as the job shows it. */
  name: string;
}

/**
 * What an unsuccessful ffmpeg (or other media tool) run means for the job.
 * With `failed`, ffmpeg's report of its input sharpens the verdict: an input
 * it could not even open is bad input whatever the message (a file cut off
 * inside its header ends with "End of file" or "Input/output error"), as it
 * was when ffprobe looked first.
 */
export function classifyFfmpegFailure(exit: ExitInfo, what: string, failed?: FailedInput): AttemptError {
  const details = { exitCode: exit.exitCode, signal: exit.signal, stderrTail: exit.stderrTail };
  if (exit.signal) {
    const line = keyLine(exit.stderrTail);
    return new AttemptError('transient', `${what} was stopped by ${exit.signal}${line ? ` (last message: ${line})` : ''}`, details);
  }
  for (const [pattern, words] of TRANSIENT) {
    const line = keyLine(exit.stderrTail, pattern);
    if (line) return new AttemptError('transient', `${what} ${words}: ${line}`, details);
  }
  for (const pattern of INTERNAL) {
    const line = keyLine(exit.stderrTail, pattern);
    if (line) return new AttemptError('internal', `${what} does not support what the profile asks for: ${line}`, details);
  }
  if (failed?.input && failed.input.streams === 0) {
    return new AttemptError('bad_input', `${what} cannot read ${failed.name}: it holds no audio or video streams`, details);
  }
  if (failed?.input && !failed.input.hasVideo && keyLine(exit.stderrTail, /matches no streams/)) {
    return new AttemptError('bad_input', `${failed.name} has no video stream`, details);
  }
  for (const pattern of BAD_INPUT) {
    const line = keyLine(exit.stderrTail, pattern);
    if (line) return new AttemptError('bad_input', `${what} cannot read the input: ${line}`, details);
  }
  if (failed && failed.input === null) {
    return new AttemptError('bad_input', `${what} cannot read the input: ${keyLine(exit.stderrTail) ?? 'no error message'}`, details);
  }
  return new AttemptError('transient', `${what} exited with code ${exit.exitCode ?? 'unknown'}: ${keyLine(exit.stderrTail) ?? 'no error message'}`, details);
}
