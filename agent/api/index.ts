/**
 * The API as the agent sees it: built from the agent's services, started
 * after the queue (so the first request sees reconciled jobs), stopped
 * first (so no command arrives while the agent winds down).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SpoolConfig } from '../config/config.schema.js';
import type { Db } from '../db/database.js';
import type { EventBus } from '../events.js';
import type { Intake } from '../intake/watcher.js';
import { createJobQueries } from '../jobs/job-queries.js';
import type { JobService } from '../jobs/job-service.js';
import type { Logger } from '../logger.js';
import type { Estimator } from '../scheduler/estimates.js';
import type { Machine } from '../scheduler/machine.js';
import { createApplianceState } from './appliance.js';
import { createTokenStore, type TokenStore } from './auth.js';
import { createConsoleFiles } from './console-files.js';
import { createDownloadRoute } from './download.js';
import { createGraphql } from './graphql.js';
import { createLiveHub } from './live.js';
import { createApiServer, type Readiness } from './server.js';
import { createUploadRoute } from './upload.js';

export interface Api {
  readonly tokens: TokenStore;
  /** Listens; returns the base URL, and the first admin token when this start made one. */
  start(): Promise<{ url: string; firstToken: string | null }>;
  url(): string;
  stop(): Promise<void>;
}

/** The version in Spool's package.json (the nearest one above this file, whether run from dist/ or from source). */
export function spoolVersion(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
    if (path.dirname(dir) === dir) return 'unknown';
  }
}

export async function createApi(deps: {
  config: () => SpoolConfig;
  logger: Logger;
  events: EventBus;
  db: Db;
  /** Whether the database can be written (a full disk makes the agent not ready). */
  databaseHealth?: { problem(): string | null };
  jobs: JobService;
  estimator: Estimator;
  machine: Machine;
  intake: Intake;
  metrics?: { contentType: string; render(): Promise<string> };
  now: () => number;
}): Promise<Api> {
  const config = deps.config();
  const tokens = await createTokenStore(deps.db, config);
  const queries = createJobQueries(deps.db);
  const appliance = createApplianceState({
    config: deps.config,
    version: spoolVersion(),
    machine: deps.machine,
    queuePaused: deps.jobs.isQueuePaused,
    inboxStatus: deps.intake.status,
    startedAt: deps.now(),
  });
  const live = createLiveHub({ events: deps.events, queries, logger: deps.logger, applianceState: appliance,
    intervalMs: Math.max(config.resources.gpu.sampleIntervalMs, 500),
    // A console showing GPU charts wants live figures even while no GPU work is queued.
    onWatching: (watching) => deps.machine.setGpuWatched(watching),
  });
  const yoga = createGraphql({ services: { config: deps.config, jobs: deps.jobs, queries, estimator: deps.estimator, live, appliance }, logger: deps.logger });

  const readiness = async (): Promise<Readiness> => {
    const checks: Readiness['checks'] = {};
    try {
      await queries.counts();
      const problem = deps.databaseHealth?.problem() ?? null;
      checks.database = problem === null ? { ok: true, detail: 'open' } : { ok: false, detail: problem };
    } catch (error) {
      checks.database = { ok: false, detail: (error as Error).message };
    }
    const system = deps.machine.systemSnapshot();
    checks.systemSampler = system.error === null && system.at > 0 ? { ok: true, detail: 'sampling' } : { ok: false, detail: system.error ?? 'no sample yet' };
    // No GPU (or a failing nvidia-smi) is a state the agent runs in, not unreadiness: it has sampled once and knows.
    const gpu = deps.machine.gpuSnapshot();
    checks.gpuSampler = gpu.at > 0 ? { ok: true, detail: gpu.ok && !gpu.stale ? `${gpu.gpus.length} GPU(s)` : `no GPU work: ${gpu.error ?? 'stale sample'}` } : { ok: false, detail: 'no sample yet' };
    for (const inbox of deps.intake.status()) checks[`inbox ${inbox.path}`] = { ok: inbox.ok, detail: inbox.ok ? 'watched' : (inbox.error ?? 'not watched') };
    return { ready: Object.values(checks).every((c) => c.ok), checks };
  };

  const routes = {
    '/upload': createUploadRoute({ config: deps.config, logger: deps.logger }),
    '/download': createDownloadRoute({ jobOutputs: async (id) => (await queries.byIds([id]))[0]?.outputs ?? null, now: deps.now }),
  };
  const server = createApiServer({ config: deps.config, logger: deps.logger, yoga, tokens, readiness, metrics: deps.metrics, routes, console: createConsoleFiles() });

  return {
    tokens,
    async start() {
      const url = await server.listen();
      return { url, firstToken: await tokens.ensureFirstToken() };
    },
    url: server.url,
    async stop() {
      live.stop();
      await server.close();
    },
  };
}
