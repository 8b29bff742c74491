/**
 * Admission: which pending jobs start now. A pure function of the queue, the
 * running attempts, the machine's samples, the limits and the time: no I/O,
 * no clock, no await, so it is tested with tables of cases and driven by the
 * simulator in test/bench.
 *
 * The rules, in the order a job meets them:
 * 1. Dependencies done, `runAfter` passed, queue not paused.
 * 2. Placement (GPU or CPU), then the checks of that placement:
 *    - VRAM per GPU: available = live free − Σ unobserved reservations of
 *      our attempts on it − headroom. An attempt's unobserved reservation is
 *      what it was admitted with minus what the sample shows its processes
 *      using, so an attempt started after the sample counts in full and
 *      memory held by processes that are not ours is respected.
 *    - NVENC sessions per GPU: live count + our NVENC attempts started since
 *      the sample, against the card's session limit.
 *    - CPU: live busy share + cores of attempts started since the sample,
 *      against the ceiling: CPU-only work is admitted while that is below
 *      it, so the last job may overshoot (CPU time is shared; VRAM is not).
 *      Work placed on a GPU is not stopped by the ceiling (its cores still
 *      count, so CPU-only work makes room for it): a card left idle for want
 *      of a core or two is lost capacity, while CPU-only work only slows.
 *    - A profile no attempt of which has completed yet runs one GPU attempt
 *      at a time, on a GPU with none of our other attempts, and nothing else
 *      is placed on that GPU until it ends or the samples have seen it run
 *      for FIRST_RUN_ALONE_MS: it may grow past what it declares. It shows
 *      what the profile really takes (and, if it dies, raises the estimate:
 *      estimates.ts), then the rest fan out.
 *    - memory (MemAvailable) and free disk of the outbox's filesystem against
 *      the job's estimates, less what attempts started since have claimed.
 *    - per-category concurrency on top.
 *    A GPU sample that is stale or failing admits no GPU work at all.
 * 3. Order: priority 1..10 improved one step per `agingMs` waited, FIFO
 *    within a priority. A job that does not fit does not stop the jobs behind
 *    it (backfill), until it has waited `starvationMs`: then the resource it
 *    waits for is held for it, and no later job may take that resource. A
 *    CPU hold lets later GPU work through only while GPU work alone stays
 *    below the ceiling, so the CPU-only work drains and the held job fits.
 *
 * Placement rule (deterministic): a job needing VRAM goes to the GPU where it
 * fits most tightly (least memory left after it; lowest index on a tie), to
 * keep large holes for large jobs; a job needing none goes to the GPU with
 * the fewest of our attempts, then the lowest index. An `auto` transcode
 * takes NVENC when a GPU can take it now, else the CPU encoder.
 */
import type { Category, Kind } from '../config/config.schema.js';
import type { Placement } from '../runner/kind.js';

/** Estimated needs of one attempt: max(declared, learned). */
export interface Needs {
  vramMb: number;
  cpuCores: number;
  rssMb: number;
  /** Bytes it will write into its outbox, in MB. */
  outputMb: number;
}

/**
 * How long the first run of a profile keeps its card to itself, counted to
 * the latest GPU sample: by then its memory has grown to what it takes and
 * the live free memory shows it. Only until it ends would leave a card
 * mostly idle for the whole of a long first job.
 */
export const FIRST_RUN_ALONE_MS = 120_000;

export interface QueuedJob {
  id: string;
  profile: string;
  /** Whether an attempt of the profile has ever completed (estimates.ts); until then its GPU attempts run one at a time. */
  profileCompleted: boolean;
  kind: Kind;
  category: Category;
  priority: number;
  createdAt: number;
  runAfter: number | null;
  attempts: number;
  maxAttempts: number;
  /** Encoder choice for transcodes (`auto` picks at admission); null for other kinds. */
  encoder: 'auto' | 'cpu' | 'nvenc' | null;
  unmetDependencies: number;
  blockingDependency: string | null;
  brokenDependencies: number;
  needs: Needs;
  /** The filesystem of the job's outbox (a key of `Samples.disks`), or null when unknown. */
  outboxDevice: string | null;
}

