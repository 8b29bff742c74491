/**
 * The admission loop: loads the best pending jobs, asks the pure
 * `decideAdmissions` what to do, and carries it out (start, wait with a
 * reason, fail on a broken dependency). It runs on events (a job created or
 * finished, an operator action) coalesced into one pass, on the earliest
 * `runAfter`, and on a slow safety timer.
 */
import { getJobNow, setWaitingReasonsNow, type CandidateRow } from '../db/job.repository.js';
import { statementsOf } from '../db/statements.js';
import { databaseWriteFault } from '../db/write-fault.js';
import { getState, setState } from '../db/state.repository.js';
import { coerceError } from '../errors.js';
import { endJob, type JobDeps } from '../jobs/job-store.js';
import type { Executor } from '../runner/executor.js';
import { decideAdmissions, type QueuedJob } from './admission.js';
import { createCandidateWindow } from './candidates.js';
import type { Estimator } from './estimates.js';
import type { Machine } from './machine.js';
import type { WaitDeadlines } from '../jobs/wait-deadlines.js';

/** How many pending jobs one pass looks at (plus the oldest fifth as many); the rest keep their last reason. */
const CANDIDATES = 200;
/**
 * New jobs arrive in bursts (ten thousand files dropped at once); one pass
 * per claim would spend the agent on re-reading the queue. A new job is
 * looked at at once when no pass started within this long (a file dropped
 * on its own does not wait); the ones that follow it within the window are
 * gathered into one pass at its end. A freed slot or an operator's action
 * is always looked at at once.
 */
const GATHER_NEW_MS = 15;
/** Waiting reasons that a new sample of the machine may lift. */
const MACHINE_REASON = /VRAM|NVENC|no GPU work now|GPU memory|CPU|memory|too full/;
/** Safety net: look at the queue at least this often. */
const IDLE_PASS_MS = 5000;

export interface Scheduler {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Ask for a pass now (coalesced with one that is running). */
  poke(): void;
  /** A new job arrived: ask for a pass within a few milliseconds, gathered with other arrivals. */
  pokeNew(): void;
  /** Resolves after a full pass that started after this call. */
  settle(): Promise<void>;
  isQueuePaused(): boolean;
  setQueuePaused(paused: boolean): Promise<void>;
}

export interface SchedulerDeps extends JobDeps {
  executor: Executor;
  machine: Machine;
  estimator: Estimator;
  /** The executor's own waits, read through it so that a wall-clock step does not move them. */
  waits: WaitDeadlines;
  /**
   * False while the database cannot be written: no pass runs (an attempt
   * could not record that it started, nor a job why it waits). The agent
   * pokes the scheduler once writes commit again.
   */
  writable?: () => boolean;
}

