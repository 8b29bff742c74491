/**
 * The machine's CPU and memory as admission sees them, plus free disk space
 * where outputs are written. CPU busy share needs two reads of /proc/stat:
 * the counters are cumulative since boot, and only their difference over an
 * interval says how busy the box is now. Each tick reads two small /proc
 * files, so the loop costs next to nothing even every second.
 *
 * The figures are host-wide: a cgroup CPU quota is reflected in `cores`
 * (os.availableParallelism honours it), not in the busy share.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { systemClock, type Clock } from '../clock.js';
import { coerceError } from '../errors.js';
import { cpuBusyShare, parseMeminfo, parseProcStat, type CpuTimes } from './proc-parse.js';

export interface SystemSnapshot {
  /** Epoch ms of the later /proc/stat read. */
  at: number;
  /** The same moment on the monotonic clock (attempts started after it are not in its figures). */
  takenAt: number;
  /** CPUs this process may use. */
  cores: number;
  /** Busy share of all CPUs since the previous read (0–1); null until two reads exist. */
  cpuBusyShare: number | null;
  memTotalMb: number;
  memAvailableMb: number;
  /** Why the figures could not be read; null when they were. */
  error: string | null;
}

export interface SystemSamplerOptions {
  /** Period of the loop. @default 2000 */
  intervalMs?: number;
  /** Gap between the two reads when a share is asked for before any read. @default 100 */
  firstSpanMs?: number;
  /** @default systemClock */
  clock?: Clock;
  /** @default '/proc' */
  procRoot?: string;
}

export interface SystemSampler {
  start(): void;
  stop(): Promise<void>;
  latest(): SystemSnapshot;
  sampleNow(): Promise<SystemSnapshot>;
}

export function createSystemSampler(options: SystemSamplerOptions = {}): SystemSampler {
  const clock = options.clock ?? systemClock;
  const proc = options.procRoot ?? '/proc';
  const intervalMs = options.intervalMs ?? 2000;
  const cores = os.availableParallelism();
  let previous: CpuTimes | null = null;
  let snapshot: SystemSnapshot = { at: 0, takenAt: Number.NEGATIVE_INFINITY, cores, cpuBusyShare: null, memTotalMb: 0, memAvailableMb: 0, error: 'not sampled yet' };
  let cancel: (() => void) | null = null;
  let inFlight: Promise<SystemSnapshot> | null = null;

  const wait = (ms: number) => new Promise<void>((resolve) => clock.setTimeout(resolve, ms));

  async function read(): Promise<SystemSnapshot> {
    let at = clock.now();
    let takenAt = clock.monotonic();
    try {
      let times = parseProcStat(await fs.readFile(path.join(proc, 'stat'), 'utf8'));
      if (times && !previous) {
        previous = times;
        await wait(options.firstSpanMs ?? 100);
        at = clock.now();
        takenAt = clock.monotonic();
        times = parseProcStat(await fs.readFile(path.join(proc, 'stat'), 'utf8'));
      }
      const memory = parseMeminfo(await fs.readFile(path.join(proc, 'meminfo'), 'utf8'));
      if (!times || !memory) return { ...snapshot, at, takenAt, cpuBusyShare: null, error: 'unexpected /proc/stat or /proc/meminfo content' };
      const share = previous ? cpuBusyShare(previous, times) : null;
      previous = times;
      return { at, takenAt, cores, cpuBusyShare: share, ...memory, error: null };
    } catch (error) {
      return { ...snapshot, at, takenAt, cpuBusyShare: null, error: `cannot read ${proc}: ${coerceError(error).message}` };
    }
  }

  function sampleNow(): Promise<SystemSnapshot> {
    inFlight ??= read().then((next) => {
      snapshot = next;
      inFlight = null;
      return next;
    });
    return inFlight;
  }

  function tick(): void {
    cancel = clock.setTimeout(() => {
      void sampleNow().then(() => {
        if (cancel) tick();
      });
    }, intervalMs);
  }

  return {
    start() {
      if (cancel) return;
      cancel = () => {};
      void sampleNow().then(() => {
        if (cancel) tick();
      });
    },
    async stop() {
      cancel?.();
      cancel = null;
      await inFlight;
    },
    latest: () => snapshot,
    sampleNow,
  };
}

export interface DiskFree {
  path: string;
  /** Space an unprivileged writer may still use, in MiB; null when the path cannot be read. */
  freeMb: number | null;
  /** The filesystem's device id: paths sharing one share the same free space. */
  device: number | null;
  error: string | null;
}

/** Free space of the filesystem holding each path (statfs `bavail`: what is left without root's reserve). */
export async function freeDiskMb(paths: readonly string[]): Promise<DiskFree[]> {
  return Promise.all(
    paths.map(async (p): Promise<DiskFree> => {
      try {
        const [stats, stat] = await Promise.all([fs.statfs(p), fs.stat(p)]);
        return { path: p, freeMb: Math.floor((stats.bavail * stats.bsize) / 2 ** 20), device: stat.dev, error: null };
      } catch (error) {
        return { path: p, freeMb: null, device: null, error: coerceError(error).message };
      }
    }),
  );
}
