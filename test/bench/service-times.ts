/**
 * The figures an administrator asks of the service (issue 7):
 *
 * - the exposure score of `systemd-analyze security --offline=yes` for
 *   systemd/spool-agent.service;
 * - start to ready: from spawning `spool agent` on the embedded default (data
 *   and inboxes in ./var of a fresh folder) to READY=1 arriving on a
 *   NOTIFY_SOCKET this script listens on, as systemd would see it; the first
 *   start (creates and migrates the database) and later ones;
 * - stop time with 4 running jobs: SIGTERM to exit, when the 4 attempts
 *   outlast jobs.stopDeadlineSeconds (set to 5 s here) and are stopped and
 *   queued again. Node commands and endless ffmpeg encodes (lavfi source,
 *   libx264) as the jobs.
 *
 * Usage: npm run build && node dist/test/bench/service-times.js [runs]   (default 3)
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { locateMediaTools } from '../../agent/media/locate.js';
import { listenNotifySocket, notifySocketUnavailable, type NotifySocket } from '../helpers/notify-socket.js';
import { waitForFile } from '../helpers/wait-for-file.js';
import { CLI } from './agent-process.js';
import { atExit, fixed, median, nowMs, printHeader, printTable, runIfMain, tempDir } from './report.js';

const UNIT = fileURLToPath(new URL('../../../systemd/spool-agent.service', import.meta.url));
const STOP_DEADLINE_SECONDS = 5;

interface Started {
  pid: number;
  exited: Promise<number | null>;
  /** ms from spawn to READY=1. */
  readyMs: number;
}

async function startAgent(cwd: string, socket: NotifySocket, args: string[]): Promise<Started> {
  const from = socket.messages.length;
  const t0 = nowMs();
  const child = spawn(process.execPath, [CLI, 'agent', ...args], { cwd, env: { ...process.env, NOTIFY_SOCKET: socket.path }, stdio: 'ignore' });
  atExit(() => child.kill('SIGKILL'));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await socket.waitFor('READY=1', { from, timeoutMs: 60_000 });
  return { pid: child.pid!, exited, readyMs: ready.at - t0 };
}

function exposure(): string {
  const result = spawnSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', UNIT], { encoding: 'utf8' });
  if (result.error) return 'systemd-analyze missing';
  return /Overall exposure level for \S+: (\d+\.\d+ \w+)/.exec(result.stdout)?.[1] ?? 'no score';
}

async function startToReady(socket: NotifySocket, runs: number): Promise<{ first: number; later: number[] }> {
  const dir = tempDir('ready');
  const times: number[] = [];
  for (let i = 0; i < runs + 1; i++) {
    const agent = await startAgent(dir, socket, []);
    times.push(agent.readyMs);
    process.kill(agent.pid, 'SIGTERM');
    await agent.exited;
  }
  return { first: times[0]!, later: times.slice(1) };
}

/** 4 jobs of `profile` running, then SIGTERM: ms to exit. */
async function stopWithFourRunning(socket: NotifySocket, profile: (markers: string) => Record<string, unknown>, runs: number): Promise<number[]> {
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const dir = tempDir('stop');
    fs.mkdirSync(path.join(dir, 'inbox', 'long'), { recursive: true });
    // Each job's process marks its start with a file named after its input.
    const markers = path.join(dir, 'started');
    fs.mkdirSync(markers);
    const configFile = path.join(dir, 'spool.yaml');
    fs.writeFileSync(
      configFile,
      stringify({
        dataDir: 'data',
        server: { port: 0 },
        resources: { cpu: { ceilingPercent: 100 }, categories: { cpu: { concurrency: 4 } } },
        jobs: { stopDeadlineSeconds: STOP_DEADLINE_SECONDS, killGraceSeconds: 10 },
        profiles: { long: { ...profile(markers), category: 'cpu' } },
        inboxes: [{ path: 'inbox/long', profile: 'long', outbox: 'outbox/long', stableSeconds: 0.2 }],
      }),
    );
    const agent = await startAgent(dir, socket, ['--config', configFile]);
    for (let i = 1; i <= 4; i++) fs.writeFileSync(path.join(dir, 'inbox', 'long', `clip-${i}.mp4`), 'x');
    await Promise.all([1, 2, 3, 4].map((i) => waitForFile(path.join(markers, `clip-${i}`), 60_000)));
    const t0 = nowMs();
    process.kill(agent.pid, 'SIGTERM');
    const code = await agent.exited;
    times.push(nowMs() - t0);
    if (code !== 0) throw new Error(`the agent exited with ${code} on SIGTERM`);
  }
  return times;
}

export async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 3);
  if (!Number.isInteger(runs) || runs <= 0) throw new Error(`Expected the number of runs to be a positive whole number, got "${process.argv[2]}"`);
  const unavailable = notifySocketUnavailable();
  if (unavailable) throw new Error(unavailable);
  printHeader('service-times');
  const socket = await listenNotifySocket();
  atExit(() => void socket.close());
  try {
    const score = exposure();
    const ready = await startToReady(socket, runs);
    // argv[1] is the marker folder, argv[2] the job's output base name.
    const mark = 'require("fs").writeFileSync(require("path").join(process.argv[1], process.argv[2]), "")';
    const nodeJob = (markers: string) => ({ kind: 'command', command: [process.execPath, '-e', `${mark}; setInterval(() => {}, 1000)`, markers, '{outputBase}'] });
    const ffmpeg = (await locateMediaTools()).ffmpeg.path;
    const ffmpegJob = (markers: string) => ({
      kind: 'command',
      command: [
        process.execPath,
        '-e',
        `${mark}; const c = require("child_process").spawn(process.argv[3], process.argv.slice(4), { stdio: "ignore" }); process.on("SIGTERM", () => c.kill("SIGTERM")); c.on("exit", (code) => process.exit(code ?? 1))`,
        markers,
        '{outputBase}',
        ffmpeg,
        ...['-nostdin', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-c:v', 'libx264', '-preset', 'veryfast', '-f', 'null', '-'],
      ],
    });
    const nodeStops = await stopWithFourRunning(socket, nodeJob, runs);
    const ffmpegStops = await stopWithFourRunning(socket, ffmpegJob, runs);

    printTable('systemd-analyze security --offline=yes', ['unit', 'exposure'], [['systemd/spool-agent.service', score]]);
    printTable(`start to READY=1, embedded default (${runs + 1} starts)`, ['start', 'ms'], [
      ['first (creates ./var, migrates)', fixed(ready.first, 0)],
      [`later, median of ${runs}`, fixed(median(ready.later), 0)],
      ['later, max', fixed(Math.max(...ready.later), 0)],
    ]);
    printTable(`SIGTERM to exit with 4 running attempts (stopDeadlineSeconds ${STOP_DEADLINE_SECONDS}, ${runs} runs)`, ['jobs', 'median ms', 'max ms', 'beyond the deadline, median ms'], [
      ['node command', fixed(median(nodeStops), 0), fixed(Math.max(...nodeStops), 0), fixed(median(nodeStops) - STOP_DEADLINE_SECONDS * 1000, 0)],
      ['ffmpeg libx264 encode', fixed(median(ffmpegStops), 0), fixed(Math.max(...ffmpegStops), 0), fixed(median(ffmpegStops) - STOP_DEADLINE_SECONDS * 1000, 0)],
    ]);
  } finally {
    await socket.close();
  }
}

runIfMain(import.meta.url, main);
