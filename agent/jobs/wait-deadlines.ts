/**
 * Waits the agent sets itself: a retry's backoff, the next look at a file
 * that seems incomplete or still being written, the next try on a full or
 * read-only outbox.
 *
 * The database keeps each as a wall-clock `run_after` (it survives a restart,
 * and the console shows it). Held only that way, a wall-clock step would move
 * it: an hour back, and a 30 s backoff lasts an hour and 30 s; an hour
 * forward, and every wait ends at once. So the agent also keeps the deadline
 * on the monotonic clock while it runs, and admission reads `run_after`
 * through `runAfter()`, which re-bases it on the wall clock as it reads now.
 *
 * An operator's `runAt` is a wall-clock time by meaning ("at 02:00") and is
 * never held here. After a restart, stored values are used as they are.
 */
import type { Clock } from '../clock.js';

export interface WaitDeadlines {
  /** The `run_after` to store for a wait of `ms` from now; the wait is held on the monotonic clock too. */
  after(jobId: string, ms: number): number;
  /** When the job may run, in wall-clock ms as the wall clock reads now; `stored` is its `run_after`. */
  runAfter(jobId: string, stored: number | null): number | null;
}

/** Above this many held waits, those long over are dropped (jobs cancelled or finished while waiting). */
const PRUNE_ABOVE = 20_000;

export function createWaitDeadlines(clock: Pick<Clock, 'now' | 'monotonic'>): WaitDeadlines {
  const held = new Map<string, { stored: number; until: number }>();
  return {
    after(jobId, ms) {
      const stored = clock.now() + ms;
      if (held.size >= PRUNE_ABOVE) {
        const now = clock.monotonic();
        for (const [id, wait] of held) if (wait.until < now) held.delete(id);
      }
      held.set(jobId, { stored, until: clock.monotonic() + ms });
      return stored;
    },
    runAfter(jobId, stored) {
      const wait = held.get(jobId);
      if (!wait) return stored;
      // Someone else set run_after since (an operator's runAt, a resume): theirs counts.
      if (wait.stored !== stored) {
        held.delete(jobId);
        return stored;
      }
      return clock.now() + (wait.until - clock.monotonic());
    },
  };
}
