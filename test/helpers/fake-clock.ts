/**
 * A clock tests move by hand: `advance(ms)` runs every timer that falls due,
 * in order. Backoff, aging and scheduled runs are tested without sleeping.
 */
import type { Clock } from '../../agent/clock.js';

export interface FakeClock extends Clock {
  advance(ms: number): void;
  set(now: number): void;
}

export function createFakeClock(start = Date.UTC(2026, 10, 25, 12, 0, 0)): FakeClock {
  let now = start;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const runDue = () => {
    for (;;) {
      const due = [...timers.entries()].filter(([, t]) => t.at <= now).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (!due) return;
      timers.delete(due[0]);
      due[1].fn();
    }
  };
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const id = ++seq;
      timers.set(id, { at: now + Math.max(0, ms), fn });
      return () => timers.delete(id);
    },
    advance(ms) {
      now += ms;
      runDue();
    },
    set(value) {
      now = value;
      runDue();
    },
  };
}
