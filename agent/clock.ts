/**
 * Time, injected. The agent uses the system clock; tests use the fake clock
 * in test/helpers so that backoff, aging and timeouts are tested without sleeps.
 *
 * Two readings, because the wall clock can step (an NTP correction, an
 * operator fixing the date, a VM resumed): `now()` for the times people read
 * and set (createdAt, runAt), `monotonic()` for every duration and deadline
 * the agent sets itself (backoff, grace periods, stall detection, sample
 * age). A wall step of an hour then neither stalls the queue for an hour nor
 * declares every running job stalled.
 */
export interface Clock {
  /** Wall-clock milliseconds since the epoch. May step forwards or backwards. */
  now(): number;
  /** Milliseconds from an arbitrary origin that only moves forwards, at a steady rate. */
  monotonic(): number;
  /** Runs `fn` after `ms` (monotonic); returns a function that cancels it. */
  setTimeout(fn: () => void, ms: number): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout(fn, ms) {
    // Not unref'd: a start-up step awaiting a timer must keep the process alive.
    // Every component cancels its timers on stop. Node's timers run on the
    // monotonic clock.
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};