export interface RunningAttempt {
  jobId: string;
  profile: string;
  /** Whether an attempt of its profile has completed; until then it may grow past its reservation, so it has its card to itself (for FIRST_RUN_ALONE_MS). */
  profileCompleted: boolean;
  /** The category it counts against (a CPU-placed `auto` transcode counts as cpu). */
  category: Category;
  gpuIndex: number | null;
  encoder: 'cpu' | 'nvenc';
  /** On the monotonic clock, like the samples' times it is compared with. */
  startedAt: number;
  reservation: Needs;
  /** VRAM the latest GPU sample shows its processes using; 0 when not (yet) seen. */
  observedVramMb: number;
  outboxDevice: string | null;
}

export interface GpuSample {
  index: number;
  name: string;
  /** Whether the card has NVENC and ffmpeg an NVENC encoder. */
  nvenc: boolean;
  memoryFreeMb: number;
  memoryTotalMb: number;
  /** Live NVENC sessions; null when the driver does not say (counted as 0). */
  encoderSessions: number | null;
  /** How many NVENC sessions the card (or driver) allows at once. */
  nvencSessionLimit: number;
}

export interface Samples {
  /** Usable GPU figures; empty when there is no GPU or the sample is not trustworthy. */
  gpus: readonly GpuSample[];
  /** When the GPU sample was taken, on the monotonic clock (attempts started after it are not in it). */
  gpuAt: number;
  /** Why GPU work cannot be admitted (no GPU, stale or failing sample); null when the sample is good. */
  gpuProblem: string | null;
  /** Host CPU and memory (`at` on the monotonic clock); null when unknown (no CPU or memory check then). */
  system: { at: number; cores: number; cpuBusyPercent: number; memAvailableMb: number } | null;
  /** Free MB per outbox filesystem. */
  disks: Readonly<Record<string, { freeMb: number; path: string }>>;
}

export interface Limits {
  concurrency: Record<Category, number>;
  /** A waiting job gains one priority step per this many ms. */
  agingMs: number;
  queuePaused: boolean;
  /** VRAM kept free on every GPU. */
  headroomMb: number;
  /** No new work above this projected host CPU busy share. */
  cpuCeilingPercent: number;
  /** A job that has waited this long since it became eligible gets its resources held. */
  starvationMs: number;
  /** Free space kept on every outbox filesystem. */
  minFreeDiskMb: number;
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

/** A resource a starving job can have held for it. */
type Resource = 'vram' | 'nvenc' | 'cpu' | 'memory' | 'disk' | `slot:${Category}`;

export function decideAdmissions(
  queue: readonly QueuedJob[],
  running: readonly RunningAttempt[],
  samples: Samples,
  limits: Limits,
  now: number,
): Decision {
  const decision: Decision = { admit: [], wait: [], fail: [], wakeAt: null };
  const box = createBox(running, samples, limits);
  const held = new Map<Resource, string>();

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
    const result = box.tryPlace(job, held);
    if (result.ok) {
      decision.admit.push({ jobId: job.id, category: result.category, placement: result.placement });
      continue;
    }
    const eligibleSince = Math.max(job.createdAt, job.runAfter ?? 0);
    if (now - eligibleSince >= limits.starvationMs && result.resource !== null && !held.has(result.resource)) {
      held.set(result.resource, job.id);
      const minutes = Math.round((now - eligibleSince) / 60_000);
      decision.wait.push({ jobId: job.id, reason: `${result.reason}; waited ${minutes} min, so no later job may take it` });
      continue;
    }
    decision.wait.push({ jobId: job.id, reason: result.reason });
  }
  return decision;
}

type PlaceResult = { ok: true; category: Category; placement: Placement } | { ok: false; reason: string; resource: Resource | null };

