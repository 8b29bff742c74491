/**
 * Benchmark: the API on a long history, and what the API layer costs.
 *
 * 1. `jobs(first: 50, status: [COMPLETED])` and `queueStats` with 1,000,000
 *    jobs of history (SPOOL_BENCH_HISTORY), end to end over HTTP on
 *    loopback: p50/p95 of sequential requests. Goal: p95 under 15 ms each.
 * 2. A simple query's throughput (`{ queueStats { pending } }`, 8 requests
 *    in flight) against a bare graphql-yoga server answering a constant, in
 *    the same run: the ratio, and the share the token check and limits take
 *    (the same agent schema served with and without them).
 *
 *   npm run build && node dist/test/bench/api-queries.js
 */
import { fork } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSchema, createYoga } from 'graphql-yoga';
import { createAgent } from '../../agent/agent.js';
import { createContext, type ApiServices } from '../../agent/api/context.js';
import { spoolSchema } from '../../agent/api/schema/index.js';
import { createGraphql } from '../../agent/api/graphql.js';
import { createJobQueries } from '../../agent/jobs/job-queries.js';
import { parseConfig } from '../../agent/config/load-config.js';
import { openDatabase } from '../../agent/db/database.js';
import { newJobId } from '../../agent/ids.js';
import { silentLogger } from '../../agent/logger.js';
import { serverConfig, TOKENS } from '../helpers/api.js';
import { createQuietSystemSampler, pathWithoutNvidiaSmi } from '../helpers/fake-system.js';
import { envNumber, fixed, median, nowMs, percentile, printHeader, printTable, runIfMain, tempDir } from './report.js';

const STATUSES = ['COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED', 'FAILED', 'CANCELLED', 'COMPLETED'];

/** Writes `n` finished jobs straight into a fresh database (the agent's own migrations make the schema). */
async function seedHistory(dataDir: string, n: number): Promise<number> {
  const started = nowMs();
  const opened = await openDatabase(path.join(dataDir, 'spool.db'));
  const insert = opened.sqlite.prepare(`insert into jobs (id, profile, kind, category, status, priority, input_path, source_path, inbox_path, outbox, file_name,
    size_bytes, mtime_ms, attempts, max_attempts, progress, created_at, started_at, finished_at, updated_at)
    values (?, 'web', 'transcode', 'gpu_encode', ?, 5, ?, ?, '/srv/in/web', '/srv/out/web', ?, 1000000, 0, 1, 3, 100, ?, ?, ?, ?)`);
  const output = opened.sqlite.prepare("insert into job_outputs (job_id, seq, path, size_bytes) values (?, 0, ?, 500000)");
  const t0 = Date.now() - n * 1000;
  const batch = opened.sqlite.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const at = t0 + i * 1000;
      const id = newJobId(at);
      const name = `clip ${i}.mkv`;
      const status = STATUSES[i % STATUSES.length]!;
      insert.run(id, status, `/srv/in/web/${name}`, `/srv/in/web/done/${name}`, name, at, at + 10, at + 900, at + 900);
      if (status === 'COMPLETED') output.run(id, `/srv/out/web/clip ${i}.mp4`);
    }
  });
  for (let i = 0; i < n; i += 50_000) batch(i, Math.min(n, i + 50_000));
  opened.sqlite.pragma('optimize');
  await opened.close();
  return nowMs() - started;
}

async function post(url: string, token: string | null, query: string): Promise<void> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify({ query }) });
  const body = (await response.json()) as { errors?: unknown };
  if (response.status !== 200 || body.errors) throw new Error(`${query}: HTTP ${response.status} ${JSON.stringify(body.errors)}`);
}

async function latencies(url: string, query: string, requests: number): Promise<number[]> {
  for (let i = 0; i < 20; i++) await post(url, TOKENS.viewer, query); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < requests; i++) {
    const start = nowMs();
    await post(url, TOKENS.viewer, query);
    samples.push(nowMs() - start);
  }
  return samples;
}

/**
 * Requests per second with `inFlight` concurrent loops for `ms`, from a
 * client in its own process (node:http with keep-alive, far cheaper than
 * fetch), so the client's CPU is not taken from the server being measured.
 */
function throughput(url: string, token: string | null, query: string, ms: number, inFlight = 8): Promise<number> {
  const child = fork(fileURLToPath(import.meta.url), ['--client', JSON.stringify({ url, token, query, ms, inFlight })], { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.once('message', (rate) => resolve(rate as number));
    child.once('exit', (code) => code !== 0 && reject(new Error(`throughput client exited with ${code}`)));
  });
}

async function client(options: { url: string; token: string | null; query: string; ms: number; inFlight: number }): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.inFlight });
  const body = JSON.stringify({ query: options.query });
  const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) };
  const once = () =>
    new Promise<void>((resolve, reject) => {
      const request = http.request(options.url, { method: 'POST', agent, headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () => (response.statusCode === 200 && !Buffer.concat(chunks).includes('"errors"') ? resolve() : reject(new Error(`HTTP ${response.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 200)}`))));
      });
      request.on('error', reject);
      request.end(body);
    });
  for (let i = 0; i < 100; i++) await once();
  let done = 0;
  const end = nowMs() + options.ms;
  await Promise.all(
    Array.from({ length: options.inFlight }, async () => {
      while (nowMs() < end) {
        await once();
        done++;
      }
    }),
  );
  process.send!(done / (options.ms / 1000));
  agent.destroy();
}

