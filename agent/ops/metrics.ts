/**
 * Prometheus metrics for `/metrics`. Figures that describe the present (jobs
 * by status, running attempts, GPU memory and NVENC sessions) are read at
 * scrape time from the services that already hold them, so they are never
 * stale and cost nothing between scrapes; figures about the past (waits,
 * durations, finishes, sampler errors) are counted from the event bus.
 *
 * Its own registry, not prom-client's global one: two agents in one process
 * (tests) keep separate figures, and nothing a library registers globally
 * leaks into Spool's endpoint.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CATEGORIES, type Category } from '../config/config.schema.js';
import { coerceError } from '../errors.js';
import type { EventBus } from '../events.js';
import { JOB_STATUSES, type Job, type JobStatus } from '../jobs/job.js';
import type { Logger } from '../logger.js';
import type { GpuSnapshot } from '../samplers/gpu-snapshot.js';
import { createWaitTracker } from './admission-wait.js';

export interface MetricsDeps {
  events: EventBus;
  logger: Logger;
  /** Jobs per status (the job service's `counts`). */
  counts: () => Promise<Record<JobStatus, number>>;
  /** Live attempts (the executor's `running`). */
  running: () => readonly { category: Category }[];
  gpuSnapshot: () => GpuSnapshot;
  queuePaused: () => boolean;
  /** A job by id, to learn when the dependencies of a starting job finished. */
  job: (id: string) => Promise<Job | undefined>;
}

export interface Metrics {
  readonly registry: Registry;
  /** The Content-Type of `render()`'s text. */
  readonly contentType: string;
  /** The Prometheus text exposition of every metric. */
  render(): Promise<string>;
  stop(): void;
}

/** From a thumbnail on an idle box to a queue held back for hours. */
const WAIT_BUCKETS = [0.05, 0.25, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21_600];
/** From a probe (under a second) to a long transcode (hours). */
const DURATION_BUCKETS = [0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14_400, 28_800];
const MIB = 1024 * 1024;

export function createMetrics(deps: MetricsDeps): Metrics {
  const registry = new Registry();
  const registers = [registry];
  // prom-client watches event-loop delay with a libuv timer at this period.
  // Its default (10 ms) wakes an idle agent 100 times a second, which alone
  // cost about 0.7 % of a core (test/bench/idle-agent.ts); at 100 ms any
  // stall of 100 ms or more is still recorded, at a tenth of the wake-ups.
  collectDefaultMetrics({ register: registry, prefix: 'spool_', eventLoopMonitoringPrecision: 100 });

  new Gauge({
    name: 'spool_jobs',
    help: 'Jobs in the database by status.',
    labelNames: ['status'],
    registers,
    async collect() {
      const counts = await deps.counts();
      for (const status of JOB_STATUSES) this.set({ status: status.toLowerCase() }, counts[status] ?? 0);
    },
  });
  new Gauge({
    name: 'spool_running_attempts',
    help: 'Attempts running now (processes alive or paused) by resource category.',
    labelNames: ['category'],
    registers,
    collect() {
      const byCategory = Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>;
      for (const attempt of deps.running()) byCategory[attempt.category] += 1;
      for (const category of CATEGORIES) this.set({ category }, byCategory[category]);
    },
  });
  new Gauge({
    name: 'spool_queue_paused',
    help: '1 while the whole queue is paused (nothing new is admitted), else 0.',
    registers,
    collect() {
      this.set(deps.queuePaused() ? 1 : 0);
    },
  });
  registerGpuGauges(registry, deps.gpuSnapshot);

  const admissionWait = new Histogram({
    name: 'spool_admission_wait_seconds',
    help: 'From the moment a job could run (created, due after a backoff, released by an operator, dependencies done) to the start of its attempt, by category.',
    labelNames: ['category'],
    buckets: WAIT_BUCKETS,
    registers,
  });
  const duration = new Histogram({
    name: 'spool_job_duration_seconds',
    help: 'Run time of the last attempt of each finished job (start to final state), by profile and final status.',
    labelNames: ['profile', 'status'],
    buckets: DURATION_BUCKETS,
    registers,
  });
  const finished = new Counter({
    name: 'spool_jobs_finished_total',
    help: 'Jobs that reached a final state, by profile and status.',
    labelNames: ['profile', 'status'],
    registers,
  });
  const samplerErrors = new Counter({
    name: 'spool_sampler_errors_total',
    help: 'GPU sampler failures (nvidia-smi failing, hanging or answering garbage), once per distinct error rather than per failing call; GPU admissions stop until it recovers.',
    registers,
  });

  const tracker = createWaitTracker();
  const observeWait = async (job: Job, queuedAt: number) => {
    let since = queuedAt;
    for (const parent of await Promise.all(job.dependsOn.map((id) => deps.job(id)))) since = Math.max(since, parent?.finishedAt ?? 0);
    admissionWait.observe({ category: job.category }, Math.max(0, (job.startedAt ?? since) - since) / 1000);
  };
  const unsubscribe = [
    deps.events.on('job:updated', ({ job }) => {
      const start = tracker.updated(job);
      if (!start) return;
      void observeWait(start.job, start.queuedAt).catch((error) => deps.logger.error(`cannot record the admission wait of job ${job.id}: ${coerceError(error).message}`, { job: job.id }));
    }),
    deps.events.on('job:finished', ({ job }) => {
      tracker.finished(job.id);
      const status = job.status.toLowerCase();
      finished.inc({ profile: job.profile, status });
      // A job cancelled before it ever ran has no run time to record.
      if (job.startedAt !== null && job.finishedAt !== null) duration.observe({ profile: job.profile, status }, Math.max(0, job.finishedAt - job.startedAt) / 1000);
    }),
    deps.events.on('sampler:error', () => samplerErrors.inc()),
  ];

  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    stop() {
      for (const off of unsubscribe) off();
      registry.clear();
    },
  };
}

/** Per-GPU gauges from the latest sample; a GPU that is gone, or a failing sample, shows no series rather than old figures. */
function registerGpuGauges(registry: Registry, snapshot: () => GpuSnapshot): void {
  const labelNames = ['index', 'uuid', 'name'] as const;
  const registers = [registry];
  const perGpu = (name: string, help: string, value: (gpu: GpuSnapshot['gpus'][number]) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        const sample = snapshot();
        if (!sample.ok || sample.stale) return;
        for (const gpu of sample.gpus) {
          const v = value(gpu);
          if (v !== null) this.set({ index: String(gpu.index), uuid: gpu.uuid, name: gpu.name }, v);
        }
      },
    });
  perGpu('spool_gpu_memory_used_bytes', 'GPU memory in use by any process, ours or not (nvidia-smi).', (g) => g.memoryUsedMb * MIB);
  perGpu('spool_gpu_memory_total_bytes', 'GPU memory on the card (nvidia-smi).', (g) => g.memoryTotalMb * MIB);
  perGpu('spool_gpu_encoder_sessions', 'Live NVENC sessions on the GPU, ours or not.', (g) => g.encoderSessions);
  perGpu('spool_gpu_utilization_ratio', 'GPU busy share, 0 to 1 (absent on MIG cards, where the driver does not say).', (g) => (g.utilizationPercent === null ? null : g.utilizationPercent / 100));
  new Gauge({
    name: 'spool_gpu_sample_ok',
    help: '1 when the latest nvidia-smi sample answered, parsed and is fresh; 0 when GPU work waits because it is not (or there is no GPU).',
    registers,
    collect() {
      const sample = snapshot();
      this.set(sample.ok && !sample.stale ? 1 : 0);
    },
  });
}
