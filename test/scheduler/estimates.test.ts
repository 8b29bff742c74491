/** Learned requirements: max(declared, p90 of recent attempts with a margin), on a real SQLite file. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../agent/config/load-config.js';
import { insertUsage } from '../../agent/db/attempt.repository.js';
import { createEstimator, percentile } from '../../agent/scheduler/estimates.js';
import { useTempDatabase } from '../helpers/temp-database.js';

const config = parseConfig({ profiles: { tag: { kind: 'command', category: 'gpu_ai', vramMb: 4000, command: ['x'] } } }, '/tmp');
const profile = config.profiles.tag!;
const database = useTempDatabase();

describe('estimates', () => {
  it.each([
    [[], 0.9, null],
    [[5], 0.9, 5],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9, 9],
    [[10, 1, 5], 0.5, 5],
  ])('percentile(%j, %d) = %j', (values, p, expected) => {
    expect(percentile(values, p)).toBe(expected);
  });

  it('runs on declared figures until attempts teach it more', async () => {
    const estimator = createEstimator(database().db);
    expect(estimator.needs('tag', profile, 50e6)).toEqual({ vramMb: 4000, cpuCores: 1, rssMb: 200, outputMb: 50 });
    expect(estimator.runSeconds('tag', 50e6)).toBeNull();

    // Ten attempts that really took 5000–5900 MiB, 1.5 cores, 300 MB RSS, wrote a tenth of their input, 2 s per MB.
    for (let i = 0; i < 10; i++) {
      await insertUsage(database().db, {
        profile: 'tag',
        job_id: `J${i}`,
        recorded_at: i,
        wall_seconds: 20,
        cpu_seconds: 30,
        peak_rss_bytes: 300 * 2 ** 20,
        peak_vram_mb: 5000 + i * 100,
        input_bytes: 10e6,
        output_bytes: 1e6,
        media_seconds: 40,
        encoder: 'cpu',
      });
    }
    await estimator.refresh('tag');
    const needs = estimator.needs('tag', profile, 50e6);
    expect(needs.vramMb).toBe(Math.ceil(5800 * 1.1)); // p90 of 5000..5900 is 5800, +10 %
    expect(needs.cpuCores).toBeCloseTo(1.65);
    expect(needs.rssMb).toBe(360);
    expect(needs.outputMb).toBeCloseTo(5.5);
    expect(estimator.runSeconds('tag', 50e6)).toBe(100);
    expect(estimator.learned('tag')).toMatchObject({ speed: 2, samples: 10 });
  });

  it("a failed attempt's peak VRAM raises the estimate, and teaches nothing else", async () => {
    const estimator = createEstimator(database().db);
    const row = (jobId: string, at: number, peakVramMb: number, outcome: 'completed' | 'failed') => ({
      profile: 'tag',
      job_id: jobId,
      recorded_at: at,
      wall_seconds: outcome === 'completed' ? 20 : 3,
      cpu_seconds: outcome === 'completed' ? 30 : 9,
      peak_rss_bytes: 300 * 2 ** 20,
      peak_vram_mb: peakVramMb,
      input_bytes: 10e6,
      output_bytes: outcome === 'completed' ? 1e6 : 0,
      media_seconds: null,
      encoder: 'cpu',
      outcome,
    });
    // Nothing completed yet: an attempt died holding 7000 MiB of a profile that declares 4000.
    await insertUsage(database().db, row('A', 1, 7000, 'failed'));
    await estimator.refresh('tag');
    expect(estimator.needs('tag', profile, 50e6).vramMb).toBe(Math.ceil(7000 * 1.1));
    expect(estimator.learned('tag')).toMatchObject({ vramMb: 7000, samples: 0, cpuCores: null, secondsPerMb: null });

    // Completed attempts at 5000 MiB: the one that died still sets the floor (it may have wanted more).
    for (let i = 0; i < 5; i++) await insertUsage(database().db, row(`C${i}`, 10 + i, 5000, 'completed'));
    await estimator.refresh('tag');
    expect(estimator.needs('tag', profile, 50e6).vramMb).toBe(Math.ceil(7000 * 1.1));
    // Run time, CPU and output size come from the completed ones alone.
    expect(estimator.learned('tag')).toMatchObject({ samples: 5, cpuCores: 1.5, secondsPerMb: 2, outputRatio: 0.1 });

    // Older rows (before failed attempts were recorded) read as completed.
    const plain = row('D', 20, 9000, 'completed') as Partial<ReturnType<typeof row>>;
    delete plain.outcome;
    await insertUsage(database().db, plain as ReturnType<typeof row>);
    await estimator.refresh('tag');
    expect(estimator.learned('tag')).toMatchObject({ samples: 6 });
  });
});
