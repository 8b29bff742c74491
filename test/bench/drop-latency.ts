/**
 * Drop-to-spawn latency: how long after a complete file is renamed into an
 * inbox its job's process starts, beyond the stability window the agent
 * must wait by design. Goal: p95 under 100 ms.
 *
 * A real agent in this process (real SQLite file, real chokidar) runs a
 * `command` profile whose argv is `date +%s%N`: the process prints the moment
 * it started, the agent keeps that line in the job's log, and the benchmark
 * reads it back. Three moments per file, each minus the window:
 *   claimed   the file was moved into the work area and its row written
 *   RUNNING   the job:updated event with status RUNNING
 *   spawned   the clock reading of the started process itself
 *
 * Patterns: files dropped one every 20–50 ms (a realistic pace) and all at
 * once (a burst) on a fresh database; then the paced drop again on a
 * database that already holds a month of finished jobs, as an appliance's
 * does after a while. Admission concurrency is set high so that no file
 * waits for a slot: this measures the agent's path, not the queue. The goal
 * is one file's latency, which the paced patterns measure; the burst is
 * reported beside it, as the time to drain 200 files (each process start
 * alone holds the event loop 2–4 ms, so the last of 200 cannot start within
 * 100 ms on any machine this runs on).
 *
 * Usage: node dist/test/bench/drop-latency.js
 *   SPOOL_BENCH_FILES     files per pattern (default 200)
 *   SPOOL_BENCH_STABLE    stableSeconds of the inbox (default 2, the agent's default)
 *   SPOOL_BENCH_HISTORY   finished jobs in the database for the last pattern (default 50000; 0 skips it)
 *   SPOOL_BENCH_PATTERNS  which patterns to run on the fresh database, comma-separated (default "paced,burst")
 */
import fs from 'node:fs';
import path from 'node:path';
import type { JobStatus } from '../../agent/jobs/job.js';
import { parseConfig } from '../../agent/config/load-config.js';
import { openDatabase } from '../../agent/db/database.js';
import { newJobRow } from '../../agent/jobs/job-store.js';
import { spawnGroup } from '../../agent/runner/process.js';
import { startTestAgent, type TestAgent } from '../helpers/test-agent.js';
import { mulberry32 } from '../helpers/random.js';
import { envNumber, fixed, nowMs, percentile, printHeader, printTable, runIfMain, sleep, tempDir } from './report.js';

const DATE = fs.existsSync('/bin/date') ? '/bin/date' : '/usr/bin/date';

interface Drop {
  name: string;
  droppedAt: number;
  jobId?: string;
  claimedAt?: number;
  runningAt?: number;
  spawnedAt?: number;
  status?: JobStatus;
}

