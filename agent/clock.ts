/**
 * Time, injected. The agent uses the system clock; tests use the fake clock
 * in test/helpers so that backoff, aging and timeouts are tested without sleeps.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` after `ms`; returns a function that cancels it. */
  setTimeout(fn: () => void, ms: number): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    // Not unref'd: a start-up step awaiting a timer must keep the process alive.
    // Every component cancels its timers on stop.
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};
