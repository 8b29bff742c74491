/**
 * A discrete-event simulation of the box on a virtual clock: no real time, no
 * I/O. Events are arrivals, completions, the end of a process's VRAM ramp,
 * foreign processes coming and going, retries coming due, and the sampler's
 * tick. Between two events every rate is constant, so time jumps straight to
 * the next one.
 *
 * What it models, and why:
 * - Contention. A job's duration is its time running alone. The CPU, each
 *   card's SMs and each card's NVENC engine are shared: when the jobs on one
 *   ask for more than it has, each of them slows by capacity / demand. Packing
 *   more work onto a card than it can compute buys nothing, as on real
 *   hardware, and memory is held for longer.
 * - VRAM ramps. A process shows a CUDA context (≤ 300 MiB) at once and grows
 *   linearly to its true peak over its ramp; the samples see it grow.
 * - Out of memory. A card cannot hold more than it has: when a growing
 *   process of ours would exceed it, that process's allocation fails. That is
 *   an over-commit event; the attempt ends and the job is retried after the
 *   agent's backoff (its work is lost). A foreign process that cannot get its
 *   memory fails on its side and tries again 30 s later (counted apart).
 * - Samples, every `sampleMs`, as the real samplers report them: free VRAM
 *   per card, each attempt's VRAM, NVENC sessions, host CPU busy share and
 *   available memory. Policies decide from these, at every event, as the
 *   agent's admission pass runs on every sample and every job event.
 */
import { backoffDelay } from '../../../agent/scheduler/backoff.js';
import type { Needs } from '../../../agent/scheduler/admission.js';
import type { Category } from '../../../agent/config/config.schema.js';
import { mulberry32 } from '../../helpers/random.js';
import type { BoxSpec, SimJob, Trace } from './trace.js';

export interface PendingView {
  job: SimJob;
  /** Attempts made so far (failed ones). */
  attempts: number;
  runAfter: number | null;
}

export interface RunningView {
  job: SimJob;
  category: Category;
  gpuIndex: number | null;
  encoder: 'cpu' | 'nvenc';
  startedAt: number;
  reservation: Needs;
  /** VRAM the latest sample showed this attempt using; 0 if it started after the sample. */
  observedVramMb: number;
}

export interface SampleView {
  at: number;
  gpus: { index: number; totalMb: number; freeMb: number; encoderSessions: number }[];
  cpuBusyPercent: number;
  memAvailableMb: number;
}

export interface PolicyView {
  now: number;
  /** Jobs that have arrived and wait (some with a future `runAfter`). */
  queue: readonly PendingView[];
  running: readonly RunningView[];
  sample: SampleView;
  box: BoxSpec;
}

export interface Start {
  jobId: string;
  category: Category;
  gpuIndex: number | null;
  encoder: 'cpu' | 'nvenc';
  /** What the policy set aside for it (Spool reads it back as the reservation). */
  reservation: Needs;
}

/** What a finished attempt teaches, as the agent records it in profile_usage. */
export interface Usage {
  profile: string;
  peakVramMb: number;
  cpuCores: number;
  rssMb: number;
}

export interface Policy {
  name: string;
  decide(view: PolicyView): Start[];
  /** An attempt completed: what the agent writes to profile_usage. */
  completed?(usage: Usage): void;
  /** An attempt ran out of GPU memory, with what the samples had shown of it (the agent records that as a floor on the profile's VRAM). */
  failed?(usage: Usage): void;
}

export interface OverCommit {
  at: number;
  gpu: number;
  jobId: string;
  profile: string;
  /**
   * `foreign`: a foreign process took memory on that card after the failed
   * attempt was admitted (while it was still growing into what it was
   * admitted against), which no admission rule can see coming.
   * `admission`: the policy admitted more than the card could hold.
   */
  cause: 'admission' | 'foreign';
}

