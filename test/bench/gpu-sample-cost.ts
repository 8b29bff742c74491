/**
 * What one GPU sample costs, to choose the sampling strategy: the full
 * `nvidia-smi -q -x` against the `--query-compute-apps` + `--query-gpu` CSV
 * pair. Measured here:
 *
 * - one sample through the fake nvidia-smi (test/helpers/fake-gpu), end to
 *   end as the sampler takes it: wall time, this process's CPU (spawn, pipe
 *   reads, parse) and the children's CPU. The fake is a Node script, so its
 *   own CPU is Node's start-up, not nvidia-smi's; spawning /bin/true gives
 *   the floor any spawn costs;
 * - parsing alone, on the largest real `-q -x` capture (RTX PRO 6000
 *   Blackwell, 122 KB), a two-GPU one, and real CSV captures.
 *
 * No GPU here, so nvidia-smi's own CPU is taken from published timings
 * (cited in the last table) to project the idle agent's share of a core.
 *
 * On a box with a real GPU, `SPOOL_BENCH_NVIDIA_SMI=system` measures the
 * nvidia-smi on PATH instead (its own CPU included, so nothing is taken from
 * published figures) and prints what the agent's sampler read from the card,
 * through the same code the agent runs.
 *
 * Usage: node dist/test/bench/gpu-sample-cost.js
 *   SPOOL_BENCH_SAMPLES     samples per spawned form (default 20)
 *   SPOOL_BENCH_PARSES      parses per fixture (default 200)
 *   SPOOL_BENCH_NVIDIA_SMI  `system`: the real nvidia-smi on PATH
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseComputeAppsCsv, parseNvidiaSmiCsv, parseQueryGpuCsv, QUERY_APPS_ARGS, QUERY_GPU_ARGS } from '../../agent/samplers/nvidia-smi-csv.js';
import { createGpuSampler } from '../../agent/samplers/gpu-sampler.js';
import type { GpuSnapshot } from '../../agent/samplers/gpu-snapshot.js';
import { createNvidiaSmiRunner } from '../../agent/samplers/nvidia-smi-run.js';
import { parseNvidiaSmiXml } from '../../agent/samplers/nvidia-smi-xml.js';
import { createFakeGpu } from '../helpers/fake-gpu/index.js';
import { envNumber, fixed, median, nowMs, printHeader, printTable, runIfMain } from './report.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = path.resolve(HERE.replace(`${path.sep}dist${path.sep}`, path.sep), '../fixtures/nvidia-smi');
const TRUE = fs.existsSync('/bin/true') ? '/bin/true' : '/usr/bin/true';

/** CPU ms of this process's reaped children so far (/proc/self/stat cutime + cstime; USER_HZ is 100). */
function childCpuMs(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

const cpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

interface Cost {
  wall: number[];
  agentCpuMs: number;
  childCpuMs: number;
}

async function measure(samples: number, take: () => Promise<unknown>): Promise<Cost> {
  await take(); // warm-up: module caches, the fake's page cache
  const wall: number[] = [];
  const cpu0 = cpuMs();
  const child0 = childCpuMs();
  for (let i = 0; i < samples; i++) {
    const t0 = nowMs();
    await take();
    wall.push(nowMs() - t0);
  }
  return { wall, agentCpuMs: (cpuMs() - cpu0) / samples, childCpuMs: (childCpuMs() - child0) / samples };
}

function parseCost(iterations: number, parse: () => unknown): { meanMs: number; cpuMs: number } {
  for (let i = 0; i < 20; i++) parse();
  const t0 = nowMs();
  const c0 = cpuMs();
  for (let i = 0; i < iterations; i++) parse();
  return { meanMs: (nowMs() - t0) / iterations, cpuMs: (cpuMs() - c0) / iterations };
}

/** nvidia-smi's own CPU per call as published (user + sys), since this machine has no GPU. */
const PUBLISHED = [
  { source: 'netdata/netdata#10362, 1 GPU', gpus: 1, xmlMs: 41, csvMs: 8 },
  { source: 'influxdata/telegraf#8534, 8 GPUs', gpus: 8, xmlMs: 100, csvMs: 30 },
];

/** What the fake prints for `args`, for a one-GPU box. */
async function fakeOutput(args: readonly string[]): Promise<string> {
  const fake = createFakeGpu({ gpus: [{}], foreign: [{ pid: 4242, gpu: 0, usedMemoryMb: 5120 }] });
  try {
    const result = await createNvidiaSmiRunner({ timeoutMs: 10_000, env: fake.env }).run(args);
    if (!result.ok) throw new Error(result.error);
    return result.stdout;
  } finally {
    fake.cleanup();
  }
}

/** Both sample forms, taken through `runner` the way the sampler takes them. */
async function formCosts(runner: ReturnType<typeof createNvidiaSmiRunner>, samples: number): Promise<{ xml: Cost; csv: Cost }> {
  const must = async (args: readonly string[]) => {
    const result = await runner.run(args);
    if (!result.ok) throw new Error(result.error);
    return result.stdout;
  };
  const xml = await measure(samples, async () => parseNvidiaSmiXml(await must(['-q', '-x'])));
  const csv = await measure(samples, async () => {
    const apps = await must(QUERY_APPS_ARGS); // the sampler's order
    return parseNvidiaSmiCsv(await must(QUERY_GPU_ARGS), apps);
  });
  return { xml, csv };
}

/** The two forms' rows of a cost table: form, GPUs, spawns per sample, wall, agent CPU, nvidia-smi CPU. */
function formRows(gpus: number, xml: Cost, csv: Cost): (string | number)[][] {
  const row = (name: string, spawns: number, c: Cost) => [name, gpus, spawns, fixed(median(c.wall)), fixed(c.agentCpuMs, 2), fixed(c.childCpuMs)];
  return [row('-q -x (full XML)', 1, xml), row('--query-compute-apps + --query-gpu (CSV)', 2, csv)];
}

/** One row per GPU of a snapshot, as admission sees it. */
function snapshotRows(form: string, snapshot: GpuSnapshot): (string | number)[][] {
  if (!snapshot.ok) return [[form, '-', `not ok: ${snapshot.error}`, '', '', '', '', '']];
  return snapshot.gpus.map((gpu) => [
    form,
    gpu.index,
    gpu.name,
    `${gpu.memoryUsedMb} / ${gpu.memoryTotalMb}`,
    gpu.memoryFreeMb,
    gpu.encoderSessions ?? 'n/a',
    gpu.nvenc ? 'yes' : 'no',
    gpu.processes.map((p) => `${p.pid} ${p.name || '?'} ${p.usedMemoryMb ?? 'n/a'} MiB`).join('; ') || '(none)',
  ]);
}

/** The nvidia-smi on PATH: its real cost per sample, and what the agent's sampler reads from the card. */
async function realCard(samples: number): Promise<void> {
  const sampler = createGpuSampler({ intervalMs: 1000, timeoutMs: 10_000 });
  const cheap = await sampler.sampleNow();
  const full = await sampler.sampleNow({ full: true });
  printTable(
    'What the sampler read from the card',
    ['form', 'GPU', 'name', 'used / total MiB', 'free MiB', 'NVENC sessions', 'NVENC engine', 'processes (pid, name, memory)'],
    [...snapshotRows('CSV pair', cheap), ...snapshotRows('-q -x', full)],
  );
  const gpus = cheap.gpus.length;
  const { xml, csv } = await formCosts(createNvidiaSmiRunner({ timeoutMs: 10_000 }), samples);
  printTable(
    `One sample through the real nvidia-smi (${samples} samples each)`,
    ['form', 'GPUs', 'spawns', 'wall ms (median)', 'agent CPU ms', 'nvidia-smi CPU ms'],
    formRows(gpus, xml, csv),
  );
  const share = (c: Cost, periodS: number) => `${fixed(((c.agentCpuMs + c.childCpuMs) / (periodS * 1000)) * 100, 2)} %`;
  printTable(
    'Share of one core (agent + nvidia-smi CPU, both measured)',
    ['strategy', 'share of one core'],
    [
      ['CSV pair every 30 s (idle)', share(csv, 30)],
      ['CSV pair every 1 s (GPU work queued or running)', share(csv, 1)],
      ['-q -x every 30 s', share(xml, 30)],
      ['-q -x every 1 s', share(xml, 1)],
    ],
  );
}

/** Agent-side CPU ms of one sample of each form, for a fake box with `gpus` GPUs, each with one process. */
async function sampleCosts(gpus: number, samples: number): Promise<{ rows: (string | number)[][]; xml: Cost; csv: Cost }> {
  const fake = createFakeGpu({
    gpus: Array.from({ length: gpus }, () => ({ name: 'NVIDIA GeForce RTX 4080', memoryTotalMb: 16376, baseUsedMb: 300 })),
    foreign: Array.from({ length: gpus }, (_, gpu) => ({ pid: 4242 + gpu, gpu, usedMemoryMb: 5120, name: 'python3' })),
  });
  try {
    const { xml, csv } = await formCosts(createNvidiaSmiRunner({ timeoutMs: 10_000, env: fake.env }), samples);
    return { rows: formRows(gpus, xml, csv), xml, csv };
  } finally {
    fake.cleanup();
  }
}

export async function main(): Promise<void> {
  const samples = envNumber('SPOOL_BENCH_SAMPLES', 20);
  const parses = envNumber('SPOOL_BENCH_PARSES', 200);
  printHeader('gpu-sample-cost');
  if (process.env.SPOOL_BENCH_NVIDIA_SMI === 'system') return realCard(samples);
  const one = await sampleCosts(1, samples);
  const eight = await sampleCosts(8, samples);
  const floor = await measure(samples, () => new Promise((resolve) => spawn(TRUE, [], { stdio: 'ignore' }).once('close', resolve)));
  printTable(
    `One sample through the fake nvidia-smi (${samples} samples each)`,
    ['form', 'GPUs', 'spawns', 'wall ms (median)', 'agent CPU ms', 'child CPU ms (the fake is Node)'],
    [...one.rows, ...eight.rows, ['/bin/true (the floor of any spawn)', '-', 1, fixed(median(floor.wall)), fixed(floor.agentCpuMs, 2), fixed(floor.childCpuMs)]],
  );
  const fixtures: [string, string, () => unknown][] = [];
  const addXml = (file: string) => {
    const text = fs.readFileSync(path.join(FIXTURES, 'xml', file), 'utf8');
    fixtures.push([`${file} (${fixed(text.length / 1024, 0)} KB)`, 'xml2js', () => parseNvidiaSmiXml(text)]);
  };
  addXml('rtxpro6000-blackwell-maxq_driver590.44.01_v13_process.xml');
  addXml('dual-rtxa5000_driver590.44.01_v13_multigpu_processes.xml');
  const gpuCsv = fs.readFileSync(path.join(FIXTURES, 'csv', 'h100-80gb-hbm3_driver590.48.01_load_query-gpu.csv'), 'utf8');
  const appsCsv = fs.readFileSync(path.join(FIXTURES, 'csv', 'h100-80gb-hbm3_driver590.48.01_load_query-compute-apps_3procs.csv'), 'utf8');
  fixtures.push([`h100 query-gpu, 212 columns with header (${fixed(gpuCsv.length / 1024, 1)} KB)`, 'csv', () => parseQueryGpuCsv(gpuCsv)]);
  fixtures.push([`h100 query-compute-apps, 3 processes (${appsCsv.length} B)`, 'csv', () => parseComputeAppsCsv(appsCsv)]);
  const ownForm = await fakeOutput(QUERY_GPU_ARGS);
  const ownApps = await fakeOutput(QUERY_APPS_ARGS);
  fixtures.push([`the sampler's own noheader pair (${ownForm.length + ownApps.length} B)`, 'csv', () => parseNvidiaSmiCsv(ownForm, ownApps)]);
  printTable(
    `Parsing alone (${parses} parses each)`,
    ['input', 'parser', 'ms per parse', 'CPU ms per parse'],
    fixtures.map(([name, parser, parse]) => {
      const cost = parseCost(parses, parse);
      return [name, parser, fixed(cost.meanMs, 3), fixed(cost.cpuMs, 3)];
    }),
  );

  // Agent side measured here (with the fake's GPU count matching the
  // published box), nvidia-smi side as published; the fake's Node start-up
  // is left out because real nvidia-smi is a C program.
  const share = (perSampleMs: number, periodS: number) => `${fixed((perSampleMs / (periodS * 1000)) * 100, 2)} %`;
  const rows = PUBLISHED.flatMap(({ source, gpus, xmlMs, csvMs }) => {
    const agent = gpus === 1 ? one : eight;
    return [
      [source, 'CSV pair every 30 s (idle)', share(agent.csv.agentCpuMs + 2 * csvMs, 30)],
      [source, 'CSV pair every 1 s (GPU work queued or running)', share(agent.csv.agentCpuMs + 2 * csvMs, 1)],
      [source, '-q -x every 30 s', share(agent.xml.agentCpuMs + xmlMs, 30)],
      [source, '-q -x every 1 s', share(agent.xml.agentCpuMs + xmlMs, 1)],
    ];
  });
  printTable('Projected share of one core (agent CPU measured here + nvidia-smi CPU as published)', ['nvidia-smi CPU from', 'strategy', 'share of one core'], rows);
}

runIfMain(import.meta.url, main);
