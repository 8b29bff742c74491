/**
 * Starvation, through the scheduling simulator (virtual clock, the agent's
 * own decideAdmissions): a continuous stream of small GPU jobs keeps a large
 * one from ever fitting, and only the aging and hold rules get it a turn.
 *
 * One 24 GiB card. A small job takes 4000 MiB for 60 s; one arrives every
 * 20 s, so three always run and at most ~15 GiB is ever available. The large
 * job needs 18000 MiB: it fits only if the stream pauses.
 */
import { describe, expect, it } from 'vitest';
import { simulate, type SimResult } from '../bench/sim/engine.js';
import { SPOOL_LIMITS, spoolPolicy } from '../bench/sim/policies.js';
import type { BoxSpec, SimJob } from '../bench/sim/trace.js';

const S = 1000;
const MIN = 60 * S;
const BOX: BoxSpec = { gpus: 1, vramMb: 24_576, cores: 16, memMb: 65_536, nvencSessionLimit: 32 };
const SMALL_MS = 60 * S;
const STREAM_END = 60 * MIN;
const BIG_ARRIVES = 30 * S;
/** The agent's defaults (starvation 15 min), but aging every 5 min to keep the simulated hour short. */
const limits = { ...SPOOL_LIMITS, agingMs: 5 * MIN, concurrency: { cpu: 4, gpu_encode: 4, gpu_ai: 8 } };

function gpuJob(id: string, priority: number, arrivalMs: number, vramMb: number, durationMs: number): SimJob {
  return {
    id,
    profile: id.startsWith('small') ? 'small' : 'large',
    category: 'gpu_ai',
    kind: 'command',
    encoder: null,
    priority,
    arrivalMs,
    durationMs,
    declared: { vramMb, cpuCores: 1 },
    // Light on the SMs, so three small jobs do not slow each other: the durations stay exact.
    truth: { vramMb, cpuCores: 1, rssMb: 500, rampMs: 0, sm: 0.2, enc: 0 },
  };
}

function run(smallPriority: number, over: Partial<typeof limits> = {}): { result: SimResult; waitedMs: number } {
  const jobs = [gpuJob('large', 8, BIG_ARRIVES, 18_000, 5 * MIN)];
  for (let t = 0, i = 0; t < STREAM_END; t += 20 * S, i++) jobs.push(gpuJob(`small${i}`, smallPriority, t, 4000, SMALL_MS));
  // Both profiles have run before, so their jobs fan out from the start (a profile that never completed runs one at a time).
  const history = [
    { profile: 'small', peakVramMb: 4000, cpuCores: 1, rssMb: 500 },
    { profile: 'large', peakVramMb: 16_000, cpuCores: 1, rssMb: 500 },
  ];
  const result = simulate({ jobs, foreign: [] }, BOX, spoolPolicy('spool', { ...limits, ...over }, history));
  const large = result.outcomes.find((o) => o.job.id === 'large')!;
  expect(large.startedAt).not.toBeNull();
  return { result, waitedMs: large.startedAt! - BIG_ARRIVES };
}

describe('starvation: a stream of small GPU jobs and one large one', () => {
  it('the stream alone would keep the large job out: it never fits while the stream runs', () => {
    const { result, waitedMs } = run(2, { starvationMs: Infinity });
    // No hold: the large job starts only after the last small job has ended.
    expect(BIG_ARRIVES + waitedMs).toBeGreaterThanOrEqual(STREAM_END);
    expect(result.overCommits).toEqual([]);
  });

  it('among equal priorities the hold bounds the wait: starvationMs + the longest small job', () => {
    const { waitedMs } = run(8);
    expect(waitedMs).toBeGreaterThanOrEqual(limits.starvationMs);
    expect(waitedMs).toBeLessThanOrEqual(limits.starvationMs + SMALL_MS);
  });

  it('a higher-priority stream: aging lifts the large job level with it, then the hold gets it in', () => {
    // Priority 8 against 2: six aging steps until it ranks first (FIFO among equals), then the hold.
    const levelMs = (8 - 2) * limits.agingMs;
    const { waitedMs, result } = run(2);
    expect(waitedMs).toBeGreaterThan(limits.starvationMs);
    expect(waitedMs).toBeLessThanOrEqual(Math.max(levelMs, limits.starvationMs) + SMALL_MS);
    expect(BIG_ARRIVES + waitedMs).toBeLessThan(STREAM_END - 15 * MIN);
    expect(result.overCommits).toEqual([]);
  });

  it('without aging a higher-priority stream starves it until the stream ends, hold or not', () => {
    // The hold only binds jobs ranked after the starving one; aging is what ranks it first.
    const { waitedMs } = run(2, { agingMs: Infinity });
    expect(BIG_ARRIVES + waitedMs).toBeGreaterThanOrEqual(STREAM_END);
  });

  // The bound one might expect from "its resources are held for it": admission.ts holds a
  // resource only against jobs ranked after the starving one, so a higher-priority stream
  // keeps taking the memory until aging ranks the large job first (here 30 min, not 15 + 1).
  // Passing it means letting a starving job that fits go before a higher-ranked one, which
  // the order table case "aging not yet enough" forbids (test/bench/SIM-NOTES.md, "The
  // starvation bound").
  it.fails('a higher-priority stream: within starvationMs + the longest small job (not what admission.ts does)', () => {
    const { waitedMs } = run(2);
    expect(waitedMs).toBeLessThanOrEqual(limits.starvationMs + SMALL_MS);
  });
});
