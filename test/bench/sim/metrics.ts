/**
 * What a simulated run is judged by: makespan against a lower bound no
 * policy can beat, over-commits, and waits per priority band.
 */
import type { JobOutcome, SimResult } from './engine.js';
import { vramAt } from './engine.js';
import type { BoxSpec, SimJob, Trace } from './trace.js';

export interface Bound {
  ms: number;
  /** Which term set it: a resource's name, or "longest job". */
  binding: string;
}

/**
 * A lower bound on the makespan of any policy, and an optimistic one: it
 * assumes perfect packing (jobs split across cards, no headroom, no CPU
 * ceiling, foreign memory free).
 * - No job ends before its arrival plus its duration alone.
 * - For each shared resource r (cores, SMs and NVENC engines of both cards,
 *   VRAM of both cards) and each arrival time t: the work arriving at or after
 *   t needs at least Σ(duration × use of r) / capacity of r after t. Work is
 *   conserved under sharing (a job slowed by half uses half the resource for
 *   twice as long); VRAM counts what a job holds running alone, less than it
 *   holds when slowed.
 */
export function lowerBound(trace: Trace, box: BoxSpec): Bound {
  const heldVram = (j: SimJob) => {
    // ∫ vram dt over an uncontended run, in MiB·ms: a trapezoid over the (linear) ramp, then the peak.
    const ramp = Math.min(j.truth.rampMs, j.durationMs);
    const rampArea = ramp > 0 ? ((vramAt(j, 0, 0) + vramAt(j, 0, ramp)) / 2) * ramp : 0;
    return rampArea + j.truth.vramMb * (j.durationMs - ramp);
  };
  const resources: { name: string; capacity: number; use: (j: SimJob) => number }[] = [
    { name: 'CPU cores', capacity: box.cores, use: (j) => j.truth.cpuCores * j.durationMs },
    { name: 'GPU SMs', capacity: box.gpus, use: (j) => j.truth.sm * j.durationMs },
    { name: 'NVENC engines', capacity: box.gpus, use: (j) => j.truth.enc * j.durationMs },
    { name: 'VRAM', capacity: box.gpus * box.vramMb, use: heldVram },
  ];
  let best: Bound = { ms: 0, binding: 'longest job' };
  for (const j of trace.jobs) if (j.arrivalMs + j.durationMs > best.ms) best = { ms: j.arrivalMs + j.durationMs, binding: `longest job (${j.id})` };
  const jobs = [...trace.jobs].sort((a, b) => b.arrivalMs - a.arrivalMs);
  for (const r of resources) {
    let after = 0;
    for (const j of jobs) {
      after += r.use(j);
      const bound = j.arrivalMs + after / r.capacity;
      if (bound > best.ms) best = { ms: bound, binding: r.name };
    }
  }
  return best;
}

/** Priority bands: per-priority figures are too noisy with ~30 jobs each. */
export const BANDS = [
  { name: '1–3', lo: 1, hi: 3 },
  { name: '4–7', lo: 4, hi: 7 },
  { name: '8–10', lo: 8, hi: 10 },
] as const;

export interface WaitStats {
  count: number;
  meanS: number;
  p95S: number;
}

/** Wait = start of the attempt that completed − arrival (time lost to failed attempts counts as waiting). */
export function waits(outcomes: readonly JobOutcome[], lo: number, hi: number): WaitStats {
  const w = outcomes
    .filter((o) => !o.failed && o.startedAt !== null && o.job.priority >= lo && o.job.priority <= hi)
    .map((o) => (o.startedAt! - o.job.arrivalMs) / 1000)
    .sort((a, b) => a - b);
  if (w.length === 0) return { count: 0, meanS: Number.NaN, p95S: Number.NaN };
  return { count: w.length, meanS: w.reduce((s, x) => s + x, 0) / w.length, p95S: w[Math.min(w.length - 1, Math.ceil(0.95 * w.length) - 1)]! };
}

export function summary(result: SimResult) {
  const done = result.outcomes.filter((o) => o.finishedAt !== null && !o.failed).length;
  const failed = result.outcomes.filter((o) => o.failed).length;
  const retries = result.outcomes.reduce((s, o) => s + Math.max(0, o.attempts - 1), 0);
  return { done, failed, retries };
}
