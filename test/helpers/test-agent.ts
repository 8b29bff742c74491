/**
 * A real agent in this process on temporary folders: real SQLite file, real
 * chokidar, real ffmpeg. Tests wait on the agent's events, never on sleeps.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createAgent, type Agent, type AgentOptions } from '../../agent/agent.js';
import { parseConfig } from '../../agent/config/load-config.js';
import type { EventName, SpoolEvents } from '../../agent/events.js';
import type { Job, JobStatus } from '../../agent/jobs/job.js';
import { silentLogger } from '../../agent/logger.js';
import { createQuietSystemSampler, pathWithoutNvidiaSmi } from './fake-system.js';

export interface TestAgent {
  agent: Agent;
  dir: string;
  inbox(profile: string): string;
  outbox(profile: string): string;
  /** Resolves with the first event payload that matches (checked against events from now on). */
  next<E extends EventName>(event: E, match?: (payload: SpoolEvents[E]) => boolean, timeoutMs?: number): Promise<SpoolEvents[E]>;
  /** Resolves once job `id` is in one of `statuses` (checks the database first). */
  waitForStatus(id: string, statuses: JobStatus[], timeoutMs?: number): Promise<Job>;
  /** Resolves with the job claimed from `fileName` (dropped into an inbox). */
  waitForClaim(fileName: string, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

/** `config` is YAML-shaped; inboxes default to one per profile under the temp dir. */
export async function startTestAgent(config: Record<string, unknown> & { profiles: Record<string, unknown> }, options: AgentOptions & { dir?: string; inboxDefaults?: Record<string, unknown> } = {}): Promise<TestAgent> {
  const dir = options.dir ?? makeTempDir();
  const inboxes =
    (config.inboxes as unknown[] | undefined) ??
    Object.keys(config.profiles).map((name) => ({ path: `inbox/${name}`, profile: name, outbox: `outbox/${name}`, stableSeconds: 0.3, ...options.inboxDefaults }));
  // Port 0: every test agent serves its API on a free port of its own.
  const parsed = parseConfig({ dataDir: 'data', ...config, server: { port: 0, ...(config.server as object | undefined) }, inboxes }, dir);
  const agent = await createAgent(parsed, { logger: silentLogger, createFolders: true, env: pathWithoutNvidiaSmi(), samplers: { system: createQuietSystemSampler() }, ...options });
  const claims = new Map<string, string>();
  agent.events.on('intake:claimed', ({ path: p, jobId }) => claims.set(path.basename(p), jobId));
  await agent.start();

  const next: TestAgent['next'] = (event, match, timeoutMs = 30_000) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`timed out waiting for ${event}`));
      }, timeoutMs);
      const off = agent.events.on(event, (payload) => {
        if (match && !match(payload)) return;
        clearTimeout(timer);
        off();
        resolve(payload);
      });
    });

  return {
    agent,
    dir,
    inbox: (profile) => parsed.inboxes.find((i) => i.profile === profile)!.path,
    outbox: (profile) => parsed.inboxes.find((i) => i.profile === profile)!.outbox,
    next,
    async waitForStatus(id, statuses, timeoutMs = 30_000) {
      const seen = next('job:updated', ({ job }) => job.id === id && statuses.includes(job.status), timeoutMs);
      const current = await agent.jobs.get(id);
      if (current && statuses.includes(current.status) && (await isSettled(agent, id))) {
        seen.catch(() => undefined);
        return current;
      }
      await seen;
      return (await agent.jobs.get(id))!;
    },
    async waitForClaim(fileName, timeoutMs = 30_000) {
      const known = claims.get(fileName);
      if (known) return known;
      const { jobId } = await next('intake:claimed', ({ path: p }) => path.basename(p) === fileName, timeoutMs);
      return jobId;
    },
    async stop() {
      await agent.stop();
    },
  };
}

async function isSettled(agent: Agent, id: string): Promise<boolean> {
  const row = await agent.database.db.selectFrom('jobs').select('settle_plan').where('id', '=', id).executeTakeFirst();
  return row?.settle_plan === null;
}

/** Every regular file under `dir`, relative, sorted. */
export function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath, d.name)))
    .sort();
}

/** A temp folder removed when the test process exits (a test may restart an agent on it before then). */
const tempDirs: string[] = [];
/** A temporary folder removed when the test process exits. */
export function makeTempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-test-'));
  if (tempDirs.length === 0) process.once('exit', () => tempDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  tempDirs.push(dir);
  return dir;
}