/** The box's free resources during one decision; each admission takes its share. */
function createBox(running: readonly RunningAttempt[], samples: Samples, limits: Limits) {
  const busy: Record<Category, number> = { cpu: 0, gpu_encode: 0, gpu_ai: 0 };
  const vram = new Map<number, number>();
  const sessions = new Map<number, number>();
  const ours = new Map<number, number>();
  /** Per profile, an attempt of it on a GPU (running or admitted in this pass). */
  const onGpu = new Map<string, string>();
  /** GPUs running the first attempt of a profile that never completed, and which job that is. */
  const firstRuns = new Map<number, string>();
  for (const gpu of samples.gpus) {
    vram.set(gpu.index, gpu.memoryFreeMb - limits.headroomMb);
    sessions.set(gpu.index, gpu.encoderSessions ?? 0);
    ours.set(gpu.index, 0);
  }
  const system = samples.system;
  const sampledCpuPercent = system?.cpuBusyPercent ?? 0;
  /** The sampled busy share plus what our attempts started since that sample will add. */
  let cpuPercent = sampledCpuPercent;
  /** Our attempts on the box, running or admitted in this pass (counted by take()). */
  let oursOnBox = 0;
  /** Cores reserved by our attempts placed on a GPU, running or admitted in this pass. */
  let gpuWorkCores = 0;
  let memMb = system?.memAvailableMb ?? Infinity;
  const disk = new Map(Object.entries(samples.disks).map(([device, d]) => [device, d.freeMb - limits.minFreeDiskMb]));

  const take = (needs: Needs, device: string | null, gpuIndex: number | null, nvenc: boolean, sinceSample: { gpu: boolean; system: boolean }) => {
    if (gpuIndex !== null) {
      gpuWorkCores += needs.cpuCores;
      vram.set(gpuIndex, (vram.get(gpuIndex) ?? 0) - needs.vramMb);
      ours.set(gpuIndex, (ours.get(gpuIndex) ?? 0) + 1);
      if (nvenc && sinceSample.gpu) sessions.set(gpuIndex, (sessions.get(gpuIndex) ?? 0) + 1);
    }
    oursOnBox++;
    if (system && sinceSample.system) {
      cpuPercent += (needs.cpuCores / system.cores) * 100;
      memMb -= needs.rssMb;
    }
    if (device !== null && disk.has(device)) disk.set(device, disk.get(device)! - needs.outputMb);
  };

  for (const attempt of running) {
    busy[attempt.category] += 1;
    if (attempt.gpuIndex !== null) onGpu.set(attempt.profile, attempt.jobId);
    if (attempt.gpuIndex !== null && !attempt.profileCompleted && samples.gpuAt - attempt.startedAt < FIRST_RUN_ALONE_MS) firstRuns.set(attempt.gpuIndex, attempt.jobId);
    const unobserved = { ...attempt.reservation, vramMb: Math.max(0, attempt.reservation.vramMb - attempt.observedVramMb) };
    take(unobserved, attempt.outboxDevice, attempt.gpuIndex, attempt.encoder === 'nvenc', {
      gpu: attempt.startedAt >= samples.gpuAt,
      system: system !== null && attempt.startedAt >= system.at,
    });
  }

  const gpuReason = (needs: number, what: string) => {
    const figures = samples.gpus.map((g) => `GPU ${g.index} has ${Math.max(0, Math.floor(vram.get(g.index) ?? 0))} MiB available`).join(', ');
    return `needs ${needs} MiB VRAM${what}; ${figures}`;
  };

  const pickGpu = (job: QueuedJob, nvenc: boolean): { gpu: GpuSample } | { reason: string; resource: Resource | null } => {
    if (samples.gpuProblem !== null || samples.gpus.length === 0) {
      return { reason: `no GPU work now: ${samples.gpuProblem ?? 'no GPU found'}`, resource: 'vram' };
    }
    if (held.has('vram') && job.needs.vramMb > 0) return { reason: `GPU memory is held for job ${held.get('vram')}, which has waited longest`, resource: 'vram' };
    if (nvenc && held.has('nvenc')) return { reason: `NVENC sessions are held for job ${held.get('nvenc')}, which has waited longest`, resource: 'nvenc' };
    const candidates = samples.gpus.filter((g) => !nvenc || g.nvenc);
    if (candidates.length === 0) return { reason: 'no GPU here has NVENC', resource: 'nvenc' };
    const largest = Math.max(...candidates.map((g) => g.memoryTotalMb - limits.headroomMb));
    if (job.needs.vramMb > largest) {
      // No card can ever take it: holding memory for it would stop all GPU work for good.
      return { reason: `needs ${job.needs.vramMb} MiB VRAM; the largest GPU here offers ${largest} MiB (lower the profile's vramMb or add a larger card)`, resource: null };
    }
    const withSessions = nvenc ? candidates.filter((g) => (sessions.get(g.index) ?? 0) < g.nvencSessionLimit) : candidates;
    if (withSessions.length === 0) {
      return { reason: `all NVENC sessions in use (${candidates.map((g) => `GPU ${g.index}: ${sessions.get(g.index) ?? 0} of ${g.nvencSessionLimit}`).join(', ')})`, resource: 'nvenc' };
    }
    let fitting = withSessions.filter((g) => (vram.get(g.index) ?? 0) >= job.needs.vramMb);
    if (fitting.length === 0) return { reason: gpuReason(job.needs.vramMb, ''), resource: 'vram' };
    // The first run of a profile may grow past what it declares, into memory
    // anything beside it was admitted against: it gets a card with none of
    // our work, and nothing else joins it there until it has ended or the
    // samples have seen it run for FIRST_RUN_ALONE_MS.
    if (!job.profileCompleted) {
      const probe = onGpu.get(job.profile);
      if (probe !== undefined) return { reason: `first GPU run of profile ${job.profile}: waiting for job ${probe} to show how much GPU memory it takes`, resource: null };
      fitting = fitting.filter((g) => (ours.get(g.index) ?? 0) === 0);
      if (fitting.length === 0) return { reason: `first GPU run of profile ${job.profile}: waiting for a GPU with none of our jobs on it (it may use more memory than declared)`, resource: 'vram' };
    } else {
      fitting = fitting.filter((g) => !firstRuns.has(g.index));
      if (fitting.length === 0) return { reason: `waiting for the first run of a profile to end (${[...firstRuns].map(([g, id]) => `job ${id} on GPU ${g}`).join(', ')}); it may use more memory than declared`, resource: 'vram' };
    }
    const left = (g: GpuSample) => (vram.get(g.index) ?? 0) - job.needs.vramMb;
    const gpu =
      job.needs.vramMb > 0
        ? [...fitting].sort((a, b) => left(a) - left(b) || a.index - b.index)[0]!
        : [...fitting].sort((a, b) => (ours.get(a.index) ?? 0) - (ours.get(b.index) ?? 0) || a.index - b.index)[0]!;
    return { gpu };
  };

  /** CPU, memory and disk checks shared by every placement. */
  const hostCheck = (job: QueuedJob, gpuWork: boolean): { reason: string; resource: Resource } | null => {
    if (system) {
      // A CPU hold lets GPU work through only while GPU work alone stays
      // below the ceiling: CPU-only work then drains until the held job fits.
      const gpuShare = ((gpuWorkCores + job.needs.cpuCores) / system.cores) * 100;
      if (held.has('cpu') && !(gpuWork && gpuShare < limits.cpuCeilingPercent)) {
        return { reason: `CPU is held for job ${held.get('cpu')}, which has waited longest`, resource: 'cpu' };
      }
      // Admit while the box is below the ceiling; the last job may overshoot it.
      // Packing strictly (busy + need <= ceiling) left half the CPU idle
      // whenever one wide job ran (see test/bench/SIM-NOTES.md). With none
      // of ours on the box the ceiling is not applied: the busy share is
      // then all other people's, CPU time is shared, and waiting for them
      // to stop could mean waiting forever. GPU work is not held back by
      // it: with CPU-only work filling the host to the ceiling, GPU jobs
      // waited for a core while both cards idled (SIM-NOTES.md, "GPU work
      // and the CPU ceiling"). The cards and category slots bound GPU work.
      if (!gpuWork && cpuPercent >= limits.cpuCeilingPercent && oursOnBox > 0) {
        return {
          reason: `CPU ${Math.round(sampledCpuPercent)}% busy${cpuPercent > sampledCpuPercent ? `, ${Math.round(cpuPercent)}% with the jobs just started` : ''}; needs ${job.needs.cpuCores} core${job.needs.cpuCores === 1 ? '' : 's'} of ${system.cores} (ceiling ${limits.cpuCeilingPercent}%)`,
          resource: 'cpu',
        };
      }
      if (memMb < job.needs.rssMb) return { reason: `needs ${job.needs.rssMb} MB of memory; ${Math.max(0, Math.floor(memMb))} MB available`, resource: 'memory' };
    }
    const free = job.outboxDevice !== null ? disk.get(job.outboxDevice) : undefined;
    if (free !== undefined && free < job.needs.outputMb) {
      const path = samples.disks[job.outboxDevice!]?.path ?? 'the outbox';
      return { reason: `outbox ${path} is too full: needs ${Math.ceil(job.needs.outputMb)} MB, ${Math.max(0, Math.floor(free))} MB free above the ${limits.minFreeDiskMb} MB reserve`, resource: 'disk' };
    }
    return null;
  };

  const slot = (category: Category): { reason: string; resource: Resource } | null => {
    const limit = limits.concurrency[category];
    if (held.has(`slot:${category}`)) return { reason: `${category} slots are held for job ${held.get(`slot:${category}`)}, which has waited longest`, resource: `slot:${category}` };
    if (busy[category] < limit) return null;
    return {
      reason: limit === 0 ? `the ${category} category is switched off (concurrency 0)` : `waiting for a ${category} slot (${busy[category]} of ${limit} running)`,
      resource: `slot:${category}`,
    };
  };

  let held: ReadonlyMap<Resource, string> = new Map();

  const admit = (job: QueuedJob, category: Category, placement: Placement): PlaceResult => {
    busy[category] += 1;
    if (placement.gpuIndex !== null) onGpu.set(job.profile, job.id);
    if (placement.gpuIndex !== null && !job.profileCompleted) firstRuns.set(placement.gpuIndex, job.id);
    take(job.needs, job.outboxDevice, placement.gpuIndex, placement.encoder === 'nvenc', { gpu: true, system: true });
    return { ok: true, category, placement };
  };

  const tryGpu = (job: QueuedJob, category: Category, nvenc: boolean): PlaceResult => {
    const blocked = slot(category) ?? hostCheck(job, true);
    if (blocked) return { ok: false, ...blocked };
    const picked = pickGpu(job, nvenc);
    if ('reason' in picked) return { ok: false, ...picked };
    return admit(job, category, { encoder: nvenc ? 'nvenc' : 'cpu', gpuIndex: picked.gpu.index });
  };

  const tryCpu = (job: QueuedJob, category: Category): PlaceResult => {
    const blocked = slot(category) ?? hostCheck(job, false);
    if (blocked) return { ok: false, ...blocked };
    return admit(job, category, { encoder: 'cpu', gpuIndex: null });
  };

  return {
    tryPlace(job: QueuedJob, heldNow: ReadonlyMap<Resource, string>): PlaceResult {
      held = heldNow;
      if (job.kind === 'transcode' && job.encoder !== null) {
        if (job.encoder === 'cpu') return tryCpu(job, job.category);
        const onGpu = tryGpu(job, job.category, true);
        if (onGpu.ok || job.encoder === 'nvenc') {
          return onGpu.ok || !onGpu.reason.startsWith('no GPU work now') ? onGpu : { ...onGpu, reason: `${onGpu.reason}: this profile needs NVENC` };
        }
        // auto: the CPU encoder, counted as cpu work; a CPU-only NVENC-less GPU is no reason to wait.
        const onCpu = tryCpu(job, 'cpu');
        return onCpu.ok || samples.gpus.length === 0 ? onCpu : { ...onCpu, reason: `${onCpu.reason} (NVENC: ${onGpu.reason})` };
      }
      if (job.category === 'cpu') return tryCpu(job, 'cpu');
      return tryGpu(job, job.category, false);
    },
  };
}
