/**
 * The live GPU sample admission decides from. Sampling strategy (figures in
 * test/bench/GPU-SAMPLER-NOTES.md):
 *
 * - every tick runs the cheap CSV pair (`--query-compute-apps`, then
 *   `--query-gpu`): each compute process's memory, then memory,
 *   utilisation and NVENC sessions are all admission needs;
 * - ticks come every `intervalMs` while GPU work is queued or running
 *   (`setActive(true)`), and every `idleIntervalMs` otherwise, so an idle
 *   agent spawns nvidia-smi twice per 30 s instead of twice a second;
 * - the full `-q -x` document (1.8 times the CPU of the CSV pair on one
 *   H200, more with more GPUs, and the only form listing graphics
 *   processes) is read only on demand,
 *   through `sampleNow({ full: true })`.
 *
 * Calls never overlap: a tick or a `sampleNow` that arrives while a sample
 * is in flight shares it. A failed or timed-out call gives a snapshot that
 * is not ok and stale, and one `sampler:error` event per distinct problem;
 * the first good sample after it gives `sampler:recovered`.
 */
import { systemClock, type Clock } from '../clock.js';
import { coerceError, SpoolError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { GpuParseResult, GpuSnapshot } from './gpu-snapshot.js';
import { parseNvidiaSmiCsv, QUERY_APPS_ARGS, QUERY_GPU_ARGS } from './nvidia-smi-csv.js';
import { createNvidiaSmiRunner } from './nvidia-smi-run.js';
import { parseNvidiaSmiXml } from './nvidia-smi-xml.js';

export interface GpuSamplerEvent {
  type: 'sampler:error' | 'sampler:recovered';
  message: string;
}

export interface GpuSamplerOptions {
  /** Sampling period while GPU work is queued or running. */
  intervalMs: number;
  /** Longest one nvidia-smi call may take; past it the child is killed and the sample is stale. */
  timeoutMs: number;
  /** Sampling period while nothing GPU-bound is queued or running. @default 30000 */
  idleIntervalMs?: number;
  /** @default systemClock */
  clock?: Clock;
  /** Sampler errors and recoveries; a listener that throws is logged, never fatal. */
  onEvent?: (event: GpuSamplerEvent) => void;
  /** @default silentLogger */
  logger?: Logger;
  /** Environment whose PATH finds nvidia-smi. @default process.env */
  env?: NodeJS.ProcessEnv;
}

export interface GpuSampler {
  start(): void;
  /** Stops the loop and waits for a sample in flight to settle. */
  stop(): Promise<void>;
  /** The last snapshot; `stale` also turns true once it is older than its interval allows. */
  latest(): GpuSnapshot;
  /** Samples now (the CSV pair, or `-q -x` with `full`), sharing a sample already in flight. */
  sampleNow(options?: { full?: boolean }): Promise<GpuSnapshot>;
  /** Whether GPU work is queued or running: picks the fast or the slow period. */
  setActive(active: boolean): void;
}

export function createGpuSampler(options: GpuSamplerOptions): GpuSampler {
  for (const key of ['intervalMs', 'timeoutMs', 'idleIntervalMs'] as const) {
    const value = options[key];
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
      throw new SpoolError('CONFIG_INVALID', `Expected \`${key}\` to be a positive number of milliseconds, got ${String(value)}`);
    }
  }
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const idleIntervalMs = options.idleIntervalMs ?? 30_000;
  const runner = createNvidiaSmiRunner({ timeoutMs: options.timeoutMs, env: options.env, clock });
  let snapshot: GpuSnapshot = { at: 0, takenAt: Number.NEGATIVE_INFINITY, ok: false, stale: true, error: 'not sampled yet', gpus: [] };
  let active = false;
  let running = false;
  let cancelTick: (() => void) | null = null;
  let inFlight: { full: boolean; promise: Promise<GpuSnapshot> } | null = null;
  let reportedError: string | null = null;

  const period = () => (active ? options.intervalMs : idleIntervalMs);

  const emit = (event: GpuSamplerEvent) => {
    try {
      options.onEvent?.(event);
    } catch (error) {
      logger.error(`listener for ${event.type} threw: ${coerceError(error).message}`);
    }
  };

  async function take(full: boolean): Promise<GpuSnapshot> {
    const at = clock.now();
    const takenAt = clock.monotonic();
    let parsed: GpuParseResult;
    if (full) {
      const xml = await runner.run(['-q', '-x']);
      parsed = xml.ok ? parseNvidiaSmiXml(xml.stdout) : xml;
    } else {
      // Processes first, memory second: the two answers are moments apart,
      // and memory a process gains in between then shows in `used` without
      // being credited to it, so admission counts it twice (safe), never not
      // at all (the reverse order would let a just-grown process look paid for).
      const apps = await runner.run(QUERY_APPS_ARGS);
      const cards = apps.ok ? await runner.run(QUERY_GPU_ARGS) : apps;
      parsed = !apps.ok ? apps : !cards.ok ? cards : parseNvidiaSmiCsv(cards.stdout, apps.stdout);
    }
    return parsed.ok ? { at, takenAt, ok: true, stale: false, error: null, gpus: parsed.gpus } : { at, takenAt, ok: false, stale: true, error: parsed.error, gpus: [] };
  }

  function record(next: GpuSnapshot): void {
    snapshot = next;
    if (!next.ok && next.error !== reportedError) {
      reportedError = next.error;
      logger.warn(`GPU sampler: ${next.error}`);
      emit({ type: 'sampler:error', message: next.error ?? 'unknown error' });
    } else if (next.ok && reportedError !== null) {
      logger.info(`GPU sampler recovered after: ${reportedError}`);
      emit({ type: 'sampler:recovered', message: `nvidia-smi answers again (was: ${reportedError})` });
      reportedError = null;
    }
  }

  function sample(full: boolean): Promise<GpuSnapshot> {
    // A full sample asked for during a cheap one waits for it, then runs:
    // the caller wants the process details only the XML has.
    if (inFlight && (inFlight.full || !full)) return inFlight.promise;
    const before = inFlight?.promise ?? Promise.resolve(snapshot);
    const promise = before
      .then(() => take(full))
      .catch((error: unknown): GpuSnapshot => ({ at: clock.now(), takenAt: clock.monotonic(), ok: false, stale: true, error: `GPU sampler failed: ${coerceError(error).message}`, gpus: [] }))
      .then((next) => {
        record(next);
        if (inFlight?.promise === promise) inFlight = null;
        return next;
      });
    inFlight = { full, promise };
    return promise;
  }

  function schedule(delayMs: number): void {
    cancelTick?.();
    if (!running) return;
    cancelTick = clock.setTimeout(() => {
      cancelTick = null;
      void sample(false).then(() => {
        if (running && cancelTick === null) schedule(period());
      });
    }, delayMs);
  }

  return {
    start() {
      if (running) return;
      running = true;
      schedule(0);
    },
    async stop() {
      running = false;
      cancelTick?.();
      cancelTick = null;
      await inFlight?.promise;
    },
    latest() {
      // The loop is clearly behind once two periods plus a call's time limit
      // have passed without a new sample: its figures no longer describe the card.
      const tooOld = clock.monotonic() - snapshot.takenAt > 2 * period() + options.timeoutMs;
      return tooOld && !snapshot.stale ? { ...snapshot, stale: true } : snapshot;
    },
    sampleNow(request) {
      return sample(request?.full ?? false);
    },
    setActive(value) {
      if (value === active) return;
      active = value;
      // Work just arrived: sample at once if the last one is older than the fast period.
      if (running && !inFlight) schedule(Math.max(0, snapshot.takenAt + period() - clock.monotonic()));
    },
  };
}
