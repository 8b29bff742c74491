/**
 * Queue throughput through the real SQLite database: jobs enqueued, admitted,
 * run and completed per second. Goal: at least 2,000 jobs/s when the job
 * itself does nothing; the rate when every job spawns `/bin/true` is
 * reported beside it, since spawning bounds any real queue.
 *
 * The agent's real parts (openDatabase on a file, createScheduler,
 * createExecutor, the activity buffer, the job service) are built here as
 * agent.ts builds them, without intake. The no-op runner is the executor's
 * `runKind` resolving at once; everything around it is real: the source is
 * stat'ed before and after, the RUNNING update, the attempt row, the log
 * line, the staging folder, the final transaction and the settle step. Jobs
 * run on one shared tiny file outside any inbox, used in place (as
 * `spool submit` of a file elsewhere does), so no file moves.
 *
 * The no-op row is also run with the agent's own event listeners attached
 * (the metrics and the API's live hub, with no subscriber), since emitters
 * build whole jobs for events only when someone listens.
 *
 * Usage: node dist/test/bench/queue-throughput.js
 *   SPOOL_BENCH_JOBS          no-op jobs per scenario (default 5000)
 *   SPOOL_BENCH_SPAWN_JOBS    /bin/true jobs (default 1000; 0 skips them)
 *   SPOOL_BENCH_CONCURRENCY   cpu category concurrency (default 64)
 *   SPOOL_BENCH_ROUNDS        times the no-op and queue-only rows are run, each
 *                             reported (default 1; on a shared box, several)
 */
import fs from 'node:fs';
import path from 'node:path';
import { systemClock } from '../../agent/clock.js';
import { parseConfig } from '../../agent/config/load-config.js';
import { openDatabase } from '../../agent/db/database.js';
import { insertJob, updateJob } from '../../agent/db/job.repository.js';
import { statusCounts } from '../../agent/db/job-list.repository.js';
import { createLiveHub } from '../../agent/api/live.js';
import { createJobQueries } from '../../agent/jobs/job-queries.js';
import { createMetrics } from '../../agent/ops/metrics.js';
import { createEventBus } from '../../agent/events.js';
import { createJobService } from '../../agent/jobs/job-service.js';
import { finishJob, newJobRow, type JobDeps } from '../../agent/jobs/job-store.js';
import { silentLogger } from '../../agent/logger.js';
import type { MediaTools } from '../../agent/media/locate.js';
import { createActivityBuffer } from '../../agent/runner/activity.js';
import { createExecutor, type Executor } from '../../agent/runner/executor.js';
import { createWaitDeadlines } from '../../agent/jobs/wait-deadlines.js';
import type { KindRunner } from '../../agent/runner/kind.js';
import { runKind } from '../../agent/runner/kinds/index.js';
import { createEstimator } from '../../agent/scheduler/estimates.js';
import type { Machine } from '../../agent/scheduler/machine.js';
import { createScheduler, type Scheduler } from '../../agent/scheduler/scheduler.js';
import { CLOCK_TICKS } from './agent-process.js';
import { envNumber, fixed, median, nowMs, printHeader, printTable, runIfMain, tempDir } from './report.js';

const TRUE = fs.existsSync('/bin/true') ? '/bin/true' : '/usr/bin/true';

/** The command kind never looks at ffmpeg; the executor only passes these along. */
const NO_TOOLS: MediaTools = {
  ffmpeg: { path: 'ffmpeg', source: 'system', version: 'unused' },
  ffprobe: { path: 'ffprobe', source: 'system', version: 'unused' },
  encoders: new Set(),
};

const noop: KindRunner = async () => ({});

/** Which executor runs admitted jobs: the real one with `runKind` (and the agent's event listeners, or none), or none at all (the queue alone). */
type Runner = { runKind: KindRunner; listeners?: boolean } | 'queue-only';

interface Result {
  scenario: string;
  jobs: number;
  enqueueMs: number;
  /** From the scheduler's start (or the first submit) until the last job completed. */
  runMs: number;
  endToEndMs: number;
  /** CPU time of the agent's own thread (the event loop; not the checkpoint worker or libuv's pool) per job, end to end, in µs. */
  threadCpuUs: number;
}

/**
 * CPU seconds of this process's main thread so far. On a shared box the
 * wall-clock rates move with the neighbours' load; the thread's own CPU per
 * job moves much less, and 10^6 / (µs per job) is the rate one uncontended
 * core would reach.
 */
