/**
 * A clock tests move by hand: `advance(ms)` runs every timer that falls due,
 * in order. Backoff, aging and scheduled runs are tested without sleeping.
 * `stepWall(ms)` moves only the wall clock, as an NTP correction does: no
 * time passes and no timer falls due.
 */
import type { Clock } from '../../agent/clock.js';

export interface FakeClock extends Clock {
  /** Time passes: both readings move by `ms`. */
  advance(ms: number): void;
  /** Time passes until the wall clock reads `now` (never backwards). */
  set(now: number): void;
  /** The wall clock steps by `ms` (negative: backwards) while no time passes. */
  stepWall(ms: number): void;
}

export function createFakeClock(start = Date.UTC(2026, 10, 25, 12, 0, 0)): FakeClock {
  let wall = start;
  let mono = 1_000_000;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const runDue = () => {
    for (;;) {
      const due = [...timers.entries()].filter(([, t]) => t.at <= mono).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (!due) return;
      timers.delete(due[0]);
      due[1].fn();
    }
  };
  const advance = (ms: number) => {
    wall += ms;
    mono += ms;
    runDue();
  };
  return {
    now: () => wall,
    monotonic: () => mono,
    setTimeout(fn, ms) {
      const id = ++seq;
      timers.set(id, { at: mono + Math.max(0, ms), fn });
      return () => timers.delete(id);
    },
    advance,
    set(value) {
      if (value < wall) throw new Error(`set() moves time forwards (from ${wall} to ${value}); use stepWall() for a wall-clock step`);
      advance(value - wall);
    },
    stepWall(ms) {
      wall += ms;
    },
  };
}
