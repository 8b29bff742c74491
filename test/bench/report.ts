/**
 * What every benchmark shares: tables printed as Markdown (so a run can be
 * pasted into BENCHMARKS.md as it is), percentiles, a line describing the
 * machine, and temporary folders that are removed however the script ends.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { mulberry32 } from '../helpers/random.js';

export type Cell = string | number;

/** Prints `rows` under `title` as a Markdown table; numbers are printed as given (format them first). */
export function printTable(title: string, headers: readonly string[], rows: readonly (readonly Cell[])[]): void {
  const cells = [headers.map(String), ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const out = [`### ${title}`, '', line(cells[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.slice(1).map(line), ''];
  process.stdout.write(out.join('\n') + '\n');
}

/** The `p`-th percentile (0–100) by nearest rank; NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** The middle sample, or the mean of the two middle ones for an even count; NaN for no samples. */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The ratio of sums of paired samples, sum(a) / sum(b), with a 95 % interval
 * from a seeded bootstrap over the pairs: how far the ratio could move if
 * the same number of pairs were measured again on the same box. Pairs are
 * resampled whole, so a drift of the box that hits both runs of a pair
 * stays out of the interval.
 */
export function pairedRatio(pairs: ReadonlyArray<readonly [number, number]>, draws = 10_000, seed = 1): { ratio: number; low: number; high: number } {
  const sum = (pick: (i: number) => readonly [number, number], n: number) => {
    let a = 0;
    let b = 0;
    for (let i = 0; i < n; i++) {
      const [x, y] = pick(i);
      a += x;
      b += y;
    }
    return a / b;
  };
  const n = pairs.length;
  if (n === 0) return { ratio: Number.NaN, low: Number.NaN, high: Number.NaN };
  const random = mulberry32(seed);
  const resampled = Array.from({ length: draws }, () => sum(() => pairs[Math.floor(random() * n)]!, n)).sort((x, y) => x - y);
  return { ratio: sum((i) => pairs[i]!, n), low: percentile(resampled, 2.5), high: percentile(resampled, 97.5) };
}

/** "1.018 (0.977–1.060)": `pairedRatio` as a table cell. */
export function pairedRatioCell(pairs: ReadonlyArray<readonly [number, number]>): string {
  const { ratio, low, high } = pairedRatio(pairs);
  return `${fixed(ratio, 3)} (${fixed(low, 3)}–${fixed(high, 3)})`;
}

export function fixed(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

/** Wall-clock time in epoch milliseconds with sub-millisecond precision (the same clock as Date.now()). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** One line naming the machine: cores, CPU model, Node and ffmpeg versions, kernel. */
export function machineLine(): string {
  const cpuinfo = safe(() => fs.readFileSync('/proc/cpuinfo', 'utf8'), '');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown CPU';
  const ffmpeg = safe(() => execFileSync('ffmpeg', ['-hide_banner', '-version'], { encoding: 'utf8' }).split('\n')[0]!.replace(/ Copyright.*/, ''), 'ffmpeg not on PATH');
  const memGiB = (os.totalmem() / 2 ** 30).toFixed(1);
  return `${os.availableParallelism()} cores (${model}), ${memGiB} GiB RAM, Linux ${os.release()}, Node ${process.version}, ${ffmpeg}`;
}

/** Prints the machine line and the date once, above a benchmark's tables. */
export function printHeader(name: string): void {
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  process.stdout.write(`## ${name}\n\n${new Date().toISOString()} on ${machineLine()}; load average at start ${load}\n\n`);
}

const tempDirs = new Set<string>();
const cleanups: Array<() => void> = [];

/** A temporary folder removed when the process exits, also on an error or Ctrl-C. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `spool-bench-${prefix}-`));
  tempDirs.add(dir);
  return dir;
}

/** Runs `fn` (synchronously) at exit, before the temporary folders go: kill child processes here. */
export function atExit(fn: () => void): void {
  cleanups.push(fn);
}

export function removeTempDirs(): void {
  for (const fn of cleanups.splice(0)) safe(fn, undefined);
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

process.once('exit', removeTempDirs);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    removeTempDirs();
    process.exit(130);
  });
}

/**
 * Runs a benchmark's `main` when its file is the script node was started
 * with, and exits with 1 (after cleaning up) when it throws.
 */
export function runIfMain(moduleUrl: string, main: () => Promise<void>): void {
  const script = process.argv[1];
  if (!script || pathToFileURL(path.resolve(script)).href !== moduleUrl) return;
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}

/** A number from an environment variable, or `fallback`. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`Expected \`${name}\` to be a positive number, got "${raw}"`);
  return value;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function safe<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}