function listen(handler: http.RequestListener): Promise<{ url: string; close(): void }> {
  const server = http.createServer(handler);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({ url: `http://127.0.0.1:${port}/graphql`, close: () => server.close() });
    }),
  );
}

async function main(): Promise<void> {
  printHeader('API queries');
  const history = envNumber('SPOOL_BENCH_HISTORY', 1_000_000);
  const requests = envNumber('SPOOL_BENCH_REQUESTS', 500);
  const seconds = envNumber('SPOOL_BENCH_SECONDS', 5);
  const dir = tempDir('api');
  const seedMs = await seedHistory(path.join(dir, 'data'), history);
  process.stdout.write(`seeded ${history.toLocaleString('en')} jobs in ${fixed(seedMs / 1000)} s\n\n`);

  const config = parseConfig({ dataDir: 'data', server: serverConfig(), profiles: { web: { kind: 'transcode' } }, inboxes: [{ path: 'inbox/web', profile: 'web', outbox: 'outbox/web' }] }, dir);
  const agent = await createAgent(config, { logger: silentLogger, createFolders: true, env: pathWithoutNvidiaSmi(), samplers: { system: createQuietSystemSampler() } });
  await agent.start();
  const url = `${agent.api.url()}/graphql`;

  const listQuery = '{ jobs(first: 50, status: [COMPLETED]) { totalCount edges { cursor node { id status profile progress inputPath outputs { path sizeBytes } createdAt finishedAt } } pageInfo { hasNextPage endCursor } } }';
  const statsQuery = '{ queueStats { pending running paused completed failed cancelled } }';
  const rows: (string | number)[][] = [];
  for (const [name, query] of [
    ['jobs(first: 50, status: [COMPLETED]) with totalCount', listQuery],
    ['queueStats', statsQuery],
  ] as const) {
    const samples = await latencies(url, query, requests);
    const p95 = percentile(samples, 0.95);
    rows.push([name, requests, fixed(percentile(samples, 0.5), 2), fixed(p95, 2), p95 < 15 ? 'met' : 'MISSED']);
  }
  printTable(`Latency with ${history.toLocaleString('en')} jobs of history (sequential requests, ms)`, ['query', 'requests', 'p50', 'p95', 'goal p95 < 15 ms'], rows);

  // Throughput of four servers in one process, interleaved over rounds (the box is noisy), median per server:
  // a bare Yoga constant; the agent's schema and SQLite read alone; plus Spool's engine plugins (armor limits,
  // masking, roles); and the agent as served (plus the token, origin and size checks of server.ts).
  const simple = '{ queueStats { pending } }';
  const queries = createJobQueries(agent.database.db);
  const services = { queries } as unknown as ApiServices;
  const principal = { name: 'bench', role: 'admin' as const };
  const bare = await listen(createYoga({ schema: createSchema({ typeDefs: 'type Query { queueStats: Stats } type Stats { pending: Int }', resolvers: { Query: { queueStats: () => ({ pending: 0 }) } } }), logging: false }));
  const unguarded = await listen(createYoga({ schema: spoolSchema(), logging: false, context: () => createContext(principal, services) }));
  const engine = createGraphql({ services, logger: silentLogger });
  const engineOnly = await listen((req, res) => void engine(req, res, { principal }));
  const servers = [
    { name: 'bare graphql-yoga answering a constant', url: bare.url, token: null, rates: [] as number[], cpuUs: [] as number[] },
    { name: 'agent schema + SQLite read, no limits or checks', url: unguarded.url, token: null, rates: [] as number[], cpuUs: [] as number[] },
    { name: '+ armor limits, error masking, role plugin', url: engineOnly.url, token: null, rates: [] as number[], cpuUs: [] as number[] },
    { name: '+ token, origin and size checks: the agent as served', url, token: TOKENS.viewer, rates: [] as number[], cpuUs: [] as number[] },
  ];
  const rounds = envNumber('SPOOL_BENCH_ROUNDS', 3);
  // Round 0 warms the shared graphql/Yoga code up (the JIT) and is not counted.
  for (let round = 0; round <= rounds; round++) {
    // A different order each round, so no server always runs right after the same neighbour.
    for (const server of [...servers.slice(round % servers.length), ...servers.slice(0, round % servers.length)]) {
      // Server CPU per request is measured too: it moves far less with the box's load than requests/s.
      const cpuBefore = process.cpuUsage();
      const rate = await throughput(server.url, server.token, simple, seconds * 1000);
      const cpu = process.cpuUsage(cpuBefore);
      if (round > 0) {
        server.rates.push(rate);
        server.cpuUs.push((cpu.user + cpu.system) / (rate * seconds));
      }
    }
  }
  for (const server of [bare, unguarded, engineOnly]) server.close();
  const bareRate = median(servers[0]!.rates);
  printTable(
    `Simple query throughput: ${simple}, 8 in flight, ${seconds} s per server per round, median of ${rounds} interleaved rounds`,
    ['server', 'requests/s', 'ratio to bare Yoga', 'server CPU µs per request', 'CPU ratio to bare Yoga'],
    servers.map((s) => [s.name, fixed(median(s.rates), 0), fixed(median(s.rates) / bareRate, 2), fixed(median(s.cpuUs), 0), fixed(median(s.cpuUs) / median(servers[0]!.cpuUs), 2)]),
  );
  await agent.stop();
}

if (process.argv[2] === '--client') void client(JSON.parse(process.argv[3]!)).then(() => process.exit(0));
else runIfMain(import.meta.url, main);
