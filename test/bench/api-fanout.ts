/**
 * Benchmark: subscription fan-out. 200 graphql-ws subscribers to
 * `jobUpdated` while 20 running jobs report progress 4 times a second.
 * Delivery latency p50/p95 (goal: p95 under 50 ms) and the agent's CPU.
 *
 * The agent runs in a child process (so its CPU is its own); its 20 jobs
 * are real running processes (`sleep`), their progress ticks are emitted on
 * the agent's event bus, the path ffmpeg progress takes after parsing, with
 * the emit time carried in `fps` so the subscriber can measure delivery.
 *
 *   npm run build && node dist/test/bench/api-fanout.js
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAgent } from '../../agent/agent.js';
import { parseConfig } from '../../agent/config/load-config.js';
import { silentLogger } from '../../agent/logger.js';
import { serverConfig, subscribe, TOKENS, wsClient } from '../helpers/api.js';
import { createQuietSystemSampler, pathWithoutNvidiaSmi } from '../helpers/fake-system.js';
import { atExit, envNumber, fixed, nowMs, percentile, printHeader, printTable, runIfMain, sleep, tempDir } from './report.js';

const JOBS = 20;
const TICKS_PER_SECOND = 4;

/** The child: an agent with JOBS running jobs, ticking progress on command. */
async function agentChild(dir: string): Promise<void> {
  const config = parseConfig(
    {
      dataDir: 'data',
      server: serverConfig(),
      resources: { categories: { cpu: { concurrency: JOBS } }, cpu: { ceilingPercent: 100 } },
      profiles: { hold: { kind: 'command', command: ['sleep', '3600'] } },
      inboxes: [{ path: 'inbox', profile: 'hold', outbox: 'outbox' }],
    },
    dir,
  );
  const agent = await createAgent(config, { logger: silentLogger, createFolders: true, env: pathWithoutNvidiaSmi(), samplers: { system: createQuietSystemSampler() } });
  await agent.start();
  const ids: string[] = [];
  for (let i = 0; i < JOBS; i++) {
    const file = path.join(dir, 'inbox', `job-${i}.bin`);
    fs.writeFileSync(file, 'x');
    ids.push((await agent.jobs.submit({ profile: 'hold', inputPath: file })).id);
  }
  while ((await agent.jobs.counts()).RUNNING < JOBS) await sleep(50);
  let timer: NodeJS.Timeout | undefined;
  let cpuAtStart = process.cpuUsage();
  let tick = 0;
  process.on('message', (message: string) => {
    if (message === 'tick') {
      cpuAtStart = process.cpuUsage();
      // Each job ticks 4 times a second, spread evenly as real progress would be.
      timer = setInterval(() => {
        const id = ids[tick++ % JOBS]!;
        agent.events.emit('job:progress', { jobId: id, progress: { percent: (tick / 10) % 100, fps: Date.now(), speed: 1, etaSeconds: 10 } });
      }, 1000 / (JOBS * TICKS_PER_SECOND));
    } else if (message === 'stop') {
      clearInterval(timer);
      const cpu = process.cpuUsage(cpuAtStart);
      process.send!({ cpuSeconds: (cpu.user + cpu.system) / 1e6, rssMb: process.memoryUsage().rss / 1048576 });
      void agent.stop().then(() => process.exit(0));
    }
  });
  process.send!({ url: agent.api.url() });
}

async function main(): Promise<void> {
  printHeader('API subscription fan-out');
  const subscribers = envNumber('SPOOL_BENCH_SUBSCRIBERS', 200);
  const seconds = envNumber('SPOOL_BENCH_SECONDS', 20);
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--agent', tempDir('fanout')], { stdio: 'inherit' });
  atExit(() => child.kill('SIGKILL'));
  const next = () => new Promise<Record<string, unknown>>((resolve) => child.once('message', (m) => resolve(m as Record<string, unknown>)));
  const { url } = (await next()) as { url: string };

  const latencies: number[] = [];
  let received = 0;
  const clients = Array.from({ length: subscribers }, () => wsClient(url, TOKENS.viewer));
  const subs = clients.map((c) => subscribe(c.client, 'subscription { jobUpdated { id progress fps } }'));
  for (const sub of subs) {
    const values = sub.values as { jobUpdated: { fps: number | null } }[];
    const push = values.push.bind(values);
    // Measure at arrival instead of keeping every payload.
    values.push = (...items) => {
      for (const item of items) {
        received++;
        if (measuring && item.jobUpdated.fps) latencies.push(Date.now() - item.jobUpdated.fps);
      }
      return push();
    };
  }
  await sleep(2000); // every client connected and subscribed
  let measuring = false;
  child.send('tick');
  await sleep(1000); // warm-up
  measuring = true;
  const start = nowMs();
  await sleep(seconds * 1000);
  measuring = false;
  const wall = (nowMs() - start) / 1000;
  const stopped = next();
  child.send('stop');
  const { cpuSeconds, rssMb } = (await stopped) as { cpuSeconds: number; rssMb: number };
  for (const c of clients) await c.client.dispose();

  const expected = subscribers * JOBS * TICKS_PER_SECOND * wall;
  const p95 = percentile(latencies, 0.95);
  printTable(
    `${subscribers} subscribers to jobUpdated, ${JOBS} running jobs ticking ${TICKS_PER_SECOND}/s, ${fixed(wall, 0)} s measured`,
    ['deliveries', 'of expected', 'p50 ms', 'p95 ms', 'p99 ms', 'agent CPU (cores, incl. warm-up)', 'agent RSS MB', 'goal p95 < 50 ms'],
    [[latencies.length, `${fixed((latencies.length / expected) * 100, 0)} %`, fixed(percentile(latencies, 0.5), 1), fixed(p95, 1), fixed(percentile(latencies, 0.99), 1), fixed(cpuSeconds / (wall + 1), 2), fixed(rssMb, 0), p95 < 50 ? 'met' : 'MISSED']],
  );
  void received;
}

if (process.argv[2] === '--agent') void agentChild(process.argv[3]!);
else runIfMain(import.meta.url, main);