export interface JobOutcome {
  job: SimJob;
  /** Start of the attempt that completed (or of the last one). */
  startedAt: number | null;
  finishedAt: number | null;
  failed: boolean;
  attempts: number;
}

export interface SimResult {
  policy: string;
  makespanMs: number;
  outcomes: JobOutcome[];
  overCommits: OverCommit[];
  /** Times a foreign process could not get its memory. */
  foreignRefused: number;
  decisions: number;
  wallMs: number;
}

export interface SimOptions {
  /** @default 1000 */
  sampleMs?: number;
  /** @default 5 */
  maxAttempts?: number;
  /** Seed of the backoff jitter. @default 1 */
  seed?: number;
  /** Give up (and report unfinished jobs) after this much virtual time. @default 48 h */
  horizonMs?: number;
}

interface Attempt {
  state: JobState;
  category: Category;
  gpuIndex: number | null;
  encoder: 'cpu' | 'nvenc';
  startedAt: number;
  reservation: Needs;
  /** Work done, in ms of running alone. */
  done: number;
  rate: number;
  observedVramMb: number;
  peakObservedMb: number;
  cpuMs: number;
}

interface JobState {
  job: SimJob;
  status: 'future' | 'pending' | 'running' | 'done' | 'failed';
  attempts: number;
  runAfter: number | null;
  startedAt: number | null;
  finishedAt: number | null;
}

const CONTEXT_MB = 300;
const FOREIGN_RETRY_MS = 30_000;
const EPS = 1e-6;

/** VRAM an attempt's processes hold at `t`. */
export function vramAt(job: SimJob, startedAt: number, t: number): number {
  const peak = job.truth.vramMb;
  if (peak === 0) return 0;
  const context = Math.min(peak, CONTEXT_MB);
  const elapsed = t - startedAt;
  if (elapsed >= job.truth.rampMs) return peak;
  return context + ((peak - context) * elapsed) / job.truth.rampMs;
}

