/**
 * What every kind (transcode, thumbnail, target-size, probe, command) is
 * handed by the attempt executor, and what it gives back. A kind only builds
 * argv arrays and decides what to run next; the executor owns spawning,
 * process groups, pause/resume/cancel, stall and timeout handling, staging
 * and the database.
 */
import type { Profile } from '../config/config.schema.js';
import type { JobProgress } from '../jobs/job.js';
import type { MediaTools } from '../media/locate.js';
import type { ExitInfo } from './process.js';

export interface Placement {
  /** Which encoder family a transcode uses; other kinds ignore it. */
  encoder: 'cpu' | 'nvenc';
  /** The GPU the attempt runs on, or null for CPU work. */
  gpuIndex: number | null;
}

export interface ExecOptions {
  /** Each stdout chunk (ffmpeg `-progress pipe:1` output). */
  onStdout?: (chunk: string) => void;
  /** Each stderr line, after it went to the job's log. */
  onStderrLine?: (line: string) => void;
  /** Extra environment on top of the agent's. */
  env?: Record<string, string>;
  cwd?: string;
}

export interface KindContext<P extends Profile = Profile> {
  jobId: string;
  /** Absolute path of the source in the work area (read it, never move it). */
  inputPath: string;
  /** The name the file was dropped with, e.g. "My clip.mov". */
  fileName: string;
  /** The dropped name without its extension, for output names. */
  outputBase: string;
  profile: P;
  /** Write finished outputs here under their final names; everything left here becomes an output. */
  stagingDir: string;
  tools: MediaTools;
  placement: Placement;
  /** Aborted on cancel, timeout or stall; an `exec` in flight is then terminated. */
  signal: AbortSignal;
  /**
   * Runs a child process in its own group, registered with the executor for
   * pause/resume/kill and stall tracking. Resolves with how it exited; a
   * non-zero exit is not thrown: the kind decides what it means.
   */
  exec(file: string, args: readonly string[], options?: ExecOptions): Promise<ExitInfo>;
  /** Reports progress (also counts as a sign of life against the stall timeout). */
  progress(progress: JobProgress): void;
  /** A line for the job's log. */
  log(line: string): void;
}

export interface KindResult {
  /** Stored as the job's result (probe's JSON, target-size's passes, …). */
  result?: unknown;
  /** Input facts worth learning from (duration of the media, in seconds). */
  mediaSeconds?: number | null;
}

/** Runs one attempt of a kind; throws AttemptError on failure. */
export type KindRunner<P extends Profile = Profile> = (ctx: KindContext<P>) => Promise<KindResult>;
