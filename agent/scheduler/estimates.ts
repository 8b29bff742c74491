/**
 * What a job of a profile is expected to need: max(declared, learned), where
 * learned is a high percentile of the profile's recent attempts with a
 * margin. The first jobs of a new profile run on its declared figures and
 * teach the rest.
 *
 * Attempts that died (out of GPU memory, killed, timed out) teach too, but
 * only VRAM: what they were seen holding is a floor on what the profile
 * needs, since it may have died asking for more. Without that, a profile
 * that under-declares its VRAM keeps being admitted on the declaration and
 * keeps dying (test/bench/SIM-NOTES.md, "Cold start"). Their run time, CPU
 * and output say nothing about a finished run, so those come from completed
 * attempts only.
 *
 * `learnFrom` and `estimateNeeds` are pure, so the scheduling simulator
 * learns with this very code.
 */
import type { Db } from '../db/database.js';
import { recentUsage } from '../db/attempt.repository.js';
import type { UsageRow } from '../db/tables.js';
import type { Needs } from './admission.js';

/** How many recent attempts a profile learns from. */
export const USAGE_WINDOW = 20;
const PERCENTILE = 0.9;
/** Multipliers over the observed percentile. */
const MARGIN = { vram: 1.1, cpu: 1.1, rss: 1.2, output: 1.1 };
/** Memory a job is assumed to need before anything is learned (ffmpeg at 1080p). */
const DEFAULT_RSS_MB = 200;

export interface Learned {
  vramMb: number | null;
  cpuCores: number | null;
  rssMb: number | null;
  /** Output bytes per input byte. */
  outputRatio: number | null;
  /** Media seconds processed per wall second. */
  speed: number | null;
  /** Wall seconds per input MB (the run-time estimate of a job not yet started). */
  secondsPerMb: number | null;
  /** Completed attempts the figures come from; until there is one, admission runs the profile's GPU jobs one at a time. */
  samples: number;
}

/** One recorded attempt, as the estimator reads it. */
export interface Observation {
  outcome: 'completed' | 'failed';
  peakVramMb: number | null;
  cpuCores: number | null;
  rssMb: number | null;
  outputRatio: number | null;
  speed: number | null;
  secondsPerMb: number | null;
}

export interface Estimator {
  needs(profileName: string, profile: Declared, inputBytes: number): Needs;
  learned(profileName: string): Learned | undefined;
  /** Expected run time of a job of this profile on `inputBytes`, from history; null before any. */
  runSeconds(profileName: string, inputBytes: number): number | null;
  /** Re-reads a profile's history (after one of its attempts finished). */
  refresh(profileName: string): Promise<void>;
}

/** The profile's declared figures (its YAML). */
export interface Declared {
  vramMb: number;
  cpuCores: number;
}

export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

/** What a profile's recent attempts (newest first, at most the window) teach. */
export function learnFrom(rows: readonly Observation[]): Learned {
  const completed = rows.filter((r) => r.outcome === 'completed');
  const values = (pick: (r: Observation) => number | null, from = completed) => from.map(pick).filter((v): v is number => v !== null);
  const fromCompleted = percentile(values((r) => r.peakVramMb), PERCENTILE);
  const died = values(
    (r) => r.peakVramMb,
    rows.filter((r) => r.outcome === 'failed'),
  );
  const floor = died.length > 0 ? Math.max(...died) : null;
  return {
    vramMb: fromCompleted === null && floor === null ? null : Math.max(fromCompleted ?? 0, floor ?? 0),
    cpuCores: percentile(values((r) => r.cpuCores), PERCENTILE),
    rssMb: percentile(values((r) => r.rssMb), PERCENTILE),
    outputRatio: percentile(values((r) => r.outputRatio), PERCENTILE),
    speed: percentile(values((r) => r.speed), 0.5),
    secondsPerMb: percentile(values((r) => r.secondsPerMb), 0.5),
    samples: completed.length,
  };
}

/** max(declared, learned × margin); memory and output default before anything is learned. */
export function estimateNeeds(declared: Declared, learned: Learned | undefined, inputBytes: number): Needs {
  const inputMb = inputBytes / 1e6;
  return {
    vramMb: Math.ceil(Math.max(declared.vramMb, (learned?.vramMb ?? 0) * MARGIN.vram)),
    cpuCores: Math.max(declared.cpuCores, (learned?.cpuCores ?? 0) * MARGIN.cpu),
    rssMb: Math.ceil(Math.max(learned?.rssMb != null ? learned.rssMb * MARGIN.rss : DEFAULT_RSS_MB, 1)),
    outputMb: inputMb * (learned?.outputRatio != null ? learned.outputRatio * MARGIN.output : 1),
  };
}

/** A profile_usage row as an observation (older rows, recorded before failed attempts were, are all completed ones). */
export function observationOf(r: UsageRow): Observation {
  return {
    outcome: r.outcome === 'failed' ? 'failed' : 'completed',
    peakVramMb: r.peak_vram_mb,
    cpuCores: r.cpu_seconds !== null && r.wall_seconds > 0 ? r.cpu_seconds / r.wall_seconds : null,
    rssMb: r.peak_rss_bytes === null ? null : r.peak_rss_bytes / 2 ** 20,
    outputRatio: r.input_bytes > 0 ? r.output_bytes / r.input_bytes : null,
    speed: r.media_seconds !== null && r.wall_seconds > 0 ? r.media_seconds / r.wall_seconds : null,
    secondsPerMb: r.input_bytes > 0 ? r.wall_seconds / (r.input_bytes / 1e6) : null,
  };
}

export function createEstimator(db: Db): Estimator {
  const cache = new Map<string, Learned>();
  return {
    needs: (profileName, profile, inputBytes) => estimateNeeds(profile, cache.get(profileName), inputBytes),
    learned: (profileName) => cache.get(profileName),
    runSeconds(profileName, inputBytes) {
      const perMb = cache.get(profileName)?.secondsPerMb;
      return perMb == null ? null : Math.round(perMb * Math.max(inputBytes / 1e6, 0.001) * 10) / 10;
    },
    async refresh(profileName) {
      cache.set(profileName, learnFrom((await recentUsage(db, profileName, USAGE_WINDOW)).map(observationOf)));
    },
  };
}
