/**
 * An idle agent: `spool agent --config …` with three inboxes and nothing to
 * do. Goal: under 0.5 % of one core and under 150 MB resident.
 *
 * CPU is the utime+stime delta of the agent process from /proc/<pid>/stat
 * over each window (which covers the scheduler's 5 s safety passes and the
 * 30 s inbox rescan), as a share of one core. Two windows follow each other:
 * the first after a short settle (it holds V8's one-off collection of
 * start-up garbage), the second the agent idling as it will for hours. Resident memory is VmRSS from
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

  // Two windows back to back: the first minute after start-up still holds
  // one full garbage collection V8's memory reducer runs some 20-40 s after
  // the heap stops growing (start-up garbage); the second is the agent
  // idling as it will for hours.
  const windows: { label: string; cpuSeconds: number; wallSeconds: number; rss: number[] }[] = [];
  try {
    await sleep(SETTLE_MS);
    for (const label of [`${seconds} s from ${SETTLE_MS / 1000} s after start`, `the ${seconds} s after that`]) {
      const rss: number[] = [];
      const before = cpuTimes(agent.pid);
      const t0 = nowMs();
      const end = t0 + seconds * 1000;
      while (nowMs() < end) {
        await sleep(Math.min(1000, end - nowMs()));
        rss.push(rssMB(agent.pid));
      }
      windows.push({ label, cpuSeconds: cpuTimes(agent.pid).self - before.self, wallSeconds: (nowMs() - t0) / 1000, rss });
    }
  } finally {
    await agent.stop();
  }

  printTable(`Idle agent, three inboxes`, ['window', 'CPU time', 'CPU share of one core', 'RSS end / highest', 'goal', 'result'], windows.map((w) => {
    const share = (w.cpuSeconds / w.wallSeconds) * 100;
    const last = w.rss[w.rss.length - 1] ?? Number.NaN;
    const max = Math.max(...w.rss);
    return [w.label, `${fixed(w.cpuSeconds, 2)} s`, `${fixed(share, 3)} %`, `${fixed(last, 1)} / ${fixed(max, 1)} MB`, '< 0.5 %, < 150 MB', share < 0.5 && max < 150 ? 'met' : 'MISSED'];
  }));
}

runIfMain(import.meta.url, main);
