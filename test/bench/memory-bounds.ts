/**
 * Bounded memory (issue 10): the agent's resident memory with many pending
 * jobs, under a burst of dropped files, and with a job that floods its log.
 * Goal: RSS bounded (growth per pending job small and flat, back down after
 * a burst), job logs capped at jobs.maxLogLines, the API's job list paged.
 *
 * The agent runs as an operator runs it (`node dist/agent/cli.js agent
 * --config FILE`, one child process, port and tokens from the config) and
 * the benchmark talks to it only through its inbox folders, its GraphQL API
 * and, to count stored log lines, its SQLite file opened read-only. VmRSS of
 * the agent process is sampled every 200 ms from /proc/<pid>/status.
 * "Settled" is the median of the samples in a 3 s window after a phase.
 * RSS keeps what V8 has not collected yet, so after each phase the agent is
 * also asked, through its inspector, for a full GC and its live heap.
 *
 * Files are written to a staging folder on the same filesystem and renamed
 * into the inbox, all at once, so every file is complete when it appears.
 *
 * 1. Pending jobs: the queue is paused through the API (`pauseQueue`, what
 *    an operator does before maintenance; it is kept in the database), then
 *    N files are dropped; each becomes a PENDING job. Then the job list is
 *    read to the end with `jobs(first: 500)` pages, then the agent is
 *    restarted with the N jobs still pending. Run for several N so the
 *    growth per pending job shows. SPOOL_BENCH_BACKLOG=1 runs the largest N
 *    once more with the queue running but its one cpu slot held by a long
 *    job (`sleep 3600`): a backlog, where every admission pass looks at the
 *    waiting jobs.
 * 2. A burst: 2,000 small files dropped at once into an inbox whose command
 *    is /bin/true (cpu concurrency 8), until every job completed.
 * 3. A log flood: one job whose command prints far more lines than
 *    jobs.maxLogLines (2,000 by default); the stored lines are counted.
 *
 * Usage: node dist/test/bench/memory-bounds.js
 *   SPOOL_BENCH_PENDING    pending-job counts, comma-separated (default "1000,10000")
 *   SPOOL_BENCH_BURST      files in the burst (default 2000)
 *   SPOOL_BENCH_BURST_ROUNDS  bursts into the same agent, one after another (default 1)
 *   A list or count of 0 skips that part.
 *   SPOOL_BENCH_LOG_LINES  lines printed by the flooding job, comma-separated (default "200000,2000000")
 *   SPOOL_BENCH_BACKLOG    1 adds the largest pending count once more, waiting behind a running job (not by default: it
 *                          measured the same as the paused queue and adds minutes)
 */
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import WebSocket from 'ws';
import { must, serverConfig, TOKENS } from '../helpers/api.js';
import { rssMB, startAgentProcess, writeConfig, type AgentProcess } from './agent-process.js';
import { envNumber, fixed, median, nowMs, printHeader, printTable, runIfMain, sleep, tempDir } from './report.js';
import { freePort } from '../helpers/free-port.js';

const TRUE = fs.existsSync('/bin/true') ? '/bin/true' : '/usr/bin/true';
const SLEEP = fs.existsSync('/bin/sleep') ? '/bin/sleep' : '/usr/bin/sleep';
const SEQ = fs.existsSync('/usr/bin/seq') ? '/usr/bin/seq' : '/bin/seq';
const SAMPLE_MS = 200;
const SETTLE_MS = 3000;
const PAGE = 500;

