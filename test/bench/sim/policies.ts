/**
 * The policies the simulator compares. Spool's is the agent's own
 * `decideAdmissions`, fed the way the agent feeds it (learned estimates, live
 * samples, reservations); the two static ones are what the design says people
 * run today: a fixed worker count per category, and a sum of declared VRAM
 * checked against the card size.
 */
import { decideAdmissions, effectivePriority, type Limits, type Needs, type QueuedJob, type RunningAttempt, type Samples } from '../../../agent/scheduler/admission.js';
import { estimateNeeds, learnFrom, USAGE_WINDOW, type Learned, type Observation } from '../../../agent/scheduler/estimates.js';
import type { Category } from '../../../agent/config/config.schema.js';
import type { PendingView, Policy, PolicyView, Start, Usage } from './engine.js';
import type { SimJob } from './trace.js';

/** The agent's defaults (config.schema.ts); the worker counts are set per run. */
export const SPOOL_LIMITS: Limits = {
  concurrency: { cpu: 4, gpu_encode: 4, gpu_ai: 2 },
  agingMs: 600_000,
  queuePaused: false,
  headroomMb: 512,
  cpuCeilingPercent: 90,
  starvationMs: 900_000,
  minFreeDiskMb: 1024,
};

/**
 * The agent's estimator (agent/scheduler/estimates.ts, its very functions)
 * over an in-memory profile_usage: the last USAGE_WINDOW attempts of each
 * profile, completed ones and ones that died holding GPU memory, as the
 * executor records them.
 */
export function createLearner() {
  const history = new Map<string, Observation[]>();
  /** Like the agent's estimator cache: recomputed when an attempt of the profile ends, not per decision. */
  const learned = new Map<string, Learned>();
  return {
    record(usage: Usage, outcome: Observation['outcome'] = 'completed') {
      if (outcome === 'failed' && usage.peakVramMb <= 0) return;
      const row: Observation =
        outcome === 'completed'
          ? { outcome, peakVramMb: usage.peakVramMb || null, cpuCores: usage.cpuCores, rssMb: usage.rssMb, outputRatio: null, speed: null, secondsPerMb: null }
          : { outcome, peakVramMb: usage.peakVramMb, cpuCores: null, rssMb: null, outputRatio: null, speed: null, secondsPerMb: null };
      const rows = [row, ...(history.get(usage.profile) ?? [])].slice(0, USAGE_WINDOW);
      history.set(usage.profile, rows);
      learned.set(usage.profile, learnFrom(rows));
    },
    learned: (profile: string) => learned.get(profile),
    needs(job: SimJob): Needs {
      // No outbox in the simulation: the output estimate is not used.
      return { ...estimateNeeds(job.declared, learned.get(job.profile), 0), outputMb: 0 };
    },
  };
}

function toQueued(p: PendingView, needs: Needs, profileCompleted: boolean): QueuedJob {
  const { job } = p;
  return {
    id: job.id,
    profile: job.profile,
    profileCompleted,
    kind: job.kind,
    category: job.category,
    priority: job.priority,
    createdAt: job.arrivalMs,
    runAfter: p.runAfter,
    attempts: p.attempts,
    maxAttempts: 5,
    encoder: job.encoder,
    unmetDependencies: 0,
    blockingDependency: null,
    brokenDependencies: 0,
    needs,
    outboxDevice: null,
  };
}

/** The samples as the agent's Machine hands them to admission. */
export function toSamples(view: PolicyView): Samples {
  const { sample, box } = view;
  return {
    gpus: sample.gpus.map((g) => ({
      index: g.index,
      name: 'NVIDIA RTX A5000',
      nvenc: true,
      memoryFreeMb: g.freeMb,
      memoryTotalMb: g.totalMb,
      encoderSessions: g.encoderSessions,
      nvencSessionLimit: box.nvencSessionLimit,
    })),
    gpuAt: sample.at,
    gpuProblem: sample.gpus.length === 0 ? 'no sample yet' : null,
    system: { at: sample.at, cores: box.cores, cpuBusyPercent: sample.cpuBusyPercent, memAvailableMb: sample.memAvailableMb },
    disks: {},
  };
}

