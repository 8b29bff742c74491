/**
 * Admission: which pending jobs start now. A pure function of the queue, the
 * running attempts, the machine's samples, the limits and the time: no I/O,
 * no clock, no await, so it is tested with tables of cases and the loop
 * around it can change without touching it (and it without the loop).
 *
 * This version admits by per-category concurrency. Its inputs already carry
 * the samples so that the resource-aware version replaces only the inside.
 */
import type { Category, Kind } from '../config/config.schema.js';
import type { Placement } from '../runner/kind.js';

export interface QueuedJob {
  id: string;
  kind: Kind;
  category: Category;
  priority: number;
  createdAt: number;
  runAfter: number | null;
  attempts: number;
  maxAttempts: number;
  /** Encoder choice for transcodes (`auto` picks at admission); null for other kinds. */
  encoder: 'auto' | 'cpu' | 'nvenc' | null;
  /** Dependencies not yet completed, one of them named for the reason. */
  unmetDependencies: number;
  blockingDependency: string | null;
  /** Dependencies that ended failed or cancelled. */
  brokenDependencies: number;
}

export interface RunningAttempt {
  jobId: string;
  /** The category it counts against (a CPU-placed `auto` transcode counts as cpu). */
  category: Category;
  gpuIndex: number | null;
}

export interface GpuSample {
  index: number;
  name: string;
  /** Whether this GPU can take NVENC work (ffmpeg has the encoder and the card has NVENC). */
  nvenc: boolean;
}

export interface Samples {
  gpus: readonly GpuSample[];
  /** Why there is no GPU, when `gpus` is empty ("nvidia-smi not found"). */
  gpuProblem: string | null;
}

export interface Limits {
  concurrency: Record<Category, number>;
  /** A waiting job gains one priority step per this many ms. */
  agingMs: number;
  queuePaused: boolean;
}

export interface Admit {
  jobId: string;
  category: Category;
  placement: Placement;
}

export interface Decision {
  admit: Admit[];
  /** Jobs left waiting, with the reason in words an operator understands. */
  wait: { jobId: string; reason: string }[];
  /** Jobs that can never run: a dependency failed or was cancelled. */
  fail: { jobId: string; reason: string }[];
  /** The earliest future `runAfter`: when to look again without any event. */
  wakeAt: number | null;
}

/** Priority after aging: one step better per `agingMs` waited (lower is better). */
export function effectivePriority(job: Pick<QueuedJob, 'priority' | 'createdAt'>, now: number, agingMs: number): number {
  return job.priority - Math.floor(Math.max(0, now - job.createdAt) / agingMs);
}

export function decideAdmissions(
  queue: readonly QueuedJob[],
  running: readonly RunningAttempt[],
  samples: Samples,
  limits: Limits,
  now: number,
): Decision {
  const decision: Decision = { admit: [], wait: [], fail: [], wakeAt: null };
  const busy: Record<Category, number> = { cpu: 0, gpu_encode: 0, gpu_ai: 0 };
  const perGpu = new Map<number, number>();
  for (const attempt of running) {
    busy[attempt.category] += 1;
    if (attempt.gpuIndex !== null) perGpu.set(attempt.gpuIndex, (perGpu.get(attempt.gpuIndex) ?? 0) + 1);
  }

  const ordered = [...queue].sort(
    (a, b) =>
      effectivePriority(a, now, limits.agingMs) - effectivePriority(b, now, limits.agingMs) ||
      a.createdAt - b.createdAt ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );

  for (const job of ordered) {
    if (job.brokenDependencies > 0) {
      decision.fail.push({ jobId: job.id, reason: 'a job it depends on failed or was cancelled' });
      continue;
    }
    if (job.unmetDependencies > 0) {
      const more = job.unmetDependencies > 1 ? ` and ${job.unmetDependencies - 1} more` : '';
      decision.wait.push({ jobId: job.id, reason: `waiting for job ${job.blockingDependency ?? '?'}${more} to complete` });
      continue;
    }
    if (job.runAfter !== null && job.runAfter > now) {
      decision.wakeAt = Math.min(decision.wakeAt ?? Infinity, job.runAfter);
      const at = new Date(job.runAfter).toISOString();
      decision.wait.push({
        jobId: job.id,
        reason: job.attempts > 0 ? `attempt ${job.attempts + 1} of ${job.maxAttempts} waits until ${at} (backoff)` : `scheduled to run at ${at}`,
      });
      continue;
    }
    if (limits.queuePaused) {
      decision.wait.push({ jobId: job.id, reason: 'the queue is paused' });
      continue;
    }
    const placed = place(job, samples, perGpu);
    if ('reason' in placed) {
      decision.wait.push({ jobId: job.id, reason: placed.reason });
      continue;
    }
    const limit = limits.concurrency[placed.category];
    if (busy[placed.category] >= limit) {
      decision.wait.push({
        jobId: job.id,
        reason: limit === 0 ? `the ${placed.category} category is switched off (concurrency 0)` : `waiting for a ${placed.category} slot (${busy[placed.category]} of ${limit} running)`,
      });
      continue;
    }
    busy[placed.category] += 1;
    if (placed.placement.gpuIndex !== null) perGpu.set(placed.placement.gpuIndex, (perGpu.get(placed.placement.gpuIndex) ?? 0) + 1);
    decision.admit.push({ jobId: job.id, category: placed.category, placement: placed.placement });
  }
  return decision;
}

/**
 * Where a job would run. GPU work goes to the GPU with the fewest of our
 * attempts on it, the lowest index on a tie (deterministic, spreads load).
 * An `auto` transcode takes NVENC when a GPU offers it and the CPU otherwise.
 */
function place(
  job: QueuedJob,
  samples: Samples,
  perGpu: ReadonlyMap<number, number>,
): { category: Category; placement: Placement } | { reason: string } {
  const noGpu = `no GPU (${samples.gpuProblem ?? 'none found'})`;
  const leastBusy = (gpus: readonly GpuSample[]) =>
    [...gpus].sort((a, b) => (perGpu.get(a.index) ?? 0) - (perGpu.get(b.index) ?? 0) || a.index - b.index)[0];

  if (job.kind === 'transcode' && job.encoder !== null) {
    const nvencGpus = samples.gpus.filter((g) => g.nvenc);
    if (job.encoder === 'cpu') return { category: job.category, placement: { encoder: 'cpu', gpuIndex: null } };
    const gpu = leastBusy(nvencGpus);
    if (gpu) return { category: job.category, placement: { encoder: 'nvenc', gpuIndex: gpu.index } };
    if (job.encoder === 'auto') return { category: 'cpu', placement: { encoder: 'cpu', gpuIndex: null } };
    return { reason: samples.gpus.length === 0 ? `${noGpu}: this profile needs NVENC` : 'no GPU here offers NVENC: this profile needs it' };
  }
  if (job.category === 'cpu') return { category: 'cpu', placement: { encoder: 'cpu', gpuIndex: null } };
  const gpu = leastBusy(samples.gpus);
  if (!gpu) return { reason: `${noGpu}: ${job.category} jobs need an NVIDIA GPU` };
  return { category: job.category, placement: { encoder: 'cpu', gpuIndex: gpu.index } };
}
