/**
 * A host sampler that reports a quiet machine, for agent tests whose subject
 * is not CPU admission: on a two-core CI box running two test files at once,
 * the real busy share would make their jobs wait on each other. CPU and
 * memory admission are tested by tables in test/scheduler.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { SystemSampler, SystemSnapshot } from '../../agent/samplers/system-sampler.js';

export function createQuietSystemSampler(overrides: Partial<SystemSnapshot> = {}): SystemSampler {
  const snapshot = (): SystemSnapshot => ({ at: Date.now(), takenAt: performance.now(), cores: 8, cpuBusyShare: 0.05, memTotalMb: 32_000, memAvailableMb: 24_000, error: null, ...overrides });
  return {
    start() {},
    async stop() {},
    latest: snapshot,
    sampleNow: async () => snapshot(),
  };
}

/** PATH without any folder holding an nvidia-smi, so a GPU box runs CPU-only tests the same way CI does. */
export function pathWithoutNvidiaSmi(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const dirs = (env.PATH ?? '').split(path.delimiter).filter((dir) => !fs.existsSync(path.join(dir, 'nvidia-smi')));
  return { ...env, PATH: dirs.join(path.delimiter) };
}