export async function main(): Promise<void> {
  const pendingCounts = numberList('SPOOL_BENCH_PENDING', [1000, 10_000]);
  const burst = process.env.SPOOL_BENCH_BURST === '0' ? 0 : envNumber('SPOOL_BENCH_BURST', 2000);
  const burstRounds = envNumber('SPOOL_BENCH_BURST_ROUNDS', 1);
  const logLines = numberList('SPOOL_BENCH_LOG_LINES', [200_000, 2_000_000]);
  printHeader('memory-bounds');

  const pending: PendingResult[] = [];
  for (const n of pendingCounts) pending.push(await pendingJobs(n, 'queue paused'));
  if (process.env.SPOOL_BENCH_BACKLOG === '1' && pendingCounts.length > 0) pending.push(await pendingJobs(Math.max(...pendingCounts), 'behind a running job'));
  const bursts = burst > 0 ? await burstOfFiles(burst, burstRounds) : [];
  const floods = logLines.length > 0 ? await logFlood(logLines) : [];

  const mb = (v: number) => `${fixed(v, 1)} MB`;
  const kbPerJob = (bytesMb: number, jobs: number) => `${fixed((bytesMb * 1e6) / jobs / 1000, 1)} kB`;
  if (pending.length > 0) printTable('Pending jobs: agent VmRSS, and its live JS heap after a full GC', ['pending jobs', 'waiting', 'baseline RSS / heap', 'intake peak', 'after intake', 'after intake, full GC: RSS / heap', 'paging peak', 'after paging: RSS / heap', 'after a restart: RSS / heap', 'intake', 'pages', 'largest page'], pending.map((r) => [
    r.jobs.toLocaleString('en'), r.backlog, `${mb(r.baseline)} / ${mb(r.baselineHeap)}`, mb(r.intakePeak), mb(r.afterIntake), `${mb(r.intakeGc.rssMb)} / ${mb(r.intakeGc.heapMb)}`,
    mb(r.pagingPeak), `${mb(r.afterPaging)} / ${mb(r.pagingHeap)}`, `${mb(r.afterRestart)} / ${mb(r.restartHeap)}`,
    `${fixed(r.intakeSeconds, 1)} s`, `${r.pages} × ≤ ${PAGE} = ${r.paged.toLocaleString('en')}`, `${fixed(r.largestPageKb, 0)} KB, ${fixed(r.slowestPageMs, 0)} ms`,
  ]));
  const verdicts: string[] = [];
  for (const r of pending) {
    verdicts.push(
      `${r.jobs.toLocaleString('en')} pending (${r.backlog}), per job above the baseline: RSS ${kbPerJob(r.afterIntake - r.baseline, r.jobs)} after intake, ` +
        `live heap ${kbPerJob(r.intakeGc.heapMb - r.baselineHeap, r.jobs)} after intake and ${kbPerJob(r.restartHeap - r.baselineHeap, r.jobs)} after a restart`,
    );
  }
  if (pendingCounts.length >= 2) {
    const [lo, hi] = [pending[0]!, pending[pendingCounts.length - 1]!];
    const added = hi.jobs - lo.jobs;
    verdicts.push(
      `${lo.jobs.toLocaleString('en')} → ${hi.jobs.toLocaleString('en')} pending (queue paused), per added job: intake peak RSS ${kbPerJob(hi.intakePeak - lo.intakePeak, added)}, ` +
        `live heap after intake ${kbPerJob(hi.intakeGc.heapMb - lo.intakeGc.heapMb, added)}, live heap after a restart ${kbPerJob(hi.restartHeap - lo.restartHeap, added)}`,
    );
  }
  if (verdicts.length > 0) process.stdout.write(`${verdicts.map((v) => `- ${v}`).join('\n')}\n\n`);

  printTable(`Bursts of ${burst.toLocaleString('en')} files (1 KiB, /bin/true, cpu concurrency 8) into one agent, agent VmRSS`, ['burst', 'before: RSS / live heap', 'peak until all taken', 'peak until all completed', 'settled after', 'after a full GC: RSS / live heap', 'all taken', 'all completed', 'completed / failed'], bursts.map((b, i) => [
    i + 1, `${mb(b.baseline)} / ${mb(b.baselineHeap)}`, mb(b.intakePeak), mb(b.runPeak), mb(b.settled), `${mb(b.gc.rssMb)} / ${mb(b.gc.heapMb)}`,
    `${fixed(b.takenSeconds, 1)} s`, `${fixed(b.doneSeconds, 1)} s (${fixed(burst / b.doneSeconds, 0)} jobs/s)`, `${b.completed} / ${b.failed}`,
  ]));
  const [first, last] = [bursts[0], bursts[bursts.length - 1]];
  if (first && last) {
    // The first burst also pays for one-off growth (compiled code, caches); later bursts show what each job leaves behind.
    const later = bursts.length > 1 ? `; from after burst 1 to after burst ${bursts.length}: ${kbPerJob(last.gc.heapMb - first.gc.heapMb, burst * (bursts.length - 1))} per job` : ' (SPOOL_BENCH_BURST_ROUNDS=3 separates one-off growth from growth per job)';
    process.stdout.write(`- live heap after a full GC, per completed job above the first baseline: ${kbPerJob(last.gc.heapMb - first.baselineHeap, burst * bursts.length)}${later}\n\n`);
  }

  if (floods.length > 0) printTable('One job printing far more than jobs.maxLogLines (2,000), agent VmRSS', ['lines printed', 'lines stored', 'oldest / newest stored', 'baseline', 'peak', 'settled after', 'live heap after a full GC', 'job took'], floods.map((f) => [
    f.printed.toLocaleString('en'), f.stored.toLocaleString('en'), `${f.oldest} / ${f.newest}`, mb(f.baseline), mb(f.peak), mb(f.settled), mb(f.heapMb), `${fixed(f.seconds, 1)} s`,
  ]));
}

