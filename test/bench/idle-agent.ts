/**
 * An idle agent: `spool agent --config …` with three inboxes and nothing to
 * do. Goal: under 0.5 % of one core and under 150 MB resident.
 *
 * CPU is the utime+stime delta of the agent process from /proc/<pid>/stat
 * over the window (which covers the scheduler's 5 s safety passes and the
 * 30 s inbox rescan), as a share of one core. Resident memory is VmRSS from
 * /proc/<pid>/status, sampled every second; the last and the highest sample
 * are reported.
 *
 * Usage: node dist/test/bench/idle-agent.js [seconds]
 *   SPOOL_BENCH_IDLE_SECONDS  the window (default 60; the argument wins)
 */
import fs from 'node:fs';
import path from 'node:path';
import { cpuTimes, rssMB, startAgentProcess, writeConfig } from './agent-process.js';
import { envNumber, fixed, nowMs, printHeader, printTable, runIfMain, sleep, tempDir } from './report.js';

/** Start-up work (migrations, the first scans, JIT) that is not idling. */
const SETTLE_MS = 3000;

export async function main(): Promise<void> {
  const arg = process.argv[2];
  const seconds = arg !== undefined && arg !== '' ? Number(arg) : envNumber('SPOOL_BENCH_IDLE_SECONDS', 60);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`Expected the window in seconds to be a positive number, got "${arg}"`);
  printHeader('idle-agent');

  const dir = tempDir('idle');
  const profiles = {
    web: { kind: 'transcode', encoder: 'auto' },
    thumbnail: { kind: 'thumbnail' },
    probe: { kind: 'probe' },
  };
  const inboxes = Object.keys(profiles).map((name) => ({ path: `inbox/${name}`, profile: name, outbox: `outbox/${name}` }));
  for (const inbox of inboxes) fs.mkdirSync(path.join(dir, inbox.path), { recursive: true });
  const agent = await startAgentProcess(writeConfig(dir, { dataDir: 'data', profiles, inboxes }), inboxes.length);

  const rss: number[] = [];
  let cpuSeconds: number;
  let wallSeconds: number;
  try {
    await sleep(SETTLE_MS);
    const before = cpuTimes(agent.pid);
    const t0 = nowMs();
    const end = t0 + seconds * 1000;
    while (nowMs() < end) {
      await sleep(Math.min(1000, end - nowMs()));
      rss.push(rssMB(agent.pid));
    }
    const after = cpuTimes(agent.pid);
    wallSeconds = (nowMs() - t0) / 1000;
    cpuSeconds = after.self - before.self;
  } finally {
    await agent.stop();
  }

  const share = (cpuSeconds / wallSeconds) * 100;
  const lastRss = rss[rss.length - 1] ?? Number.NaN;
  const maxRss = Math.max(...rss);
  printTable(`Idle agent, three inboxes, ${fixed(wallSeconds, 0)} s after a ${SETTLE_MS / 1000} s settle`, ['measure', 'value', 'goal', 'result'], [
    ['CPU time', `${fixed(cpuSeconds, 2)} s`, '', ''],
    ['CPU share of one core', `${fixed(share, 3)} %`, '< 0.5 %', share < 0.5 ? 'met' : 'MISSED'],
    ['RSS at the end', `${fixed(lastRss, 1)} MB`, '< 150 MB', lastRss < 150 ? 'met' : 'MISSED'],
    ['RSS, highest sample', `${fixed(maxRss, 1)} MB`, '< 150 MB', maxRss < 150 ? 'met' : 'MISSED'],
  ]);
}

runIfMain(import.meta.url, main);