export function createScheduler(deps: SchedulerDeps): Scheduler {
  let running = false;
  let stopped = true;
  let again = false;
  let queuePaused = false;
  let scheduled: (() => void) | undefined;
  let scheduledAt = Infinity;
  let passDone: Array<() => void> = [];
  const reasons = new Map<string, string>();
  const candidates = createCandidateWindow(deps.db, CANDIDATES);

  const schedule = (at: number) => {
    if (stopped || at >= scheduledAt) return;
    scheduled?.();
    scheduledAt = at;
    scheduled = deps.clock.setTimeout(() => {
      scheduled = undefined;
      scheduledAt = Infinity;
      poke();
    }, Math.max(0, at - deps.clock.now()));
  };

  const poke = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    setImmediate(() => void loop());
  };

  let gathering: NodeJS.Timeout | undefined;
  /** When the latest pass began (performance.now(): gathering is about the agent's own pace, not the injected clock). */
  let passStartedAt = -Infinity;
  const pokeNew = () => {
    if (stopped || gathering) return;
    const sinceLast = performance.now() - passStartedAt;
    if (!running && sinceLast >= GATHER_NEW_MS) {
      poke();
      return;
    }
    gathering = setTimeout(() => {
      gathering = undefined;
      poke();
    }, Math.max(0, GATHER_NEW_MS - sinceLast));
  };

  const loop = async () => {
    do {
      again = false;
      const waiting = passDone;
      passDone = [];
      try {
        await pass();
      } catch (error) {
        // The database stopped taking writes during this pass: its health has said so once, and the next pass waits for it.
        if (databaseWriteFault(error) !== null) deps.logger.debug(`admission pass stopped: ${coerceError(error).message}`);
        else deps.logger.error(`admission pass failed: ${coerceError(error).stack ?? String(error)}`);
      }
      for (const resolve of waiting) resolve();
    } while (again && !stopped);
    running = false;
    if (passDone.length > 0) poke();
  };

  async function pass(): Promise<void> {
    passStartedAt = performance.now();
    if (deps.writable && !deps.writable()) return;
    const config = deps.config();
    const now = deps.clock.now();
    const agingMs = config.jobs.agingSeconds * 1000;
    // An attempt admitted by an earlier pass keeps its job PENDING in the
    // database until it has checked the source and written RUNNING; it already
    // counts in `running`. Offered again, it would be started twice, and with a
    // full candidate page this loop would admit it over and over without ever
    // yielding to the I/O that lets it start.
    const rows = candidates.rows(deps.clock.monotonic(), (id) => deps.executor.isLive(id));
    const byId = new Map(rows.map((r) => [r.id, r]));
    await deps.machine.refreshDisks(deps.clock.monotonic());
    // An outbox a job could not write to gets no work until a test write there works.
    const heldOut: { jobId: string; reason: string }[] = [];
    const open = rows.filter((r) => {
      const problem = deps.machine.outboxProblem(r.outbox);
      if (problem !== null) heldOut.push({ jobId: r.id, reason: `${problem}; no work goes there until it can be written (Spool tries every few seconds)` });
      return problem === null;
    });
    const queue = open.map((r) => toQueued(r, deps));
    const completed = (profile: string) => (deps.estimator.learned(profile)?.samples ?? 0) > 0;
    const running = deps.executor.running().map((a) => ({ ...a, profileCompleted: completed(a.profile) }));
    const decision = decideAdmissions(
      queue,
      running,
      deps.machine.samples(),
      {
        concurrency: {
          cpu: config.resources.categories.cpu.concurrency,
          gpu_encode: config.resources.categories.gpu_encode.concurrency,
          gpu_ai: config.resources.categories.gpu_ai.concurrency,
        },
        agingMs,
        queuePaused,
        headroomMb: config.resources.gpu.headroomMb,
        cpuCeilingPercent: config.resources.cpu.ceilingPercent,
        starvationMs: config.jobs.starvationSeconds * 1000,
        minFreeDiskMb: config.jobs.minFreeDiskMb,
      },
      now,
    );
    // Sample the GPU often only while GPU work is queued or running.
    deps.machine.setGpuActive(running.some((a) => a.gpuIndex !== null) || queue.some((q) => q.category !== 'cpu'));
    const needsOf = new Map(queue.map((q) => [q.id, q] as const));
    for (const admit of decision.admit) {
      const row = byId.get(admit.jobId);
      const queued = needsOf.get(admit.jobId);
      if (row && queued) {
        reasons.delete(row.id);
        deps.executor.start(row, admit, queued.needs, queued.outboxDevice);
      }
    }
    for (const { jobId, reason } of decision.fail) {
      reasons.delete(jobId);
      await endJob(deps, jobId, { status: 'FAILED', errorKind: 'dependency', error: `${reason}; retry that job, then this one` });
    }
    const reasonWrites: { jobId: string; reason: string; eta: number | null }[] = [];
    for (const { jobId, reason } of [...decision.wait, ...heldOut]) {
      if (reasons.get(jobId) === reason) continue;
      reasons.set(jobId, reason);
      const row = byId.get(jobId);
      if (row?.waiting_reason === reason) continue;
      // A waiting job's ETA is its expected run time, learned from the profile's history.
      reasonWrites.push({ jobId, reason, eta: row ? deps.estimator.runSeconds(row.profile, row.size_bytes) : null });
    }
    if (reasonWrites.length > 0) {
      const writes = reasonWrites.map(({ jobId, reason, eta }) => ({ id: jobId, reason, eta }));
      if (deps.events.listening('job:updated')) {
        // One transaction for the whole pass; each job's event carries the row as written.
        const written = await statementsOf(deps.db).write(() => {
          const jobs = setWaitingReasonsNow(deps.db, writes);
          // A job that left PENDING meanwhile keeps its state; its event still says where it is.
          for (const { jobId } of reasonWrites) {
            if (jobs.has(jobId)) continue;
            const job = getJobNow(deps.db, jobId);
            if (job) jobs.set(jobId, job);
          }
          return jobs;
        });
        for (const { jobId, reason } of reasonWrites) {
          deps.events.emit('admission:deferred', { jobId, reason });
          const job = written.get(jobId);
          if (job) deps.events.emit('job:updated', { job });
        }
      } else {
        await statementsOf(deps.db).write(() => setWaitingReasonsNow(deps.db, writes, { jobs: false }));
        for (const { jobId, reason } of reasonWrites) deps.events.emit('admission:deferred', { jobId, reason });
      }
    }
    if (reasons.size > 10_000) reasons.clear();
    // Jobs waiting on the machine (VRAM, NVENC, CPU, disk) are looked at
    // again on the next sample rather than only on the next event.
    const onMachine = heldOut.length > 0 || decision.wait.some((w) => MACHINE_REASON.test(w.reason));
    const next = onMachine ? now + config.resources.gpu.sampleIntervalMs : now + IDLE_PASS_MS;
    schedule(Math.min(decision.wakeAt ?? Infinity, next));
    if (!candidates.complete() && decision.admit.length > 0) again = true;
  }

  return {
    async start() {
      stopped = false;
      candidates.start();
      queuePaused = (await getState(deps.db, 'queue_paused')) === 'true';
      poke();
    },
    async stop() {
      stopped = true;
      candidates.stop();
      clearTimeout(gathering);
      gathering = undefined;
      scheduled?.();
      scheduled = undefined;
      scheduledAt = Infinity;
      while (running) await new Promise((r) => setTimeout(r, 10));
      for (const resolve of passDone) resolve();
      passDone = [];
    },
    poke,
    pokeNew,
    settle() {
      return new Promise<void>((resolve) => {
        if (stopped) return resolve();
        passDone.push(resolve);
        if (running) again = true;
        else poke();
      });
    },
    isQueuePaused: () => queuePaused,
    async setQueuePaused(paused) {
      queuePaused = paused;
      await setState(deps.db, 'queue_paused', String(paused));
      deps.events.emit('queue:paused', { paused });
      poke();
    },
  };
}

function toQueued(row: CandidateRow, deps: SchedulerDeps): QueuedJob {
  const profile = deps.config().profiles[row.profile];
  return {
    id: row.id,
    profile: row.profile,
    profileCompleted: (deps.estimator.learned(row.profile)?.samples ?? 0) > 0,
    kind: row.kind as QueuedJob['kind'],
    category: row.category as QueuedJob['category'],
    priority: row.priority,
    createdAt: row.created_at,
    runAfter: deps.waits.runAfter(row.id, row.run_after),
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    encoder: profile?.kind === 'transcode' ? profile.encoder : null,
    unmetDependencies: Number(row.unmet),
    blockingDependency: row.blocker,
    brokenDependencies: Number(row.broken),
    needs: profile ? deps.estimator.needs(row.profile, profile, row.size_bytes) : { vramMb: 0, cpuCores: 1, rssMb: 0, outputMb: 0 },
    outboxDevice: deps.machine.outboxDevice(row.outbox),
  };
}