// --- the agent, its memory and its API ------------------------------------

interface Sample {
  at: number;
  mb: number;
}

/** VmRSS of `pid` every SAMPLE_MS until stopped. */
function sampleRss(pid: number) {
  const samples: Sample[] = [];
  const take = () => {
    try {
      samples.push({ at: nowMs(), mb: rssMB(pid) });
    } catch {
      // The process has exited; the last sample stands.
    }
  };
  take();
  const timer = setInterval(take, SAMPLE_MS);
  const between = (from: number, to = nowMs()) => samples.filter((s) => s.at >= from && s.at <= to).map((s) => s.mb);
  return {
    /** Takes a sample now, so that a phase shorter than SAMPLE_MS has one too. */
    sample: take,
    peak: (from: number, to?: number) => Math.max(...between(from, to)),
    /** Waits SETTLE_MS and returns the median sample of that window. */
    async settled(): Promise<number> {
      const from = nowMs();
      await sleep(SETTLE_MS);
      return median(between(from));
    },
    stop: () => clearInterval(timer),
  };
}

interface BenchAgent {
  process: AgentProcess;
  rss: ReturnType<typeof sampleRss>;
  url: string;
  /** A full garbage collection in the agent, then its live JS heap and its RSS: what it holds, not what it has not yet freed. */
  afterGc(): Promise<{ heapMb: number; rssMb: number }>;
  stop(): Promise<void>;
}

/**
 * The agent is started with its inspector on a free loopback port, only so
 * that afterGc() can ask V8 for a full collection and the heap in use
 * (HeapProfiler.collectGarbage, Runtime.getHeapUsage). Nothing else talks
 * to it.
 */
