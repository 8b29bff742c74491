/**
 * The last minutes of an appliance's samples, for the small charts. One
 * entry per applianceUpdated event (about one a second); older ones drop off.
 */
import type { ApplianceState } from '../lib/types';

export const HISTORY_MS = 5 * 60_000;

export interface Sample {
  at: number;
  cpuPercent: number | null;
  memoryUsedPercent: number;
  /** By GPU index. */
  gpus: Record<number, { utilizationPercent: number | null; memoryUsedPercent: number }>;
}

export function sampleOf(state: ApplianceState, at: number): Sample {
  const gpus: Sample['gpus'] = {};
  for (const gpu of state.gpus) {
    gpus[gpu.index] = { utilizationPercent: gpu.utilizationPercent, memoryUsedPercent: gpu.memoryTotalMb > 0 ? (100 * gpu.memoryUsedMb) / gpu.memoryTotalMb : 0 };
  }
  const { totalMb, availableMb } = state.memory;
  return { at, cpuPercent: state.cpu.busyPercent, memoryUsedPercent: totalMb > 0 ? (100 * (totalMb - availableMb)) / totalMb : 0, gpus };
}

/** A new history with `sample` appended and entries older than the window dropped. */
export function appendSample(history: readonly Sample[], sample: Sample, windowMs = HISTORY_MS): Sample[] {
  const cutoff = sample.at - windowMs;
  let start = 0;
  while (start < history.length && history[start]!.at < cutoff) start++;
  return [...history.slice(start), sample];
}
