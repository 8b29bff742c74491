/**
 * Where the agent-overhead gap comes from: the same 20 s clip encoded three
 * ways in rotating order (A C B, C A B, B C A, …), comparing only the encode
 * itself (the attempt's started_at to finished_at, or the direct run's wall):
 *
 *   A  a `transcode` job through the agent (progress parsing, the output ffprobe after it)
 *   C  a `command` job through the agent running the same ffmpeg argv (no parsing, no output check)
 *   B  the same argv run directly from this process
 *
 * A/C near 1 says the transcode path adds nothing to the encode; C/B then
 * says what being started by the agent at all costs (or the noise).
 *
 * Usage: node dist/test/bench/agent-overhead-arms.js
 *   SPOOL_BENCH_ROUNDS   rounds of the three (default 12)
 *   SPOOL_BENCH_SIZE     frame size (default 1280x720)
 */
import fs from 'node:fs';
import path from 'node:path';
import { FFMPEG_GLOBAL_ARGS } from '../../agent/runner/kinds/run-ffmpeg.js';
import { getMediaTools, makeClip } from '../helpers/media.js';
import { dropThroughAgent, runDirect } from './agent-overhead.js';
import { startAgentProcess, writeConfig, type AgentProcess } from './agent-process.js';
import { envNumber, fixed, median, printHeader, printTable, runIfMain, tempDir } from './report.js';

const ENCODE = ['-map', '0:V:0', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p', '-map', '0:a:0?', '-c:a', 'aac', '-b:a', '128k', '-f', 'mp4', '-movflags', '+faststart'];
const ORDERS = ['ACB', 'CAB', 'BCA', 'ABC', 'BAC', 'CBA'];
type Arm = 'A' | 'C' | 'B';
interface Sample {
  /** The encode's wall seconds. */
  encode: number;
  /** CPU seconds of the processes the run started (for A that includes the output ffprobe). */
  cpu: number;
}

export async function main(): Promise<void> {
  const rounds = envNumber('SPOOL_BENCH_ROUNDS', 12);
  const size = process.env.SPOOL_BENCH_SIZE ?? '1280x720';
  const [width, height] = size.split('x').map(Number);
  if (!width || !height) throw new Error(`SPOOL_BENCH_SIZE: "${size}" is not WIDTHxHEIGHT`);
  printHeader('agent-overhead-arms');
  const dir = tempDir('arms');
  const tools = await getMediaTools();
  const clip = path.join(dir, 'clip.mp4');
  await makeClip(clip, { seconds: 20, width, height, audio: true, fps: 25 });
  const raw = {
    dataDir: 'data',
    profiles: {
      web: { kind: 'transcode', encoder: 'cpu', video: { codec: 'h264', preset: 'veryfast', crf: 23 }, audio: { codec: 'aac', bitrateKbps: 128 }, container: 'mp4' },
      raw: { kind: 'command', command: [tools.ffmpeg.path, ...FFMPEG_GLOBAL_ARGS, '-i', '{input}', ...ENCODE, '{outputDir}/{outputBase}.mp4'] },
    },
    resources: { categories: { cpu: { concurrency: 1 } }, cpu: { ceilingPercent: 100 } },
    inboxes: [
      { path: 'in-web', profile: 'web', outbox: 'out', stableSeconds: 0.5 },
      { path: 'in-raw', profile: 'raw', outbox: 'out', stableSeconds: 0.5 },
    ],
  };
  for (const folder of ['in-web', 'in-raw', 'out', 'src', 'direct']) fs.mkdirSync(path.join(dir, folder));
  const agent = await startAgentProcess(writeConfig(dir, raw), 2);
  const samples: Array<Record<Arm, Sample>> = [];
  try {
    for (let i = 0; i < rounds; i++) {
      const round: Partial<Record<Arm, Sample>> = {};
      for (const arm of [...ORDERS[i % ORDERS.length]!] as Arm[]) {
        if (arm === 'A') round.A = await throughAgent(agent, dir, clip, 'in-web', `a${i}.mp4`);
        if (arm === 'C') round.C = await throughAgent(agent, dir, clip, 'in-raw', `c${i}.mp4`);
        if (arm === 'B') round.B = await direct(tools.ffmpeg.path, clip, path.join(dir, 'direct', `b${i}.mp4`));
      }
      samples.push(round as Record<Arm, Sample>);
    }
  } finally {
    await agent.stop();
  }
  printTable(
    `One 20 s ${size} encode three ways, ${rounds} rounds in rotating order`,
    ['round', 'order', 'A transcode s', 'C command s', 'B direct s', 'A CPU s', 'C CPU s', 'B CPU s'],
    samples.map((s, i) => [i + 1, ORDERS[i % ORDERS.length]!, fixed(s.A.encode, 2), fixed(s.C.encode, 2), fixed(s.B.encode, 2), fixed(s.A.cpu, 2), fixed(s.C.cpu, 2), fixed(s.B.cpu, 2)]),
  );
  const ratio = (x: Arm, y: Arm, pick: (s: Sample) => number) => {
    const each = samples.map((s) => pick(s[x]) / pick(s[y]));
    return `${fixed(median(each), 3)} (${fixed(Math.min(...each), 2)}–${fixed(Math.max(...each), 2)}; ${each.filter((r) => r > 1).length} of ${each.length} above 1)`;
  };
  printTable('Median ratio per round', ['ratio', 'encode wall', 'CPU of the processes started'], [
    ['A / B (transcode through the agent / direct)', ratio('A', 'B', (s) => s.encode), ratio('A', 'B', (s) => s.cpu)],
    ['C / B (command through the agent / direct)', ratio('C', 'B', (s) => s.encode), ratio('C', 'B', (s) => s.cpu)],
    ['A / C (transcode / command, both through the agent)', ratio('A', 'C', (s) => s.encode), ratio('A', 'C', (s) => s.cpu)],
  ]);
}

/** An agent arm: the attempt's own wall time, and the CPU of the processes the agent reaped meanwhile. */
async function throughAgent(agent: AgentProcess, dir: string, clip: string, inbox: string, name: string): Promise<Sample> {
  const run = await dropThroughAgent(agent, dir, clip, inbox, name);
  return { encode: (run.job.finishedAt - run.job.startedAt) / 1000, cpu: run.childSeconds };
}

async function direct(ffmpeg: string, clip: string, output: string): Promise<Sample> {
  const run = await runDirect(ffmpeg, [...FFMPEG_GLOBAL_ARGS, '-i', `file:${clip}`, ...ENCODE, `file:${output}`]);
  return { encode: run.wallMs / 1000, cpu: run.cpuSeconds };
}

runIfMain(import.meta.url, main);