export function simulate(trace: Trace, box: BoxSpec, policy: Policy, options: SimOptions = {}): SimResult {
  const wallStart = performance.now();
  const sampleMs = options.sampleMs ?? 1000;
  const maxAttempts = options.maxAttempts ?? 5;
  const horizon = options.horizonMs ?? 48 * 3600_000;
  const jitter = mulberry32(options.seed ?? 1);

  const states: JobState[] = [...trace.jobs]
    .sort((a, b) => a.arrivalMs - b.arrivalMs)
    .map((job) => ({ job, status: 'future', attempts: 0, runAfter: null, startedAt: null, finishedAt: null }));
  const byId = new Map(states.map((s) => [s.job.id, s]));
  const foreign = trace.foreign.map((f) => ({ ...f, present: false, enteredAt: -Infinity, nextTry: f.fromMs }));
  let running: Attempt[] = [];
  const overCommits: OverCommit[] = [];
  let foreignRefused = 0;
  let decisions = 0;
  let nextArrival = 0;
  let unfinished = states.length;
  let t = 0;
  let nextSample = 0;
  let sample: SampleView = { at: -Infinity, gpus: [], cpuBusyPercent: 0, memAvailableMb: box.memMb };
  /**
   * Whether the agent would run an admission pass now: on a job event
   * (arrival, completion, failure), a `runAfter` coming due, and every
   * sample (jobs waiting on the machine are looked at again on each one).
   */
  let jobEvent = true;
  /** Time of the previous pass-or-not instant, to see a `runAfter` come due. */
  let lastT = -1;

  const gpuUse = (g: number, at: number) =>
    foreign.reduce((s, f) => s + (f.present && f.gpu === g ? f.mb : 0), 0) +
    running.reduce((s, a) => s + (a.gpuIndex === g ? vramAt(a.state.job, a.startedAt, at) : 0), 0);

  /** Each shared resource slows its users by capacity / demand when over-asked. */
  const setRates = () => {
    const cpuDemand = running.reduce((s, a) => s + a.state.job.truth.cpuCores, 0);
    const cpuFactor = Math.min(1, box.cores / Math.max(cpuDemand, EPS));
    const sm = new Array<number>(box.gpus).fill(0);
    const enc = new Array<number>(box.gpus).fill(0);
    for (const a of running) {
      if (a.gpuIndex === null) continue;
      sm[a.gpuIndex]! += a.state.job.truth.sm;
      enc[a.gpuIndex]! += a.state.job.truth.enc;
    }
    for (const a of running) {
      const truth = a.state.job.truth;
      let rate = truth.cpuCores > 0 ? cpuFactor : 1;
      if (a.gpuIndex !== null) {
        if (truth.sm > 0) rate = Math.min(rate, 1 / Math.max(1, sm[a.gpuIndex]!));
        if (truth.enc > 0) rate = Math.min(rate, 1 / Math.max(1, enc[a.gpuIndex]!));
      }
      a.rate = rate;
    }
  };

  const usageOf = (a: Attempt): Usage => {
    const wallMs = t - a.startedAt;
    return { profile: a.state.job.profile, peakVramMb: a.peakObservedMb, cpuCores: wallMs > 0 ? a.cpuMs / wallMs : 0, rssMb: a.state.job.truth.rssMb };
  };

  const view = (a: Attempt): RunningView => ({
    job: a.state.job,
    category: a.category,
    gpuIndex: a.gpuIndex,
    encoder: a.encoder,
    startedAt: a.startedAt,
    reservation: a.reservation,
    observedVramMb: a.startedAt < sample.at ? a.observedVramMb : 0,
  });

  const end = (a: Attempt) => {
    running = running.filter((r) => r !== a);
  };

  /** A growing process of ours hit the card's limit: the latest still growing fails, as its allocation is the one refused. */
  const checkMemory = () => {
    for (let g = 0; g < box.gpus; g++) {
      while (gpuUse(g, t) > box.vramMb + EPS) {
        const onCard = running.filter((a) => a.gpuIndex === g);
        const growing = onCard.filter((a) => t - a.startedAt <= a.state.job.truth.rampMs);
        const victim = (growing.length > 0 ? growing : onCard).sort((a, b) => b.startedAt - a.startedAt)[0];
        if (!victim) break;
        const cause = foreign.some((f) => f.present && f.gpu === g && f.enteredAt > victim.startedAt) ? 'foreign' : 'admission';
        overCommits.push({ at: t, gpu: g, jobId: victim.state.job.id, profile: victim.state.job.profile, cause });
        jobEvent = true;
        end(victim);
        policy.failed?.(usageOf(victim));
        const s = victim.state;
        s.attempts += 1;
        if (s.attempts >= maxAttempts) {
          s.status = 'failed';
          s.finishedAt = t;
          unfinished -= 1;
        } else {
          s.status = 'pending';
          s.runAfter = t + backoffDelay(s.attempts, 5000, 600_000, jitter);
        }
      }
    }
  };

  const takeSample = () => {
    for (const a of running) {
      a.observedVramMb = vramAt(a.state.job, a.startedAt, t);
      a.peakObservedMb = Math.max(a.peakObservedMb, a.observedVramMb);
    }
    const busyCores = running.reduce((s, a) => s + a.state.job.truth.cpuCores * a.rate, 0);
    sample = {
      at: t,
      gpus: Array.from({ length: box.gpus }, (_, g) => ({
        index: g,
        totalMb: box.vramMb,
        freeMb: Math.max(0, box.vramMb - gpuUse(g, t)),
        encoderSessions: running.filter((a) => a.gpuIndex === g && a.encoder === 'nvenc').length,
      })),
      cpuBusyPercent: Math.min(100, (busyCores / box.cores) * 100),
      memAvailableMb: box.memMb - 4096 - running.reduce((s, a) => s + a.state.job.truth.rssMb, 0),
    };
  };

  while (unfinished > 0 && t < horizon) {
    // Arrivals, foreign processes, samples, then one admission pass: the agent's order within an instant.
    while (nextArrival < states.length && states[nextArrival]!.job.arrivalMs <= t) {
      states[nextArrival++]!.status = 'pending';
      jobEvent = true;
    }
    for (const f of foreign) {
      if (f.present && t >= f.toMs) f.present = false;
      if (!f.present && t >= f.nextTry && t < f.toMs) {
        if (gpuUse(f.gpu, t) + f.mb <= box.vramMb) {
          f.present = true;
          f.enteredAt = t;
        } else {
          foreignRefused += 1;
          f.nextTry = t + FOREIGN_RETRY_MS;
        }
      }
    }
    let pass = jobEvent;
    if (t >= nextSample) {
      setRates();
      takeSample();
      nextSample = t + sampleMs;
      pass = true;
    }
    const pending = states.filter((s) => s.status === 'pending');
    if (pending.some((s) => s.runAfter !== null && s.runAfter > lastT && s.runAfter <= t)) pass = true;
    jobEvent = false;
    lastT = t;
    pass &&= pending.length > 0;
    const starts = pass ? policy.decide({ now: t, queue: pending.map((s) => ({ job: s.job, attempts: s.attempts, runAfter: s.runAfter })), running: running.map(view), sample, box }) : [];
    if (pass) decisions += 1;
    for (const start of starts) {
      const s = byId.get(start.jobId);
      if (!s || s.status !== 'pending' || (s.runAfter !== null && s.runAfter > t)) throw new Error(`policy ${policy.name} started ${start.jobId}, which is not eligible`);
      s.status = 'running';
      s.startedAt = t;
      running.push({ state: s, category: start.category, gpuIndex: start.gpuIndex, encoder: start.encoder, startedAt: t, reservation: start.reservation, done: 0, rate: 1, observedVramMb: 0, peakObservedMb: 0, cpuMs: 0 });
    }
    setRates();

    // The next event: rates are constant until then.
    let next = nextSample;
    if (nextArrival < states.length) next = Math.min(next, states[nextArrival]!.job.arrivalMs);
    for (const s of pending) if (s.runAfter !== null && s.runAfter > t) next = Math.min(next, s.runAfter);
    for (const a of running) {
      next = Math.min(next, t + (a.state.job.durationMs - a.done) / a.rate);
      const rampEnd = a.startedAt + a.state.job.truth.rampMs;
      if (rampEnd > t) next = Math.min(next, rampEnd);
    }
    for (const f of foreign) {
      if (f.present && f.toMs > t) next = Math.min(next, f.toMs);
      if (!f.present && f.nextTry > t && f.nextTry < f.toMs) next = Math.min(next, f.nextTry);
    }
    const dt = Math.max(next - t, 0);
    for (const a of running) {
      a.done += a.rate * dt;
      a.cpuMs += a.state.job.truth.cpuCores * a.rate * dt;
    }
    t = next;

    // Memory is checked before completions release theirs: usage only grows between events, so its peak is now.
    checkMemory();
    for (const a of [...running]) {
      if (a.done < a.state.job.durationMs - EPS) continue;
      end(a);
      const s = a.state;
      s.status = 'done';
      s.finishedAt = t;
      jobEvent = true;
      unfinished -= 1;
      policy.completed?.(usageOf(a));
    }
  }

  const outcomes = states.map((s) => ({ job: s.job, startedAt: s.startedAt, finishedAt: s.finishedAt, failed: s.status === 'failed', attempts: s.attempts + (s.status === 'done' ? 1 : 0) }));
  const makespanMs = Math.max(0, ...outcomes.map((o) => o.finishedAt ?? horizon));
  return { policy: policy.name, makespanMs, outcomes, overCommits, foreignRefused, decisions, wallMs: performance.now() - wallStart };
}