export async function main(): Promise<void> {
  const files = envNumber('SPOOL_BENCH_FILES', 200);
  const stableSeconds = envNumber('SPOOL_BENCH_STABLE', 2);
  const history = process.env.SPOOL_BENCH_HISTORY === '0' ? 0 : envNumber('SPOOL_BENCH_HISTORY', 50_000);
  printHeader('drop-latency');

  const rows: (string | number)[][] = [];
  const verdicts: string[] = [];
  const spawnCost: { measured: SpawnCost | null } = { measured: null };
  const measure = async (patterns: Pattern[], historyJobs: number) => {
    const dir = tempDir('drop');
    if (historyJobs > 0) await seedHistory(dir, historyJobs);
    const t = await startTestAgent(CONFIG, { dir, inboxDefaults: { stableSeconds } });
    try {
      for (const pattern of patterns) {
        const label = `${pattern}${historyJobs > 0 ? `, ${historyJobs.toLocaleString('en')} finished jobs in the database` : ''}`;
        const drops = await runPattern(t, dir, pattern, files);
        const failed = drops.filter((d) => d.status !== 'COMPLETED');
        if (failed.length > 0) throw new Error(`${failed.length} jobs did not complete (first: ${failed[0]!.name} ${failed[0]!.status ?? 'never finished'})`);
        await readSpawnTimes(t, drops);
        if (pattern === 'burst') spawnCost.measured = await measureSpawn();
        for (const [stage, pick] of [
          ['claimed', (d: Drop) => d.claimedAt],
          ['RUNNING', (d: Drop) => d.runningAt],
          ['spawned', (d: Drop) => d.spawnedAt],
        ] as const) {
          const beyond = drops.map((d) => pick(d)! - d.droppedAt - stableSeconds * 1000);
          const p95 = percentile(beyond, 95);
          if (stage === 'spawned') {
            verdicts.push(
              pattern === 'burst'
                ? `${label}: p95 ${fixed(p95)} ms, reported beside the goal: with every file arriving at once this is the time to drain ${files} claims and process starts on one event loop, not one file's latency`
                : `${label}: p95 ${fixed(p95)} ms, ${p95 < 100 ? 'met' : 'MISSED'}`,
            );
          }
          rows.push([label, stage, beyond.length, fixed(percentile(beyond, 50)), fixed(p95), fixed(Math.max(...beyond)), fixed(Math.min(...beyond))]);
        }
        await sleep(1000);
      }
    } finally {
      await t.stop();
    }
  };
  const wanted = (process.env.SPOOL_BENCH_PATTERNS ?? 'paced,burst').split(',').map((p) => p.trim());
  const fresh = (['paced 20–50 ms', 'burst'] as const).filter((p) => wanted.some((w) => p.startsWith(w)));
  if (fresh.length > 0) await measure([...fresh], 0);
  if (history > 0) await measure(['paced 20–50 ms'], history);

  printTable(`Drop to spawn, ms beyond the ${stableSeconds} s stability window (${files} files per pattern)`, ['pattern', 'moment', 'n', 'p50', 'p95', 'max', 'min'], rows);
  process.stdout.write(`Goal p95 (spawned) < 100 ms for a file renamed into an inbox:\n${verdicts.map((v) => `- ${v}`).join('\n')}\n\n`);
  const cost = spawnCost.measured;
  if (cost) {
    process.stdout.write(
      `After the burst, starting ${DATE} as the executor does (spawnGroup: own group, piped stdout and stderr) from this process (RSS ${fixed(cost.rssMb, 0)} MB, the agent's in it) held the event loop ` +
        `${fixed(cost.medianMs, 2)} ms median, ${fixed(cost.p95Ms, 2)} ms p95 (${cost.n} one after another): ` +
        `${files} of them alone hold it for about ${fixed((cost.medianMs * files) / 1000, 2)} s.\n\n`,
    );
  }
}

interface SpawnCost {
  n: number;
  medianMs: number;
  p95Ms: number;
  rssMb: number;
}

/**
 * How long starting a process holds the event loop here. libuv forks (the
 * cost grows with the parent's resident memory), so every job's start pays
 * it on the agent's one thread whatever the agent does around it.
 */
async function measureSpawn(n = 40): Promise<SpawnCost> {
  const blocked: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = nowMs();
    const child = spawnGroup(DATE, ['+%s%N'], { env: { ...process.env }, rawStdout: true, onStdout: () => undefined });
    blocked.push(nowMs() - t0);
    await child.exited;
  }
  return { n, medianMs: percentile(blocked, 50), p95Ms: percentile(blocked, 95), rssMb: process.memoryUsage().rss / 1e6 };
}

type Pattern = 'paced 20–50 ms' | 'burst';

const CONFIG = {
  profiles: { tick: { kind: 'command', command: [DATE, '+%s%N'] } },
  resources: { categories: { cpu: { concurrency: 1000 } } },
};

/**
 * A month of an appliance's past: `count` COMPLETED jobs already in the
 * database (retention keeps 30 days by default), written before the agent
 * starts.
 */
