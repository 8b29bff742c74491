/** Learned requirements: max(declared, p90 of recent attempts with a margin), on a real SQLite file. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../agent/config/load-config.js';
import { insertUsage } from '../../agent/db/attempt.repository.js';
import { openDatabase, type OpenedDatabase } from '../../agent/db/database.js';
import { createEstimator, percentile } from '../../agent/scheduler/estimates.js';

const config = parseConfig({ profiles: { tag: { kind: 'command', category: 'gpu_ai', vramMb: 4000, command: ['x'] } } }, '/tmp');
const profile = config.profiles.tag!;
let opened: OpenedDatabase;
let dir: string;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-est-'));
  opened = await openDatabase(path.join(dir, 'spool.db'));
});
afterEach(async () => {
  await opened.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

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
    const estimator = createEstimator(opened.db);
    expect(estimator.needs('tag', profile, 50e6)).toEqual({ vramMb: 4000, cpuCores: 1, rssMb: 200, outputMb: 50 });
    expect(estimator.runSeconds('tag', 50e6)).toBeNull();

    // Ten attempts that really took 5000–5900 MiB, 1.5 cores, 300 MB RSS, wrote a tenth of their input, 2 s per MB.
    for (let i = 0; i < 10; i++) {
      await insertUsage(opened.db, {
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
});
