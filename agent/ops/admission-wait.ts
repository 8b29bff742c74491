/**
 * When did a job start waiting for admission? The admission-wait histogram
 * measures from that moment to the start of an attempt, so it shows how long
 * the box held back work it could have run, not how long a job sat paused,
 * failed or in retry backoff.
 *
 * A job's row does not keep the moment it last became PENDING, so it is
 * learned from the event stream: the moment is the latest of
 * - its creation,
 * - its `runAfter` (a scheduled start, or the end of a retry backoff),
 * - the `updatedAt` of the event that put it back to PENDING from RUNNING or
 *   PAUSED, or back from a final state by an operator's retry,
 * - the finish of its last dependency (looked up by the caller).
 *
 * State is kept only for jobs that are running, paused or were re-queued,
 * never for the whole backlog, so ten thousand dropped files cost nothing
 * here. After a restart, a job re-queued before it counts from its creation.
 */
import type { Job, JobStatus } from '../jobs/job.js';

export interface AttemptStart {
  job: Job;
  /** Epoch ms it became runnable, leaving out dependencies (the caller adds them). */
  queuedAt: number;
}

export interface WaitTracker {
  /** Feeds one `job:updated` payload; returns the attempt start it reveals, if any. */
  updated(job: Job): AttemptStart | null;
  /** Forgets a job that reached a final state. */
  finished(jobId: string): void;
  /** Jobs with state kept (for tests: it must not grow with the backlog). */
  size(): number;
}

export function createWaitTracker(): WaitTracker {
  /** RUNNING or PAUSED jobs, with the start of the attempt already counted. */
  const active = new Map<string, { status: JobStatus; startedAt: number | null }>();
  /** Jobs put back to PENDING after their creation: when that happened. */
  const requeuedAt = new Map<string, number>();

  return {
    updated(job) {
      const previous = active.get(job.id);
      switch (job.status) {
        case 'RUNNING': {
          active.set(job.id, { status: 'RUNNING', startedAt: job.startedAt });
          // The same startedAt again is a paused attempt resuming, not a new one.
          if (job.startedAt === null || previous?.startedAt === job.startedAt) return null;
          const queuedAt = Math.max(job.createdAt, job.runAfter ?? 0, requeuedAt.get(job.id) ?? 0);
          requeuedAt.delete(job.id);
          return { job, queuedAt };
        }
        case 'PAUSED':
          active.set(job.id, { status: 'PAUSED', startedAt: previous?.startedAt ?? null });
          return null;
        case 'PENDING':
          if (previous) {
            active.delete(job.id);
            requeuedAt.set(job.id, job.updatedAt);
          } else if (job.attempts > 0 && !requeuedAt.has(job.id)) {
            // Not seen running or paused since start, yet it has run before:
            // an operator's retry of a failed or cancelled job.
            requeuedAt.set(job.id, job.updatedAt);
          }
          return null;
        default:
          return null;
      }
    },
    finished(jobId) {
      active.delete(jobId);
      requeuedAt.delete(jobId);
    },
    size: () => active.size + requeuedAt.size,
  };
}
