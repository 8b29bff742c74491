/**
 * Agent overhead: one transcode of a 20-second clip (640x360, with audio,
 * libx264 preset veryfast) through the agent, against the same ffmpeg
 * command run directly, alternating A B A B … in one run. Goal: wall and
 * CPU ratios at most 1.03.
 *
 * A (agent): `spool agent --config …` as a child process; the clip is
 *   renamed into its inbox and the run ends when the agent logs the job as
 *   completed (outputs and source settled). Wall is that moment minus the
 *   drop, minus the inbox's stability window, which the agent must wait by
 *   design. CPU is the agent process's own user+system time plus that of the
 *   children it reaped (ffprobe, ffmpeg), from /proc/<pid>/stat.
 * B (direct): ffmpeg with the same arguments, spawned from this process,
 *   stdout (its -progress output) read and dropped as the agent does; CPU is
 *   this process's reaped-children time from /proc/self/stat.
 *
 * The direct argv is built by the agent's own planTranscode and checked
 * against the command line the agent wrote to the job's log.
 *
 * Usage: node dist/test/bench/agent-overhead.js
 *   SPOOL_BENCH_PAIRS    A/B pairs (default 5)
 *   SPOOL_BENCH_SECONDS  clip length in seconds (default 20)
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { parseConfig } from '../../agent/config/load-config.js';
import type { TranscodeProfile } from '../../agent/config/config.schema.js';
import { probeMedia } from '../../agent/media/ffprobe.js';
import { FFMPEG_GLOBAL_ARGS, formatCommand } from '../../agent/runner/kinds/run-ffmpeg.js';
import { planTranscode } from '../../agent/runner/kinds/transcode.js';
import { getMediaTools, makeClip } from '../helpers/media.js';
import { cpuTimes, startAgentProcess, writeConfig, type AgentProcess } from './agent-process.js';
import { envNumber, fixed, median, nowMs, printHeader, printTable, runIfMain, sleep, tempDir } from './report.js';

const STABLE_SECONDS = 0.5;
/**
 * Pause before every run. The agent's admission reads host CPU busy from a
 * sampler (one sample every 2 s) and holds CPU work while the box is above
 * its ceiling; without a pause it would still see the previous run's ffmpeg.
 */
const PAUSE_MS = 5000;

const PROFILE = {
  kind: 'transcode',
  encoder: 'cpu',
  video: { codec: 'h264', preset: 'veryfast', crf: 23 },
  audio: { codec: 'aac', bitrateKbps: 128 },
  container: 'mp4',
} as const;

interface Run {
  label: string;
  wallMs: number;
  cpuSeconds: number;
  /** Of `cpuSeconds`, the agent process's own share (agent runs only). */
  agentSeconds: number | null;
  /** Agent runs: drop to claim beyond the window, claim to attempt start (admission), and the attempt's own wall time (from the database). */
  claimMs: number | null;
  waitMs: number | null;
  attemptMs: number | null;
}

