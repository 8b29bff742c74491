/**
 * The composition root: the only place that builds real things (database,
 * ffmpeg, GPU detection, executor, scheduler, intake) and hands them down.
 */
import fs from 'node:fs';
import path from 'node:path';
import { systemClock, type Clock } from './clock.js';
import type { SpoolConfig } from './config/config.schema.js';
import { createDatabaseHealth, type DatabaseHealth } from './db/database-health.js';
import { openDatabase, type OpenedDatabase } from './db/database.js';
import { probeWrite } from './db/state.repository.js';
import { pruneFinished } from './db/job.repository.js';
import { statusCounts } from './db/job-list.repository.js';
import { coerceError, SpoolError } from './errors.js';
import { createEventBus, type EventBus } from './events.js';
import { createIntake, type Intake } from './intake/watcher.js';
import { reconcile } from './intake/reconcile.js';
import { createJobService, type JobService } from './jobs/job-service.js';
import { settleUnsettled, type JobDeps } from './jobs/job-store.js';
import { createLogger, type Logger } from './logger.js';
import { locateMediaTools, type MediaTools } from './media/locate.js';
import { createActivityBuffer } from './runner/activity.js';
import { createExecutor, type Executor } from './runner/executor.js';
import { createWaitDeadlines } from './jobs/wait-deadlines.js';
import { runKind } from './runner/kinds/index.js';
import { createGpuSampler, type GpuSampler } from './samplers/gpu-sampler.js';
import { createSystemSampler, type SystemSampler } from './samplers/system-sampler.js';
import { createEstimator } from './scheduler/estimates.js';
import { createMachine, type Machine } from './scheduler/machine.js';
import { createMetrics, type Metrics } from './ops/metrics.js';
import { createWebhooks, type Webhooks } from './ops/webhooks.js';
import { profilesWithUsage } from './db/attempt.repository.js';
import { unfinishedJobsByProfile } from './db/profile-use.repository.js';
import { planReload, prepareInboxFolders, type ReloadPlan } from './ops/reload.js';
import { createScheduler, type Scheduler } from './scheduler/scheduler.js';
import { createApi, type Api } from './api/index.js';

export interface AgentOptions {
  clock?: Clock;
  logger?: Logger;
  /** Create missing inbox and outbox folders (the embedded default does). */
  createFolders?: boolean;
  /** Environment whose PATH finds nvidia-smi. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Replaces the real samplers (tests). */
  samplers?: { gpu?: GpuSampler; system?: SystemSampler };
}

export interface Agent {
  readonly config: SpoolConfig;
  readonly events: EventBus;
  readonly jobs: JobService;
  readonly intake: Intake;
  readonly scheduler: Scheduler;
  readonly executor: Executor;
  readonly tools: MediaTools;
  readonly database: OpenedDatabase;
  readonly machine: Machine;
  /** Prometheus figures for `/metrics`. */
  readonly metrics: Metrics;
  readonly webhooks: Webhooks;
  /** The HTTP/GraphQL API; `api.url()` once started. */
  readonly api: Api;
  start(): Promise<void>;
  /** Graceful stop: no new work, running attempts get `graceMs` to finish, then are stopped and queued again. */
  stop(graceMs?: number): Promise<void>;
  /**
   * Takes the profiles and inboxes of `next` (SIGHUP) without touching
   * running jobs; throws CONFIG_INVALID, keeping the running config, when
   * `next` cannot be taken. See ops/reload.ts.
   */
  reload(next: SpoolConfig): Promise<ReloadPlan>;
}

/** Free MB on the filesystem that holds `dir`, or null when it cannot be read. */
function freeMb(dir: string): number | null {
  try {
    const stats = fs.statfsSync(dir);
    return (stats.bavail * stats.bsize) / 2 ** 20;
  } catch {
    return null;
  }
}

/** Database file inside the data directory. */
export function databaseFile(config: SpoolConfig): string {
  return path.join(config.dataDir, 'spool.db');
}

