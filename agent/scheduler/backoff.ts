/**
 * Delay before retry `attempt + 1` after attempt `attempt` failed:
 * exponential (base, 2×base, 4×base, …) up to `maxMs`, with "equal jitter"
 * (half fixed, half random) so jobs that failed together do not retry in
 * lock-step, yet each waits at least half its step.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const step = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + random() * (step / 2));
}