async function startAgent(configFile: string, port: number, inboxes: number): Promise<BenchAgent> {
  const agent = await startAgentProcess(configFile, inboxes, { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --inspect=127.0.0.1:0`.trim() });
  const inspector = agent.tail().map((line) => /Debugger listening on (ws:\/\/\S+)/.exec(line)?.[1]).find((url) => url !== undefined);
  if (!inspector) throw new Error(`the agent did not print its inspector URL; its first lines:\n${agent.tail().join('\n')}`);
  const rss = sampleRss(agent.pid);
  return {
    process: agent,
    rss,
    url: `http://127.0.0.1:${port}`,
    async afterGc() {
      const socket = new WebSocket(inspector);
      await once(socket, 'open');
      let nextId = 0;
      const call = (method: string) =>
        new Promise<Record<string, number>>((resolve) => {
          const id = ++nextId;
          const onMessage = (data: WebSocket.RawData) => {
            const message = JSON.parse(String(data)) as { id?: number; result: Record<string, number> };
            if (message.id !== id) return;
            socket.off('message', onMessage);
            resolve(message.result);
          };
          socket.on('message', onMessage);
          socket.send(JSON.stringify({ id, method }));
        });
      try {
        await call('HeapProfiler.collectGarbage');
        const usage = await call('Runtime.getHeapUsage');
        await sleep(500);
        return { heapMb: usage.usedSize! / 1e6, rssMb: rssMB(agent.pid) };
      } finally {
        socket.close();
      }
    },
    async stop() {
      rss.stop();
      await agent.stop();
    },
  };
}

/** The config of CONTRACT.md with tokens by hash and a port found free now (the API's URL is then known without reading the log). */
async function configure(dir: string, profiles: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<{ file: string; port: number; inboxes: string[] }> {
  const port = await freePort();
  const names = Object.keys(profiles);
  const inboxes = names.map((name) => ({ path: `inbox/${name}`, profile: name, outbox: `outbox/${name}` }));
  for (const inbox of inboxes) fs.mkdirSync(path.join(dir, inbox.path), { recursive: true });
  const file = writeConfig(dir, { dataDir: 'data', profiles, inboxes, server: { ...serverConfig(), port }, ...extra });
  return { file, port, inboxes: inboxes.map((i) => path.join(dir, i.path)) };
}

interface Stats {
  pending: number;
  running: number;
  completed: number;
  failed: number;
  total: number;
}

async function queueStats(agent: BenchAgent): Promise<Stats> {
  try {
    const data = await retried(() => must<{ queueStats: Stats }>(agent.url, TOKENS.viewer, '{ queueStats { pending running completed failed total } }'));
    return data.queueStats;
  } catch (error) {
    const { exitCode, signalCode } = agent.process.child;
    const state = exitCode === null && signalCode === null ? 'still running' : `exited (${exitCode ?? signalCode})`;
    throw new Error(`queueStats failed (${String((error as Error).cause ?? error)}); the agent ${state}; its last lines:\n${agent.process.tail().join('\n')}`);
  }
}

/**
 * A read sent again once when the connection it went out on was closed by
 * the agent (an idle keep-alive connection the agent closed just as it was
 * reused; fetch does not retry on its own). A real client does the same.
 */
async function retried<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (!/other side closed|ECONNRESET/.test(String((error as Error).cause ?? ''))) throw error;
    return read();
  }
}

/** Polls queueStats until `done` holds; throws after `timeoutMs`. */
async function waitForStats(agent: BenchAgent, done: (s: Stats) => boolean, what: string, timeoutMs = 240_000): Promise<Stats> {
  const end = nowMs() + timeoutMs;
  for (;;) {
    const stats = await queueStats(agent);
    if (done(stats)) return stats;
    if (nowMs() > end) throw new Error(`${what} did not happen within ${timeoutMs / 1000} s; queueStats ${JSON.stringify(stats)}`);
    await sleep(250);
  }
}

/**
 * `count` files of 1 KiB written now to a staging folder beside the inbox;
 * the returned function renames them all into `inbox` without a pause and
 * returns the moment the last one landed.
 */