export async function createAgent(initialConfig: SpoolConfig, options: AgentOptions = {}): Promise<Agent> {
  // Replaced by reload(); the parts built below read it through `() => config`.
  let config = initialConfig;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger();
  const events = createEventBus(logger);

  fs.mkdirSync(config.dataDir, { recursive: true });
  prepareInboxFolders(config.inboxes, options.createFolders ?? false, logger);
  const tools = await locateMediaTools();
  logger.info(`ffmpeg: ${tools.ffmpeg.path} (${tools.ffmpeg.source}, ${tools.ffmpeg.version}); ffprobe: ${tools.ffprobe.path} (${tools.ffprobe.source})`);
  const gpu =
    options.samplers?.gpu ??
    createGpuSampler({
      intervalMs: config.resources.gpu.sampleIntervalMs,
      timeoutMs: config.resources.gpu.sampleTimeoutMs,
      clock,
      logger,
      env: options.env,
      // The sampler logs its own errors and recoveries; here they only become events.
      onEvent: (event) => events.emit(event.type, { message: event.message }),
    });
  const machine = createMachine({ logger, config: () => config, gpu, system: options.samplers?.system ?? createSystemSampler({ clock }), ffmpegHasNvenc: tools.encoders.has('h264_nvenc') });
  let health: DatabaseHealth | undefined;
  const database = await openDatabase(databaseFile(config), { onWriteError: (error) => health?.report(error) });
  health = createDatabaseHealth({
    file: databaseFile(config),
    probe: () => probeWrite(database.db, clock.now()),
    freeMb: () => freeMb(config.dataDir),
    clock,
    logger,
    events,
  });
  const databaseHealth = health;
  const deps: JobDeps = { db: database.db, config: () => config, events, logger, clock };
  const activity = createActivityBuffer({ db: database.db, events, logger, now: clock.now, maxLogLines: config.jobs.maxLogLines });
  let scheduler: Scheduler | undefined;
  const estimator = createEstimator(database.db);
  const waits = createWaitDeadlines(clock);
  const executor = createExecutor({
    ...deps,
    waits,
    tools,
    runKind,
    activity,
    machine,
    health: databaseHealth,
    onAttemptEnded: (profile) => {
      scheduler?.poke();
      void estimator.refresh(profile).catch((error) => logger.error(`cannot read the usage of profile ${profile}: ${coerceError(error).message}`));
    },
  });
  scheduler = createScheduler({ ...deps, executor, machine, estimator, waits, writable: databaseHealth.writable });
  const jobs = createJobService({ ...deps, executor, scheduler });
  const intake = createIntake({ ...deps, onClaimed: () => scheduler?.pokeNew(), holdReason: databaseHealth.problem, writeFailed: databaseHealth.report });
  // Back from a full disk: files dropped meanwhile are taken, and the queue moves again.
  const offHealth = databaseHealth.onChange((writable) => {
    if (!writable) return;
    scheduler?.poke();
    void intake.rescan().catch((error) => logger.error(`inbox rescan failed: ${coerceError(error).message}`));
  });
  // Counts from the trigger-kept table: a scrape must not count a long history.
  const metrics = createMetrics({ events, logger, counts: () => statusCounts(database.db), running: executor.running, gpuSnapshot: machine.gpuSnapshot, queuePaused: jobs.isQueuePaused, job: jobs.get });
  const webhooks = createWebhooks({ webhooks: config.notifications.webhooks, applianceName: config.appliance.name, events, logger, clock });
  const api = await createApi({ config: () => config, logger, events, db: database.db, databaseHealth, jobs, estimator, machine, intake, metrics, now: clock.now });
  let pruneTimer: NodeJS.Timeout | undefined;
  let settleTimer: NodeJS.Timeout | undefined;

  const prune = async () => {
    if (config.jobs.retentionDays <= 0) return;
    const removed = await pruneFinished(database.db, clock.now() - config.jobs.retentionDays * 86_400_000);
    if (removed > 0) logger.info(`pruned ${removed} finished jobs older than ${config.jobs.retentionDays} days`);
  };

  // Reloads run one at a time (two quick SIGHUPs must not interleave).
  let reloading: Promise<unknown> = Promise.resolve();
  const reload = async (next: SpoolConfig): Promise<ReloadPlan> => {
    const plan = planReload(config, next, await unfinishedJobsByProfile(database.db));
    if (plan.problems.length > 0) throw new SpoolError('CONFIG_INVALID', plan.problems.join('\n'));
    prepareInboxFolders(plan.addedInboxes, options.createFolders ?? false, logger);
    config = plan.config;
    api.tokens.reload(config);
    await intake.sync();
    scheduler.poke();
    return plan;
  };

  return {
    get config() {
      return config;
    },
    events,
    jobs,
    intake,
    scheduler,
    executor,
    tools,
    database,
    machine,
    metrics,
    webhooks,
    api,
    async start() {
      await machine.start();
      const snapshot = machine.gpuSnapshot();
      logger.info(snapshot.ok ? `GPUs: ${snapshot.gpus.map((g) => `${g.index} ${g.name}${g.nvenc && tools.encoders.has('h264_nvenc') ? ' (NVENC)' : ''}`).join(', ') || 'none'}` : `no GPU work (${snapshot.error ?? 'no sample'}): CPU work only until nvidia-smi answers`);
      for (const profile of await profilesWithUsage(database.db)) await estimator.refresh(profile);
      await reconcile(deps);
      await prune();
      pruneTimer = setInterval(() => void prune().catch((e) => logger.error(`pruning failed: ${coerceError(e).message}`)), 3_600_000);
      pruneTimer.unref();
      // Files of finished jobs that could not be moved into place (an inbox or outbox on a share that was away).
      settleTimer = setInterval(() => void settleUnsettled(deps).catch((e) => logger.error(`settling failed: ${coerceError(e).message}`)), config.intake.rescanSeconds * 1000);
      settleTimer.unref();
      await scheduler.start();
      await intake.start();
      const { url, firstToken } = await api.start();
      logger.info(`API and console on ${url}/ (GraphQL at ${url}/graphql)`);
      if (firstToken) {
        logger.info(`admin token: ${firstToken}`);
        logger.info('This first-start admin token is shown once and only its hash is kept; with it, open the console or make more tokens (spool token create).');
      }
    },
    // Shutdown order: stop taking files, stop admitting, let attempts finish
    // up to the deadline, stop the rest (they go back to PENDING), then flush
    // buffered progress and logs, and close the database last.
    async stop(graceMs = 0) {
      clearInterval(pruneTimer);
      clearInterval(settleTimer);
      await api.stop();
      await intake.stop();
      await scheduler.stop();
      if (graceMs > 0 && !(await executor.drain(graceMs))) logger.warn('attempts still running at the stop deadline; stopping them');
      await executor.interruptAll(config.jobs.killGraceSeconds * 1000);
      // Jobs that finished during the drain still get their webhooks out, briefly.
      await webhooks.stop({ flush: graceMs > 0 });
      metrics.stop();
      await machine.stop();
      await activity.stop();
      offHealth();
      databaseHealth.stop();
      await database.close();
    },
    reload(next) {
      const result = reloading.then(() => reload(next));
      reloading = result.catch(() => undefined);
      return result;
    },
  };
}