function mainThreadCpu(): number {
  const stat = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

export async function main(): Promise<void> {
  const jobs = envNumber('SPOOL_BENCH_JOBS', 5000);
  const spawnJobs = process.env.SPOOL_BENCH_SPAWN_JOBS === '0' ? 0 : envNumber('SPOOL_BENCH_SPAWN_JOBS', 1000);
  const concurrency = envNumber('SPOOL_BENCH_CONCURRENCY', 64);

  const rounds = envNumber('SPOOL_BENCH_ROUNDS', 1);
  printHeader('queue-throughput');

  await enqueueThenRun('warm-up (not reported)', 300, { runKind: noop }, concurrency);
  const results: Result[] = [];
  for (let round = 1; round <= rounds; round++) {
    const suffix = rounds > 1 ? ` (round ${round})` : '';
    results.push(
      await enqueueThenRun(`no-op: enqueue all, then run${suffix}`, jobs, { runKind: noop }, concurrency),
      await enqueueThenRun(`no-op, metrics and live hub listening: enqueue all, then run${suffix}`, jobs, { runKind: noop, listeners: true }, concurrency),
      await submitWhileRunning(`no-op: jobs.submit while running${suffix}`, jobs, { runKind: noop }, concurrency),
      await enqueueThenRun(`queue only (no executor): enqueue all, then run${suffix}`, jobs, 'queue-only', concurrency),
    );
  }
  if (spawnJobs > 0) {
    results.push(
      await enqueueThenRun(`${TRUE}: enqueue all, then run`, spawnJobs, { runKind }, concurrency),
      await submitWhileRunning(`${TRUE}: jobs.submit while running`, spawnJobs, { runKind }, concurrency),
    );
  }
  const rate = (n: number, ms: number) => fixed((n / ms) * 1000, 0);
  printTable(
    `Queue throughput, jobs/s (real SQLite file, cpu concurrency ${concurrency})`,
    ['scenario', 'jobs', 'enqueue', 'admit+complete', 'end-to-end', 'thread CPU µs/job', '1 core at that'],
    results.map((r) => [r.scenario, r.jobs, rate(r.jobs, r.enqueueMs), rate(r.jobs, r.runMs), rate(r.jobs, r.endToEndMs), fixed(r.threadCpuUs, 0), fixed(1e6 / r.threadCpuUs, 0)]),
  );
  const noopRows = results.filter((r) => r.scenario.startsWith('no-op: enqueue all'));
  const noopRate = median(noopRows.map((r) => (r.jobs / r.endToEndMs) * 1000));
  const noopCpu = median(noopRows.map((r) => r.threadCpuUs));
  process.stdout.write(
    `Goal ≥ 2,000 jobs/s end to end without spawning: ${noopRate >= 2000 ? 'met' : 'MISSED'} (${fixed(noopRate, 0)} jobs/s${noopRows.length > 1 ? `, median of ${noopRows.length}` : ''}; ` +
      `the agent's thread spent ${fixed(noopCpu, 0)} µs of CPU per job, ${fixed(1e6 / noopCpu, 0)} jobs/s on one uncontended core)\n\n`,
  );
}

/** The agent's queue parts on a fresh database in a fresh folder, with one shared input file. */
async function buildQueue(runner: Runner, concurrency: number) {
  const dir = tempDir('queue');
  const config = parseConfig(
    {
      dataDir: 'data',
      profiles: { job: { kind: 'command', command: [TRUE] } },
      resources: { categories: { cpu: { concurrency } } },
    },
    dir,
  );
  const input = path.join(dir, 'input.bin');
  fs.writeFileSync(input, 'x');
  const database = await openDatabase(path.join(config.dataDir, 'spool.db'));
  const events = createEventBus(silentLogger);
  const deps: JobDeps = { db: database.db, config: () => config, events, logger: silentLogger, clock: systemClock };
  const activity = createActivityBuffer({ db: database.db, events, logger: silentLogger, now: systemClock.now, maxLogLines: config.jobs.maxLogLines });
  let poke = () => undefined as void;
  // The queue is the subject: no samplers, an empty machine (no GPU, no host limits).
  const machine: Machine = {
    samples: () => ({ gpus: [], gpuAt: 0, gpuProblem: 'not sampled in this benchmark', system: null, disks: {} }),
    outboxDevice: () => null,
    observedVramMb: () => 0,
    gpuSnapshot: () => ({ at: 0, takenAt: Number.NEGATIVE_INFINITY, ok: false, stale: true, error: 'not sampled in this benchmark', gpus: [] }),
    systemSnapshot: () => ({ at: 0, takenAt: Number.NEGATIVE_INFINITY, cores: 1, cpuBusyShare: null, memTotalMb: 0, memAvailableMb: 0, error: 'not sampled in this benchmark' }),
    setGpuActive: () => undefined,
    setGpuWatched: () => undefined,
    refreshDisks: async () => undefined,
    holdOutbox: () => undefined,
    outboxProblem: () => null,
    start: async () => undefined,
    stop: async () => undefined,
  };
  const waits = createWaitDeadlines(deps.clock);
  const real = createExecutor({ ...deps, waits, tools: NO_TOOLS, runKind: runner === 'queue-only' ? noop : runner.runKind, activity, machine, onAttemptEnded: () => poke() });
  const executor = runner === 'queue-only' ? queueOnly(real, deps, () => poke()) : real;
  const scheduler: Scheduler = createScheduler({ ...deps, executor, machine, estimator: createEstimator(database.db), waits });
  poke = scheduler.poke;
  const service = createJobService({ ...deps, executor, scheduler });
  // The agent's own listeners, as agent.ts and the API attach them (no subscriber to the live hub).
  const listeners =
    runner !== 'queue-only' && runner.listeners
      ? [
          createMetrics({ events, logger: silentLogger, counts: () => statusCounts(database.db), running: executor.running, gpuSnapshot: machine.gpuSnapshot, queuePaused: scheduler.isQueuePaused, job: service.get }),
          createLiveHub({ events, queries: createJobQueries(database.db), logger: silentLogger, applianceState: () => null, intervalMs: 1000 }),
        ]
      : [];
  const outbox = path.join(config.dataDir, 'outbox', 'job');
  // The agent makes each outbox at start (prepareInboxFolders) and never again: a missing one is a share that is away.
  fs.mkdirSync(outbox, { recursive: true });

  /** Resolves once `n` jobs finished; rejects if one did not complete. */
  const finished = (n: number) =>
    new Promise<void>((resolve, reject) => {
      let count = 0;
      const off = events.on('job:finished', ({ job }) => {
        if (job.status !== 'COMPLETED') {
          off();
          reject(new Error(`job ${job.id} ended ${job.status}: ${job.error ?? ''}`));
          return;
        }
        count += 1;
        if (count === n) {
          off();
          resolve();
        }
      });
    });

  const enqueue = async () => {
    const stat = fs.statSync(input);
    const row = newJobRow(config, 'job', { inputPath: input, sourcePath: input, inboxPath: null, outbox, sizeBytes: stat.size, mtimeMs: stat.mtimeMs }, systemClock.now());
    await insertJob(database.db, row);
  };

  const close = async () => {
    for (const listener of listeners) listener.stop();
    await scheduler.stop();
    await executor.interruptAll(1000);
    await activity.stop();
    const counts = await statusCounts(database.db);
    await database.close();
    return counts;
  };
  return { scheduler, service, input, enqueue, finished, close };
}

async function enqueueThenRun(scenario: string, jobs: number, runner: Runner, concurrency: number): Promise<Result> {
  const q = await buildQueue(runner, concurrency);
  const c0 = mainThreadCpu();
  const t0 = nowMs();
  for (let i = 0; i < jobs; i++) await q.enqueue();
  const t1 = nowMs();
  const done = q.finished(jobs);
  await q.scheduler.start();
  await done;
  const t2 = nowMs();
  const threadCpuUs = ((mainThreadCpu() - c0) / jobs) * 1e6;
  const counts = await q.close();
  if (counts.COMPLETED !== jobs) throw new Error(`${scenario}: ${counts.COMPLETED} of ${jobs} completed`);
  return { scenario, jobs, enqueueMs: t1 - t0, runMs: t2 - t1, endToEndMs: t2 - t0, threadCpuUs };
}

async function submitWhileRunning(scenario: string, jobs: number, runner: Runner, concurrency: number): Promise<Result> {
  const q = await buildQueue(runner, concurrency);
  await q.scheduler.start();
  const done = q.finished(jobs);
  const c0 = mainThreadCpu();
  const t0 = nowMs();
  for (let i = 0; i < jobs; i++) await q.service.submit({ profile: 'job', inputPath: q.input });
  const t1 = nowMs();
  await done;
  const t2 = nowMs();
  const threadCpuUs = ((mainThreadCpu() - c0) / jobs) * 1e6;
  const counts = await q.close();
  if (counts.COMPLETED !== jobs) throw new Error(`${scenario}: ${counts.COMPLETED} of ${jobs} completed`);
  return { scenario, jobs, enqueueMs: t1 - t0, runMs: t2 - t0, endToEndMs: t2 - t0, threadCpuUs };
}

/**
 * An executor that only moves an admitted job through its states (RUNNING,
 * then COMPLETED through finishJob, as the real one ends), without the
 * attempt's own work: no source checks, attempt row, staging folder, log
 * line or usage row. The difference to the no-op row is the executor's cost.
 */
function queueOnly(real: Executor, deps: JobDeps, onEnded: () => void): Executor {
  const live = new Set<string>();
  return {
    ...real,
    start(row) {
      live.add(row.id);
      void (async () => {
        const now = deps.clock.now();
        if (await updateJob(deps.db, row.id, { status: 'RUNNING', attempts: row.attempts + 1, started_at: now, updated_at: now }, ['PENDING'])) {
          await finishJob(deps, row.id, { status: 'COMPLETED' });
        }
      })().finally(() => {
        live.delete(row.id);
        onEnded();
      });
    },
    running: () =>
      [...live].map((jobId) => ({ jobId, profile: 'job', category: 'cpu' as const, gpuIndex: null, encoder: 'cpu' as const, startedAt: 0, reservation: { vramMb: 0, cpuCores: 1, rssMb: 0, outputMb: 0 }, observedVramMb: 0, outboxDevice: null })),
    isLive: (jobId) => live.has(jobId),
  };
}

runIfMain(import.meta.url, main);