/**
 * Spool's policy. `history` stands for what the agent already learned on
 * earlier days (profile_usage survives restarts); without it every profile
 * starts cold, on its declared figures. `decide` is the agent's function;
 * another may be passed to try a change to it on the same traces.
 */
export function spoolPolicy(name: string, limits: Limits, history: readonly Usage[] = [], decide: typeof decideAdmissions = decideAdmissions): Policy {
  const learner = createLearner();
  for (const usage of history) learner.record(usage);
  return {
    name,
    decide(view) {
      const needs = new Map(view.queue.map((p) => [p.job.id, learner.needs(p.job)]));
      const queue = view.queue.map((p) => toQueued(p, needs.get(p.job.id)!, (learner.learned(p.job.profile)?.samples ?? 0) > 0));
      const running: RunningAttempt[] = view.running.map((r) => ({
        jobId: r.job.id,
        profile: r.job.profile,
        profileCompleted: (learner.learned(r.job.profile)?.samples ?? 0) > 0,
        category: r.category,
        gpuIndex: r.gpuIndex,
        encoder: r.encoder,
        startedAt: r.startedAt,
        reservation: r.reservation,
        observedVramMb: r.observedVramMb,
        outboxDevice: null,
      }));
      const decision = decide(queue, running, toSamples(view), limits, view.now);
      return decision.admit.map((a) => ({ jobId: a.jobId, category: a.category, gpuIndex: a.placement.gpuIndex, encoder: a.placement.encoder, reservation: needs.get(a.jobId)! }));
    },
    completed: (usage) => learner.record(usage),
    failed: (usage) => learner.record(usage, 'failed'),
  };
}

/**
 * A static policy: category worker counts and, optionally, Σ declared VRAM on
 * a card against its size. It never looks at a sample, so foreign processes
 * and real usage are invisible to it. Jobs are taken in the same order as
 * Spool's (priority with aging, FIFO) and may skip a job that does not fit,
 * so the comparison is about the resource rule alone.
 */
export function staticPolicy(name: string, workers: Record<Category, number>, rule: 'round-robin' | 'declared-sum', agingMs = SPOOL_LIMITS.agingMs): Policy {
  let turn = 0;
  return {
    name,
    decide(view) {
      const busy: Record<Category, number> = { cpu: 0, gpu_encode: 0, gpu_ai: 0 };
      const declared = new Array<number>(view.box.gpus).fill(0);
      for (const r of view.running) {
        busy[r.category] += 1;
        if (r.gpuIndex !== null) declared[r.gpuIndex]! += r.job.declared.vramMb;
      }
      const eligible = view.queue
        .filter((p) => p.runAfter === null || p.runAfter <= view.now)
        .sort(
          (a, b) =>
            effectivePriority({ priority: a.job.priority, createdAt: a.job.arrivalMs }, view.now, agingMs) -
              effectivePriority({ priority: b.job.priority, createdAt: b.job.arrivalMs }, view.now, agingMs) ||
            a.job.arrivalMs - b.job.arrivalMs ||
            (a.job.id < b.job.id ? -1 : 1),
        );
      const starts: Start[] = [];
      for (const { job } of eligible) {
        if (busy[job.category] >= workers[job.category]) continue;
        const reservation: Needs = { vramMb: job.declared.vramMb, cpuCores: job.declared.cpuCores, rssMb: 0, outputMb: 0 };
        let gpuIndex: number | null = null;
        if (job.category !== 'cpu') {
          if (rule === 'round-robin') {
            gpuIndex = turn++ % view.box.gpus;
          } else {
            // The card with the most declared room that still fits it (spreads the load).
            const fits = declared.map((d, g) => ({ d, g })).filter(({ d }) => d + job.declared.vramMb <= view.box.vramMb);
            if (fits.length === 0) continue;
            gpuIndex = fits.sort((a, b) => a.d - b.d || a.g - b.g)[0]!.g;
          }
          declared[gpuIndex]! += job.declared.vramMb;
        }
        busy[job.category] += 1;
        starts.push({ jobId: job.id, category: job.category, gpuIndex, encoder: job.encoder === 'nvenc' ? 'nvenc' : 'cpu', reservation });
      }
      return starts;
    },
  };
}
