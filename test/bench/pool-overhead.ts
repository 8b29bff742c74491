/**
 * Pools several runs of `agent-overhead`: one run gives 8–20 pairs, and a
 * pair moves by ±10–25 % even on a quiet machine, so the 3 % goal needs more
 * pairs than fit in one run. Every run writes one line per encode to stderr
 * ("1280x720 pair 3/18 agent: wall 3.584 s, CPU 6.590 s"); save those and
 * pass the files here. Pairs are matched within each file.
 *
 * Usage: node dist/test/bench/pool-overhead.js run1.err run2.err …
 */
import fs from 'node:fs';
import { fixed, median, pairedRatioCell, printTable, runIfMain } from './report.js';

type Sample = { wall: number; cpu: number };
export interface Pair {
  size: string;
  agent: Sample;
  direct: Sample;
}

const LINE = /^(\S+) pair (\d+)\/\d+ (agent|direct): wall ([\d.]+) s, CPU ([\d.]+) s$/;

/** The complete pairs in one run's stderr; a pair cut short by a time limit is left out. */
export function parseRunLines(text: string): Pair[] {
  const halves = new Map<string, { size: string; agent?: Sample; direct?: Sample }>();
  for (const line of text.split('\n')) {
    const m = LINE.exec(line.trim());
    if (!m) continue;
    const [, size, number, label, wall, cpu] = m;
    const key = `${size} ${number}`;
    const pair = halves.get(key) ?? { size: size! };
    pair[label as 'agent' | 'direct'] = { wall: Number(wall), cpu: Number(cpu) };
    halves.set(key, pair);
  }
  return [...halves.values()].flatMap((p) => (p.agent && p.direct ? [{ size: p.size, agent: p.agent, direct: p.direct }] : []));
}

/** One table row: pairs, ratio of sums with its interval, per-pair median, and how often the agent's run was the slower. */
export function poolRow(label: string, pairs: readonly Pair[]): string[] {
  const ratioCell = (pick: (s: Sample) => number) => pairedRatioCell(pairs.map((p) => [pick(p.agent), pick(p.direct)] as const));
  const perPair = (pick: (s: Sample) => number) => fixed(median(pairs.map((p) => pick(p.agent) / pick(p.direct))), 3);
  const slower = pairs.filter((p) => p.agent.wall > p.direct.wall).length;
  return [
    label,
    String(pairs.length),
    ratioCell((s) => s.wall),
    ratioCell((s) => s.cpu),
    perPair((s) => s.wall),
    perPair((s) => s.cpu),
    `${slower} of ${pairs.length}`,
  ];
}

export async function main(): Promise<void> {
  const files = process.argv.slice(2);
  if (files.length === 0) throw new Error('usage: pool-overhead.js RUN.err … (the stderr of agent-overhead runs)');
  const pairs = files.flatMap((file) => parseRunLines(fs.readFileSync(file, 'utf8')));
  if (pairs.length === 0) throw new Error(`no complete pairs in ${files.join(', ')}`);
  const sizes = [...new Set(pairs.map((p) => p.size))];
  const rows = sizes.map((size) => poolRow(size, pairs.filter((p) => p.size === size)));
  if (sizes.length > 1) rows.push(poolRow('all sizes', pairs));
  printTable(
    `Agent / direct, ${files.length} run${files.length === 1 ? '' : 's'} pooled`,
    ['clip', 'pairs', 'wall: ratio of sums (95 % interval)', 'CPU: ratio of sums (95 % interval)', 'wall per pair, median', 'CPU per pair, median', 'agent slower in'],
    rows,
  );
  process.stdout.write('Ratio of sums: all agent runs over all direct runs; the interval is a seeded bootstrap over whole pairs (10,000 draws).\n\n');
}

runIfMain(import.meta.url, main);