function stageFiles(dir: string, inbox: string, count: number, prefix: string): () => number {
  const staging = path.join(dir, `staging-${prefix}`);
  fs.mkdirSync(staging, { recursive: true });
  const names = Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(5, '0')}.bin`);
  for (const [i, name] of names.entries()) fs.writeFileSync(path.join(staging, name), Buffer.alloc(1024, i % 256));
  return () => {
    for (const name of names) fs.renameSync(path.join(staging, name), path.join(inbox, name));
    return nowMs();
  };
}

// --- 1. pending jobs -------------------------------------------------------

interface PendingResult {
  jobs: number;
  backlog: Backlog;
  baseline: number;
  baselineHeap: number;
  intakePeak: number;
  afterIntake: number;
  intakeGc: { heapMb: number; rssMb: number };
  pagingPeak: number;
  afterPaging: number;
  pagingHeap: number;
  afterRestart: number;
  restartHeap: number;
  intakeSeconds: number;
  pages: number;
  paged: number;
  largestPageKb: number;
  slowestPageMs: number;
}

const JOBS_PAGE = `query ($after: String) {
  jobs(first: ${PAGE}, after: $after) {
    totalCount
    edges { node { id fileName profile status priority createdAt sizeBytes inputPath runAt } }
    pageInfo { endCursor hasNextPage }
  }
}`;

/**
 * Why the jobs wait: the queue paused by an operator, or the one cpu slot
 * taken by a long job (a backlog; admission passes then look at the queue
 * after every change, as they do on a busy appliance).
 */
type Backlog = 'queue paused' | 'behind a running job';

async function pendingJobs(count: number, backlog: Backlog): Promise<PendingResult> {
  const dir = tempDir('mem-pending');
  const paused = backlog === 'queue paused';
  const profiles = {
    ...(paused ? {} : { hold: { kind: 'command', command: [SLEEP, '3600'], priority: 1 } }),
    tick: { kind: 'command', command: [TRUE] },
  };
  // A short stop deadline, so the restart below does not wait 30 s for the long job.
  const { file, port, inboxes } = await configure(dir, profiles, { resources: { categories: { cpu: { concurrency: 1 } } }, jobs: { stopDeadlineSeconds: 1 } });
  const inbox = inboxes[inboxes.length - 1]!;
  const holding = (s: Stats) => paused || s.running === 1;
  let agent = await startAgent(file, port, inboxes.length);
  try {
    if (paused) await must(agent.url, TOKENS.operator, 'mutation { pauseQueue { queuePaused } }');
    else {
      stageFiles(dir, inboxes[0]!, 1, 'hold')();
      await waitForStats(agent, holding, 'the long job started');
    }
    const drop = stageFiles(dir, inbox, count, 'pending');
    // A full GC first, so the baseline is what a quiet agent holds.
    const baselineHeap = (await agent.afterGc()).heapMb;
    const baseline = await agent.rss.settled();

    const dropped = drop();
    await waitForStats(agent, (s) => s.pending >= count, `${count} pending jobs`);
    agent.rss.sample();
    const taken = nowMs();
    const intakePeak = agent.rss.peak(dropped, taken);
    const afterIntake = await agent.rss.settled();
    const intakeGc = await agent.afterGc();

    const pagingFrom = nowMs();
    let after: string | null = null;
    let pages = 0;
    let paged = 0;
    let largestPageKb = 0;
    let slowestPageMs = 0;
    for (;;) {
      const t0 = nowMs();
      type Page = { jobs: { totalCount: number; edges: { node: { status: string } }[]; pageInfo: { endCursor: string | null; hasNextPage: boolean } } };
      const data: Page = await retried(() => must<Page>(agent.url, TOKENS.viewer, JOBS_PAGE, { after }));
      slowestPageMs = Math.max(slowestPageMs, nowMs() - t0);
      largestPageKb = Math.max(largestPageKb, Buffer.byteLength(JSON.stringify(data)) / 1000);
      agent.rss.sample();
      pages += 1;
      paged += data.jobs.edges.length;
      if (data.jobs.edges.length > PAGE) throw new Error(`a page of ${data.jobs.edges.length} jobs for first: ${PAGE}`);
      if (!data.jobs.pageInfo.hasNextPage) break;
      after = data.jobs.pageInfo.endCursor;
    }
    if (paged !== count + (paused ? 0 : 1)) throw new Error(`paging found ${paged} jobs, expected ${count} pending${paused ? '' : ' and the long one'}`);
    const pagingPeak = agent.rss.peak(pagingFrom);
    const afterPaging = await agent.rss.settled();
    const pagingHeap = (await agent.afterGc()).heapMb;

    // The pause is kept in the database, and the long job (priority 1) is
    // admitted first again, so the jobs are still pending after a restart.
    await agent.stop();
    agent = await startAgent(file, port, inboxes.length);
    await waitForStats(agent, holding, 'the long job started again');
    const afterRestart = await agent.rss.settled();
    const restartHeap = (await agent.afterGc()).heapMb;
    const stats = await queueStats(agent);
    if (stats.pending !== count) throw new Error(`after the restart ${stats.pending} jobs are pending, expected ${count}`);

    return { jobs: count, backlog, baseline, baselineHeap, intakePeak, afterIntake, intakeGc, pagingPeak, afterPaging, pagingHeap, afterRestart, restartHeap, intakeSeconds: (taken - dropped) / 1000, pages, paged, largestPageKb, slowestPageMs };
  } finally {
    await agent.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// --- 2. a burst ------------------------------------------------------------

interface BurstResult {
  baseline: number;
  intakePeak: number;
  runPeak: number;
  settled: number;
  gc: { heapMb: number; rssMb: number };
  baselineHeap: number;
  takenSeconds: number;
  doneSeconds: number;
  completed: number;
  failed: number;
}

/** `rounds` bursts of `count` files into one agent, one after another, so that memory a finished job leaves behind adds up where it is kept. */
async function burstOfFiles(count: number, rounds: number): Promise<BurstResult[]> {
  const dir = tempDir('mem-burst');
  const { file, port, inboxes } = await configure(dir, { tick: { kind: 'command', command: [TRUE] } }, { resources: { categories: { cpu: { concurrency: 8 } } } });
  const agent = await startAgent(file, port, 1);
  const results: BurstResult[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      const drop = stageFiles(dir, inboxes[0]!, count, `burst${round}`);
      const baselineHeap = (await agent.afterGc()).heapMb;
      const baseline = await agent.rss.settled();
      const dropped = drop();
      await waitForStats(agent, (s) => s.total >= count * round, `${count} jobs created`);
      const taken = nowMs();
      const stats = await waitForStats(agent, (s) => s.completed + s.failed >= count * round, `${count} jobs finished`);
      const done = nowMs();
      results.push({
        baseline,
        intakePeak: agent.rss.peak(dropped, taken),
        runPeak: agent.rss.peak(dropped, done),
        settled: await agent.rss.settled(),
        gc: await agent.afterGc(),
        baselineHeap,
        takenSeconds: (taken - dropped) / 1000,
        doneSeconds: (done - dropped) / 1000,
        completed: stats.completed - (count * (round - 1)),
        failed: stats.failed,
      });
    }
  } finally {
    await agent.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

// --- 3. a log flood --------------------------------------------------------

interface FloodResult {
  printed: number;
  stored: number;
  oldest: string;
  newest: string;
  baseline: number;
  peak: number;
  settled: number;
  heapMb: number;
  seconds: number;
}

async function logFlood(counts: readonly number[]): Promise<FloodResult[]> {
  const dir = tempDir('mem-log');
  const profiles = Object.fromEntries(counts.map((n) => [`flood-${n}`, { kind: 'command', command: [SEQ, '-f', 'line %.0f of a chatty tool', '1', String(n)] }]));
  const { file, port, inboxes } = await configure(dir, profiles);
  const agent = await startAgent(file, port, counts.length);
  const results: FloodResult[] = [];
  try {
    for (const [i, printed] of counts.entries()) {
      const drop = stageFiles(dir, inboxes[i]!, 1, `flood-${printed}`);
      await agent.afterGc();
      const baseline = await agent.rss.settled();
      const dropped = drop();
      await waitForStats(agent, (s) => s.completed + s.failed >= i + 1, `the ${printed}-line job finished`, 120_000);
      const finished = nowMs();
      const peak = agent.rss.peak(dropped, finished);
      const settled = await agent.rss.settled();
      const { heapMb } = await agent.afterGc();
      const { stored, oldest, newest } = storedLog(path.join(dir, 'data', 'spool.db'), `flood-${printed}`);
      results.push({ printed, stored, oldest, newest, baseline, peak, settled, heapMb, seconds: (finished - dropped) / 1000 });
    }
  } finally {
    await agent.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

/** The stored log of the one job of `profile`, read from the SQLite file as `sqlite3` would. */
function storedLog(dbFile: string, profile: string): { stored: number; oldest: string; newest: string } {
  const db = new SQLite(dbFile, { readonly: true, fileMustExist: true });
  try {
    const { id } = db.prepare('select id from jobs where profile = ?').get(profile) as { id: string };
    const { n } = db.prepare('select count(*) as n from job_logs where job_id = ?').get(id) as { n: number };
    const lineNumber = (order: 'asc' | 'desc') => {
      const rows = db.prepare(`select line from job_logs where job_id = ? order by id ${order}`).all(id) as { line: string }[];
      const printed = rows.map((r) => /^line (\d+) of/.exec(r.line)?.[1]).find((v) => v !== undefined);
      return printed ? `line ${Number(printed).toLocaleString('en')}` : 'none';
    };
    return { stored: n, oldest: lineNumber('asc'), newest: lineNumber('desc') };
  } finally {
    db.close();
  }
}

function numberList(name: string, fallback: number[]): number[] {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === '0') return [];
  const values = raw.split(',').map((v) => Number(v.trim()));
  if (values.some((v) => !Number.isInteger(v) || v <= 0)) throw new Error(`Expected \`${name}\` to be positive whole numbers separated by commas, got "${raw}"`);
  return values;
}

runIfMain(import.meta.url, main);
