/**
 * Scheduling simulator: the agent's own `decideAdmissions` against the static
 * policies people run today, on the same seeded 300-job traces, on a virtual
 * clock (test/bench/sim/). Prints the tables for one seed, then the same
 * comparison over several seeds so one lucky trace does not make the case.
 * Figures and analysis: test/bench/SIM-NOTES.md.
 *
 * Usage: npm run build && node dist/test/bench/scheduling-sim.js [seed] [seeds]
 *   (defaults: tables for seed 1, summary over seeds 1–10)
 */
import { fixed, printTable } from './report.js';
import { simulate, type Policy, type SimResult, type Usage } from './sim/engine.js';
import { BANDS, lowerBound, summary, waits, type Bound } from './sim/metrics.js';
import { SPOOL_LIMITS, spoolPolicy, staticPolicy } from './sim/policies.js';
import { BOX, generateTrace, type Trace } from './sim/trace.js';

const WORKERS = { cpu: 4, gpu_encode: 4, gpu_ai: 2 };
/** Worker counts high enough that the resource checks, not the counts, decide. */
const WIDE = { cpu: 16, gpu_encode: 16, gpu_ai: 8 };

/** What earlier days on the same profiles taught the agent (profile_usage survives restarts): true peaks, as if each job had run alone. */
function earlierDays(seed: number): Usage[] {
  return generateTrace(seed + 1000).jobs.map((j) => ({ profile: j.profile, peakVramMb: j.truth.vramMb, cpuCores: j.truth.cpuCores, rssMb: j.truth.rssMb }));
}

/** Fresh policies per trace (Spool's learns as it goes). The first SPOOL_ROWS are Spool's. */
function policies(seed: number): Policy[] {
  return [
    spoolPolicy('Spool, learned, workers 16/16/8', { ...SPOOL_LIMITS, concurrency: WIDE }, earlierDays(seed)),
    spoolPolicy('Spool, cold start, workers 16/16/8', { ...SPOOL_LIMITS, concurrency: WIDE }),
    spoolPolicy('Spool, learned, workers 4/4/2', { ...SPOOL_LIMITS, concurrency: WORKERS }, earlierDays(seed)),
    staticPolicy('(a) fixed workers 4/4/2, round-robin', WORKERS, 'round-robin'),
    staticPolicy('(b) Σ declared ≤ card, workers 4/4/2', WORKERS, 'declared-sum'),
    staticPolicy('(b) Σ declared ≤ card, workers 16/16/8', WIDE, 'declared-sum'),
  ];
}
const SPOOL_ROWS = 3;

interface SeedRun {
  seed: number;
  trace: Trace;
  bound: Bound;
  results: SimResult[];
}

function runSeed(seed: number): SeedRun {
  const trace = generateTrace(seed);
  return { seed, trace, bound: lowerBound(trace, BOX), results: policies(seed).map((p) => simulate(trace, BOX, p, { seed })) };
}

const minutes = (ms: number) => fixed(ms / 60_000, 1);
const byCause = (r: SimResult, cause: 'admission' | 'foreign') => r.overCommits.filter((o) => o.cause === cause).length;

/**
 * Spool's goal on one trace: no over-commit of its making, makespan within
 * 1.15 × the bound and no longer than the better static policy's, among the
 * static policies that completed every job (one that fails jobs for good
 * finishes early by doing less).
 */
function goal(run: SeedRun, k: number) {
  const spool = run.results[k]!;
  const statics = run.results.slice(SPOOL_ROWS).filter((r) => summary(r).failed === 0);
  const better = Math.min(...statics.map((r) => r.makespanMs));
  return {
    noOverCommit: byCause(spool, 'admission') === 0,
    nearBound: spool.makespanMs <= 1.15 * run.bound.ms,
    vsStatic: spool.makespanMs <= better,
  };
}