export async function main(): Promise<void> {
  const pairs = envNumber('SPOOL_BENCH_PAIRS', 5);
  const seconds = envNumber('SPOOL_BENCH_SECONDS', 20);
  printHeader('agent-overhead');
  const dir = tempDir('overhead');
  const clip = path.join(dir, 'clip.mp4');
  await makeClip(clip, { seconds, width: 640, height: 360, audio: true, fps: 25 });
  const tools = await getMediaTools();

  const rawConfig = {
    dataDir: 'data',
    profiles: { web: PROFILE },
    resources: { categories: { cpu: { concurrency: 1 } } },
    inboxes: [{ path: 'inbox', profile: 'web', outbox: 'outbox', stableSeconds: STABLE_SECONDS }],
  };
  for (const folder of ['inbox', 'outbox', 'direct', 'src']) fs.mkdirSync(path.join(dir, folder));
  const config = parseConfig(rawConfig, dir);
  const agent = await startAgentProcess(writeConfig(dir, rawConfig), 1);

  // The direct command, planned as the agent plans it for this clip.
  const info = await probeMedia(tools.ffprobe.path, clip);
  const profile = config.profiles.web as TranscodeProfile;
  const directArgs = (output: string) => [
    ...FFMPEG_GLOBAL_ARGS,
    ...planTranscode({ profile, info, placement: { encoder: 'cpu', gpuIndex: null }, tools, inputPath: clip, outputPath: output }).args,
  ];

  const runs: Run[] = [];
  let sameCommand = 'not checked';
  try {
    for (let i = 0; i < pairs; i++) {
      const name = `a${i}.mp4`;
      runs.push(await throughAgent(agent, dir, clip, name));
      if (i === 0) sameCommand = compareCommands(dir, tools.ffmpeg.path, directArgs(path.join(dir, 'direct', 'b.mp4')));
      runs.push(await direct(tools.ffmpeg.path, directArgs(path.join(dir, 'direct', `b${i}.mp4`))));
    }
  } finally {
    await agent.stop();
  }

  // What the agent runs besides ffmpeg: one ffprobe of the input, timed alone here.
  const probes: Run[] = [];
  for (let i = 0; i < 3; i++) {
    const before = cpuTimes('self');
    const t0 = nowMs();
    await probeMedia(tools.ffprobe.path, clip);
    const after = cpuTimes('self');
    probes.push({ label: 'ffprobe', wallMs: nowMs() - t0, cpuSeconds: after.children - before.children, agentSeconds: null, claimMs: null, waitMs: null, attemptMs: null });
  }

  const a = runs.filter((r) => r.label === 'agent');
  const b = runs.filter((r) => r.label === 'direct');
  printTable(
    `One ${seconds} s 640x360 transcode (libx264 veryfast + AAC), agent vs direct, alternating`,
    ['run', 'path', 'wall s', 'CPU s', 'agent process CPU s', 'claim s', 'admission wait s', 'attempt s'],
    runs.map((r, i) => [
      i + 1,
      r.label,
      fixed(r.wallMs / 1000, 2),
      fixed(r.cpuSeconds, 2),
      r.agentSeconds === null ? '' : fixed(r.agentSeconds, 2),
      r.claimMs === null ? '' : fixed(r.claimMs / 1000, 3),
      r.waitMs === null ? '' : fixed(r.waitMs / 1000, 3),
      r.attemptMs === null ? '' : fixed(r.attemptMs / 1000, 2),
    ]),
  );
  const wallRatio = median(a.map((r) => r.wallMs)) / median(b.map((r) => r.wallMs));
  const attemptRatio = median(a.map((r) => r.attemptMs!)) / median(b.map((r) => r.wallMs));
  const cpuRatio = median(a.map((r) => r.cpuSeconds)) / median(b.map((r) => r.cpuSeconds));
  printTable('Ratios, agent / direct (medians)', ['measure', 'agent', 'direct', 'ratio', 'goal ≤ 1.03'], [
    ['wall s', fixed(median(a.map((r) => r.wallMs)) / 1000, 2), fixed(median(b.map((r) => r.wallMs)) / 1000, 2), fixed(wallRatio, 3), wallRatio <= 1.03 ? 'met' : 'MISSED'],
    ['wall s, attempt only', fixed(median(a.map((r) => r.attemptMs!)) / 1000, 2), fixed(median(b.map((r) => r.wallMs)) / 1000, 2), fixed(attemptRatio, 3), attemptRatio <= 1.03 ? 'met' : 'MISSED'],
    ['CPU s', fixed(median(a.map((r) => r.cpuSeconds)), 2), fixed(median(b.map((r) => r.cpuSeconds)), 2), fixed(cpuRatio, 3), cpuRatio <= 1.03 ? 'met' : 'MISSED'],
  ]);
  process.stdout.write(
    `The agent's own extra work per job: ffprobe of the input ${fixed(median(probes.map((p) => p.wallMs)) / 1000, 3)} s wall, ${fixed(median(probes.map((p) => p.cpuSeconds)), 3)} s CPU (median of 3, timed alone); ` +
      `the agent process itself ${fixed(median(a.map((r) => r.agentSeconds!)), 3)} s CPU (median). ` +
      `Agent wall: drop to the "completed" log line, minus the ${STABLE_SECONDS} s stability window. Claim: drop to the job row, minus the window. ` +
      `Admission wait: job row to attempt start (the agent holds CPU work while the host is above its CPU ceiling). ` +
      `Attempt: the attempt's started_at to finished_at (probe, ffmpeg, bookkeeping). Same ffmpeg arguments as the agent's job log: ${sameCommand}\n\n`,
  );
}

