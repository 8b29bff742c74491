/**
 * What a job of a profile is expected to need: max(declared, learned), where
 * learned is a high percentile of the profile's recent attempts with a
 * margin. The first jobs of a new profile run on its declared figures and
 * teach the rest.
 */
import type { Db } from '../db/database.js';
import { recentUsage } from '../db/attempt.repository.js';
import type { Profile } from '../config/config.schema.js';
import type { Needs } from './admission.js';

/** How many recent attempts a profile learns from. */
const WINDOW = 20;
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
  samples: number;
}

export interface Estimator {
  needs(profileName: string, profile: Profile, inputBytes: number): Needs;
  learned(profileName: string): Learned | undefined;
  /** Expected run time of a job of this profile on `inputBytes`, from history; null before any. */
  runSeconds(profileName: string, inputBytes: number): number | null;
  /** Re-reads a profile's history (after one of its attempts finished). */
  refresh(profileName: string): Promise<void>;
}

export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

export function createEstimator(db: Db): Estimator {
  const cache = new Map<string, Learned>();
  return {
    needs(profileName, profile, inputBytes) {
      const learned = cache.get(profileName);
      const inputMb = inputBytes / 1e6;
      return {
        vramMb: Math.ceil(Math.max(profile.vramMb, (learned?.vramMb ?? 0) * MARGIN.vram)),
        cpuCores: Math.max(profile.cpuCores, (learned?.cpuCores ?? 0) * MARGIN.cpu),
        rssMb: Math.ceil(Math.max(learned?.rssMb != null ? learned.rssMb * MARGIN.rss : DEFAULT_RSS_MB, 1)),
        outputMb: inputMb * (learned?.outputRatio != null ? learned.outputRatio * MARGIN.output : 1),
      };
    },
    learned: (profileName) => cache.get(profileName),
    runSeconds(profileName, inputBytes) {
      const perMb = cache.get(profileName)?.secondsPerMb;
      return perMb == null ? null : Math.round(perMb * Math.max(inputBytes / 1e6, 0.001) * 10) / 10;
    },
    async refresh(profileName) {
      const rows = await recentUsage(db, profileName, WINDOW);
      const values = <T>(pick: (r: (typeof rows)[number]) => T | null) => rows.map(pick).filter((v): v is T => v !== null);
      cache.set(profileName, {
        vramMb: percentile(values((r) => r.peak_vram_mb), PERCENTILE),
        cpuCores: percentile(values((r) => (r.cpu_seconds !== null && r.wall_seconds > 0 ? r.cpu_seconds / r.wall_seconds : null)), PERCENTILE),
        rssMb: percentile(values((r) => (r.peak_rss_bytes === null ? null : r.peak_rss_bytes / 2 ** 20)), PERCENTILE),
        outputRatio: percentile(values((r) => (r.input_bytes > 0 ? r.output_bytes / r.input_bytes : null)), PERCENTILE),
        speed: percentile(values((r) => (r.media_seconds !== null && r.wall_seconds > 0 ? r.media_seconds / r.wall_seconds : null)), 0.5),
        secondsPerMb: percentile(values((r) => (r.input_bytes > 0 ? r.wall_seconds / (r.input_bytes / 1e6) : null)), 0.5),
        samples: rows.length,
      });
    },
  };
}