function printSeed(run: SeedRun): void {
  const { trace, bound, results } = run;
  const count = (c: string) => trace.jobs.filter((j) => j.category === c).length;
  process.stdout.write(
    `### Seed ${run.seed}\n\n${trace.jobs.length} jobs (${count('cpu')} cpu, ${count('gpu_encode')} gpu_encode, ${count('gpu_ai')} gpu_ai), ` +
      `last arrival at ${minutes(Math.max(...trace.jobs.map((j) => j.arrivalMs)))} min; lower bound ${minutes(bound.ms)} min (set by ${bound.binding}).\n\n`,
  );
  printTable(
    `Seed ${run.seed}: makespan, over-commits, failures`,
    ['policy', 'makespan min', '× bound', 'over-commits: admission (GPU 0/1)', 'foreign took reserved memory', 'retried attempts', 'failed for good', 'foreign refused', 'sim wall ms'],
    results.map((r) => {
      const s = summary(r);
      const perGpu = [0, 1].map((g) => r.overCommits.filter((o) => o.gpu === g && o.cause === 'admission').length).join('/');
      return [r.policy, minutes(r.makespanMs) + (s.failed > 0 ? ' †' : ''), fixed(r.makespanMs / bound.ms, 3), `${byCause(r, 'admission')} (${perGpu})`, byCause(r, 'foreign'), s.retries, s.failed, r.foreignRefused, fixed(r.wallMs, 0)];
    }),
  );
  printTable(
    `Seed ${run.seed}: wait before the attempt that completed, seconds (mean / p95)`,
    ['policy', ...BANDS.map((b) => `priority ${b.name}`)],
    results.map((r) => [
      r.policy,
      ...BANDS.map((b) => {
        const w = waits(r.outcomes, b.lo, b.hi);
        return `${fixed(w.meanS, 0)} / ${fixed(w.p95S, 0)} (n=${w.count})`;
      }),
    ]),
  );
}

function printSummary(runs: SeedRun[]): void {
  const n = runs.length;
  const names = runs[0]!.results.map((r) => r.policy);
  printTable(
    `Over ${n} seeds (${runs[0]!.seed}–${runs[n - 1]!.seed})`,
    ['policy', 'min × bound', 'mean × bound', 'max × bound', 'over-commits: admission', 'seeds with any', 'foreign took reserved memory', 'failed for good'],
    names.map((name, k) => {
      const ratios = runs.map((s) => s.results[k]!.makespanMs / s.bound.ms);
      const admission = runs.map((s) => byCause(s.results[k]!, 'admission'));
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      return [name, fixed(Math.min(...ratios), 3), fixed(sum(ratios) / n, 3), fixed(Math.max(...ratios), 3), sum(admission), admission.filter((o) => o > 0).length, sum(runs.map((s) => byCause(s.results[k]!, 'foreign'))), sum(runs.map((s) => summary(s.results[k]!).failed))];
    }),
  );
  // Per seed, so a mean cannot hide the seed that misses.
  printTable(
    `Per seed: × bound (admission over-commits)`,
    ['seed', 'bound min (set by)', ...names.slice(0, SPOOL_ROWS), 'better static †'],
    runs.map((run) => {
      const statics = run.results.slice(SPOOL_ROWS).filter((r) => summary(r).failed === 0);
      const better = Math.min(...statics.map((r) => r.makespanMs));
      return [
        run.seed,
        `${minutes(run.bound.ms)} (${run.bound.binding})`,
        ...run.results.slice(0, SPOOL_ROWS).map((r) => `${fixed(r.makespanMs / run.bound.ms, 3)} (${byCause(r, 'admission')})${summary(r).failed > 0 ? ' †' : ''}`),
        fixed(better / run.bound.ms, 3),
      ];
    }),
  );
  printTable(
    `Spool's goal: seeds meeting it (of ${n})`,
    ['policy', 'no admission over-commit', 'makespan ≤ 1.15 × bound', 'makespan ≤ better static †', 'all three'],
    names.slice(0, SPOOL_ROWS).map((name, k) => {
      const g = runs.map((run) => goal(run, k));
      return [name, g.filter((x) => x.noOverCommit).length, g.filter((x) => x.nearBound).length, g.filter((x) => x.vsStatic).length, g.filter((x) => x.noOverCommit && x.nearBound && x.vsStatic).length];
    }),
  );
  process.stdout.write('† among the static policies that completed every job; a makespan marked † left jobs failed for good.\n\n');
}

function main(): void {
  const seed = Number(process.argv[2] ?? 1);
  const seeds = Number(process.argv[3] ?? 10);
  const wallStart = performance.now();
  process.stdout.write(`## Scheduling simulator\n\nBox: ${BOX.gpus} × ${BOX.vramMb} MiB GPUs (NVENC, ${BOX.nvencSessionLimit} sessions), ${BOX.cores} cores, ${BOX.memMb / 1024} GiB.\n\n`);
  const runs = Array.from({ length: seeds }, (_, i) => runSeed(i + 1));
  printSeed(runs.find((r) => r.seed === seed) ?? runSeed(seed));
  printSummary(runs);
  const simMs = runs.reduce((s, r) => s + r.results.reduce((t, x) => t + x.wallMs, 0), 0);
  process.stdout.write(`Wall time: ${fixed(performance.now() - wallStart, 0)} ms in all, ${fixed(simMs, 0)} ms of it inside ${seeds * runs[0]!.results.length} simulations.\n`);
}

main();