async function throughAgent(agent: AgentProcess, dir: string, clip: string, name: string): Promise<Run> {
  const staged = path.join(dir, 'src', name);
  fs.copyFileSync(clip, staged);
  await sleep(PAUSE_MS);
  const completed = agent.waitForLine(new RegExp(`^<\\d>job \\S+ completed: ${name.replace('.', '\\.')}`), 300_000);
  const before = cpuTimes(agent.pid);
  const t0 = nowMs();
  fs.renameSync(staged, path.join(dir, 'inbox', name));
  const { at } = await completed;
  const after = cpuTimes(agent.pid);
  const job = readJob(dir, name);
  return {
    label: 'agent',
    wallMs: at - t0 - STABLE_SECONDS * 1000,
    cpuSeconds: after.self + after.children - before.self - before.children,
    agentSeconds: after.self - before.self,
    claimMs: job.createdAt - t0 - STABLE_SECONDS * 1000,
    waitMs: job.startedAt - job.createdAt,
    attemptMs: job.finishedAt - job.startedAt,
  };
}

async function direct(ffmpeg: string, args: string[]): Promise<Run> {
  await sleep(PAUSE_MS);
  const before = cpuTimes('self');
  const t0 = nowMs();
  const child = spawn(ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.resume();
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const t1 = nowMs();
  if (code !== 0) throw new Error(`direct ffmpeg exited ${code}: ${stderr}`);
  const after = cpuTimes('self');
  return { label: 'direct', wallMs: t1 - t0, cpuSeconds: after.children - before.children, agentSeconds: null, claimMs: null, waitMs: null, attemptMs: null };
}

/** When the agent created the job of `fileName` and when its attempt started and ended (epoch ms, from the database). */
function readJob(dir: string, fileName: string): { createdAt: number; startedAt: number; finishedAt: number } {
  const db = new SQLite(path.join(dir, 'data', 'spool.db'), { readonly: true });
  try {
    const row = db
      .prepare(`select j.created_at as createdAt, a.started_at as startedAt, a.finished_at as finishedAt from jobs j join job_attempts a on a.job_id = j.id where j.file_name = ? order by a.number desc limit 1`)
      .get(fileName) as { createdAt: number; startedAt: number; finishedAt: number } | undefined;
    if (!row) throw new Error(`no job for ${fileName} in the agent's database`);
    return row;
  } finally {
    db.close();
  }
}

/** Whether the agent's logged ffmpeg command equals ours once the input and output paths are set aside. */
function compareCommands(dir: string, ffmpeg: string, ours: string[]): string {
  const db = new SQLite(path.join(dir, 'data', 'spool.db'), { readonly: true });
  try {
    const logged = db.prepare(`select line from job_logs where stream = 'agent' and line like ? order by id limit 1`).get(`${ffmpeg} %-progress%`) as { line: string } | undefined;
    if (!logged) return 'no ffmpeg line in the job log';
    const mask = (line: string) => line.replace(/file:\S+/g, 'file:<path>');
    const same = mask(logged.line) === mask(formatCommand(ffmpeg, ours));
    return same ? 'yes' : `NO\n  agent:  ${logged.line}\n  direct: ${formatCommand(ffmpeg, ours)}`;
  } finally {
    db.close();
  }
}

runIfMain(import.meta.url, main);
