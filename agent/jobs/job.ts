/**
 * Jobs, the unit of work.
 *
 * Glossary
 * - job: one unit of work on one input file, run by one profile.
 * - attempt: one run of a job's process. A transient failure ends an attempt
 *   and puts the job back to PENDING with `runAfter` set by backoff.
 * - source: the file the operator dropped. Claimed into `<dataDir>/work/<id>/`,
 *   then moved to `done/`, `failed/` or `cancelled/` beside the inbox.
 * - staging: `<outbox>/.spool-tmp/<id>/`, where an attempt writes; outputs are
 *   renamed from there into the outbox only once complete.
 * - settle: the file moves that follow a final state (outputs into the outbox,
 *   the source to its folder). Planned in the same transaction as the state,
 *   carried out after it, and redone at start-up if the process died between.
 */
import type { Category, Kind } from '../config/config.schema.js';

export const JOB_STATUSES = ['PENDING', 'RUNNING', 'PAUSED', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const FINAL_STATUSES: readonly JobStatus[] = ['COMPLETED', 'FAILED', 'CANCELLED'];

/** Why an attempt failed: bad input fails the job at once, transient errors are retried. */
export type FailureKind = 'bad_input' | 'transient' | 'internal' | 'dependency' | 'cancelled';

export interface JobOutput {
  path: string;
  sizeBytes: number;
}

export interface JobProgress {
  /** 0–100, or null when the duration is unknown. */
  percent: number | null;
  fps: number | null;
  speed: number | null;
  etaSeconds: number | null;
}

export interface Job {
  id: string;
  status: JobStatus;
  profile: string;
  kind: Kind;
  category: Category;
  priority: number;
  /** The absolute path the file had when it was dropped (or submitted). */
  inputPath: string;
  /** Where the source is now (work area, done/, failed/ …). */
  sourcePath: string;
  inboxPath: string | null;
  outbox: string;
  sizeBytes: number;
  mtimeMs: number;
  contentHash: string | null;
  attempts: number;
  maxAttempts: number;
  runAfter: number | null;
  waitingReason: string | null;
  /** For PAUSED: whether a process is stopped (running) or the job was held before start (pending). */
  pausedFrom: 'pending' | 'running' | null;
  progress: number | null;
  fps: number | null;
  speed: number | null;
  etaSeconds: number | null;
  gpuIndex: number | null;
  encoder: string | null;
  errorKind: FailureKind | null;
  error: string | null;
  result: unknown;
  parentId: string | null;
  dependsOn: string[];
  outputs: JobOutput[];
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  updatedAt: number;
}

export function isFinal(status: JobStatus): boolean {
  return FINAL_STATUSES.includes(status);
}