async function seedHistory(dir: string, count: number): Promise<void> {
  const config = parseConfig({ dataDir: 'data', ...CONFIG }, dir);
  const database = await openDatabase(path.join(config.dataDir, 'spool.db'));
  try {
    const now = Date.now();
    const first = newJobRow(config, 'tick', { inputPath: '/x', sourcePath: '/x', inboxPath: null, outbox: '/x', sizeBytes: 0, mtimeMs: 0 }, now);
    const columns = [...Object.keys(first), 'finished_at'];
    const insert = database.sqlite.prepare(`insert into jobs (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')})`);
    database.sqlite.transaction(() => {
      for (let i = 0; i < count; i++) {
        const at = now - Math.round((i / count) * 30 * 86_400_000);
        const inbox = path.join(dir, 'inbox', 'tick');
        const row = newJobRow(config, 'tick', { inputPath: path.join(inbox, `old-${i}.bin`), sourcePath: path.join(inbox, 'done', `old-${i}.bin`), inboxPath: inbox, outbox: path.join(dir, 'outbox', 'tick'), sizeBytes: 1024, mtimeMs: at }, at);
        insert.run(...Object.values({ ...row, status: 'COMPLETED', waiting_reason: null }), at);
      }
    })();
  } finally {
    await database.close();
  }
}

async function runPattern(t: TestAgent, dir: string, pattern: Pattern, files: number): Promise<Drop[]> {
  const prefix = pattern === 'burst' ? 'burst' : 'paced';
  const source = path.join(dir, `src-${prefix}`);
  fs.mkdirSync(source, { recursive: true });
  const drops: Drop[] = [];
  for (let i = 0; i < files; i++) {
    const name = `${prefix}-${String(i).padStart(4, '0')}.bin`;
    fs.writeFileSync(path.join(source, name), Buffer.alloc(1024, i % 256));
    drops.push({ name, droppedAt: 0 });
  }
  const inbox = t.inbox('tick');
  const byName = new Map<string, Drop>();
  const byJob = new Map<string, Drop>();
  const offClaimed = t.agent.events.on('intake:claimed', ({ path: p, jobId }) => {
    const drop = byName.get(path.basename(p));
    if (!drop) return;
    drop.jobId = jobId;
    drop.claimedAt = nowMs();
    byJob.set(jobId, drop);
  });
  const offUpdated = t.agent.events.on('job:updated', ({ job }) => {
    const drop = byJob.get(job.id);
    if (drop && job.status === 'RUNNING' && drop.runningAt === undefined) drop.runningAt = nowMs();
  });
  const finished = new Set<string>();
  let resolveAll: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (resolveAll = resolve));
  const off = t.agent.events.on('job:finished', ({ job }) => {
    const drop = byJob.get(job.id);
    if (!drop) return;
    drop.status = job.status;
    finished.add(job.id);
    if (finished.size === files) resolveAll();
  });

  const random = mulberry32(42);
  for (const drop of drops) {
    byName.set(drop.name, drop);
    fs.renameSync(path.join(source, drop.name), path.join(inbox, drop.name));
    drop.droppedAt = nowMs();
    if (pattern !== 'burst') await sleep(20 + random() * 30);
  }
  const timeout = sleep(120_000).then(() => 'timeout' as const);
  const outcome = await Promise.race([all.then(() => 'done' as const), timeout]);
  off();
  offClaimed();
  offUpdated();
  if (outcome === 'timeout') throw new Error(`only ${finished.size} of ${files} jobs finished within 120 s`);
  return drops;
}

/** The `date +%s%N` line each job's process printed, as epoch ms. */
async function readSpawnTimes(t: TestAgent, drops: Drop[]): Promise<void> {
  const ids = drops.map((d) => d.jobId!);
  const lines = await t.agent.database.db.selectFrom('job_logs').select(['job_id', 'line']).where('job_id', 'in', ids).execute();
  const byJob = new Map(drops.map((d) => [d.jobId!, d]));
  for (const { job_id, line } of lines) {
    if (!/^\d{16,20}$/.test(line.trim())) continue;
    const drop = byJob.get(job_id);
    if (drop) drop.spawnedAt = Number(BigInt(line.trim()) / 1000n) / 1000;
  }
  const missing = drops.filter((d) => d.spawnedAt === undefined);
  if (missing.length > 0) throw new Error(`${missing.length} jobs have no start time in their log (first: ${missing[0]!.jobId})`);
}

runIfMain(import.meta.url, main);
