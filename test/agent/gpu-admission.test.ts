/**
 * Resource-aware admission through the real agent, its real GPU sampler and
 * a fake nvidia-smi first on PATH (real captured XML/CSV shapes, rewritten
 * from a state file this test controls), with fake GPU workloads that hold
 * memory the way a CUDA program does.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { insertUsage } from '../../agent/db/attempt.repository.js';
import { openDatabase } from '../../agent/db/database.js';
import { createFakeGpu, type FakeGpu } from '../helpers/fake-gpu/index.js';
import { makeTempDir, startTestAgent, type TestAgent } from '../helpers/test-agent.js';

let t: TestAgent | undefined;
let gpu: FakeGpu | undefined;
afterEach(async () => {
  await t?.stop();
  gpu?.cleanup();
  t = undefined;
  gpu = undefined;
});

/** Runs `check` after every job update until it holds. */
async function until(check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * A data folder where one attempt of `tag` completed before (on 5000 MiB,
 * under its declared 6000): its jobs may run side by side from the start.
 * A profile that never completed runs one GPU attempt at a time.
 */
async function ranBefore(): Promise<string> {
  const dir = makeTempDir();
  const opened = await openDatabase(path.join(dir, 'data', 'spool.db'));
  await insertUsage(opened.db, { profile: 'tag', job_id: 'earlier', recorded_at: 0, wall_seconds: 2, cpu_seconds: null, peak_rss_bytes: null, peak_vram_mb: 5000, input_bytes: 5, output_bytes: 0, media_seconds: null, encoder: 'cpu' });
  await opened.close();
  return dir;
}

async function startGpuAgent(workload: { mib: number; rampMs: number; durationMs: number }, foreignMb: number, extra: Record<string, unknown> = {}, dir?: string) {
  gpu = createFakeGpu({ gpus: [{ name: 'NVIDIA GeForce RTX 4080', memoryTotalMb: 16_384 }], foreign: foreignMb > 0 ? [{ pid: 4242, gpu: 0, usedMemoryMb: foreignMb, name: 'someone-elses-training' }] : [] });
  t = await startTestAgent(
    {
      resources: { gpu: { sampleIntervalMs: 100, sampleTimeoutMs: 1000, headroomMb: 512 }, categories: { cpu: { concurrency: 2 }, gpu_ai: { concurrency: 4 } } },
      profiles: {
        tag: { kind: 'command', category: 'gpu_ai', vramMb: 6000, command: gpu.workloadCommand(workload) },
        quick: { kind: 'command', command: [process.execPath, '-e', ''] },
      },
      ...extra,
    },
    { env: gpu.env, dir },
  );
  return t;
}

function submit(profile: string, name: string) {
  const file = path.join(t!.dir, name);
  fs.writeFileSync(file, name);
  return t!.agent.jobs.submit({ profile, inputPath: file });
}

describe('GPU admission against live samples', () => {
  it('a foreign process holding 5 GiB of a 16 GiB card leaves room for one 6000 MiB job at a time', async () => {
    await startGpuAgent({ mib: 6000, rampMs: 100, durationMs: 1500 }, 5120);
    let peak = 0;
    t!.agent.events.on('job:updated', () => {
      const running = t!.agent.executor.running().length;
      peak = Math.max(peak, running);
    });
    const a = await submit('tag', 'a.bin');
    const b = await submit('tag', 'b.bin');
    const waiting = await t!.next('job:updated', ({ job }) => job.id === b.id && (job.waitingReason ?? '').startsWith('needs 6000 MiB VRAM'));
    // 16384 − 5120 foreign − 6000 ours (counted in full until the sample shows it) − 512 headroom
    expect(waiting.job.waitingReason).toMatch(/^needs 6000 MiB VRAM; GPU 0 has \d+ MiB available$/);
    await t!.waitForStatus(b.id, ['COMPLETED'], 30_000);
    expect((await t!.agent.jobs.get(a.id))!.status).toBe('COMPLETED');
    expect(peak).toBe(1);
    expect((await t!.agent.jobs.get(a.id))!.gpuIndex).toBe(0);
  });

  it('when the foreign process goes away, two run at once', async () => {
    await startGpuAgent({ mib: 6000, rampMs: 100, durationMs: 3000 }, 5120, {}, await ranBefore());
    const a = await submit('tag', 'a.bin');
    const b = await submit('tag', 'b.bin');
    await t!.waitForStatus(a.id, ['RUNNING']);
    expect((await t!.agent.jobs.get(b.id))!.status).toBe('PENDING');
    gpu!.setState({ foreign: [] });
    await t!.waitForStatus(b.id, ['RUNNING'], 10_000);
    expect((await t!.agent.jobs.get(a.id))!.status).toBe('RUNNING');
  });

  it('an admitted job not yet visible in the samples still counts', async () => {
    // 16384 free: two 6000 MiB jobs fit, a third does not, even while none of them shows any memory yet.
    await startGpuAgent({ mib: 6000, rampMs: 2500, durationMs: 3000 }, 0, {}, await ranBefore());
    const jobs = [await submit('tag', 'a.bin'), await submit('tag', 'b.bin'), await submit('tag', 'c.bin')];
    await until(async () => (await Promise.all(jobs.map((j) => t!.agent.jobs.get(j.id)))).filter((j) => j!.status === 'RUNNING').length === 2);
    expect(gpu!.registrations()).toEqual([]); // nothing visible yet
    const third = (await Promise.all(jobs.map((j) => t!.agent.jobs.get(j.id)))).find((j) => j!.status === 'PENDING')!;
    await until(async () => ((await t!.agent.jobs.get(third.id))!.waitingReason ?? '').startsWith('needs 6000 MiB VRAM'));
    expect(t!.agent.executor.running()).toHaveLength(2);
  });

  it('a profile that never completed runs one GPU attempt at a time, then fans out', async () => {
    // Room for two (16384 free), but nobody has seen a `tag` job finish: the second waits for the first.
    await startGpuAgent({ mib: 6000, rampMs: 100, durationMs: 1500 }, 0);
    let peak = 0;
    t!.agent.events.on('job:updated', () => {
      peak = Math.max(peak, t!.agent.executor.running().length);
    });
    const a = await submit('tag', 'a.bin');
    const b = await submit('tag', 'b.bin');
    const waiting = await t!.next('job:updated', ({ job }) => job.id === b.id && (job.waitingReason ?? '').startsWith('first GPU run of profile tag'));
    expect(waiting.job.waitingReason).toBe(`first GPU run of profile tag: waiting for job ${a.id} to show how much GPU memory it takes`);
    await t!.waitForStatus(b.id, ['COMPLETED'], 30_000);
    expect(peak).toBe(1);
    // One completed: the next two run side by side.
    const c = await submit('tag', 'c.bin');
    const d = await submit('tag', 'd.bin');
    await until(async () => (await Promise.all([c, d].map((j) => t!.agent.jobs.get(j.id)))).every((j) => j!.status === 'RUNNING'));
  });

  it('a hanging nvidia-smi stops GPU admissions while CPU jobs keep running', async () => {
    await startGpuAgent({ mib: 1000, rampMs: 50, durationMs: 300 }, 0);
    const error = t!.next('sampler:error');
    gpu!.setState({ delayMs: 5000 });
    // Queued GPU work (held by a paused queue) switches the sampler to its fast period.
    await t!.agent.jobs.pauseQueue();
    const g = await submit('tag', 'gpu.bin');
    await error;
    await t!.agent.jobs.resumeQueue();
    const c = await submit('quick', 'cpu.bin');
    await t!.waitForStatus(c.id, ['COMPLETED']);
    await until(async () => /^no GPU work now: GPU sample not usable/.test((await t!.agent.jobs.get(g.id))!.waitingReason ?? ''));
    expect((await t!.agent.jobs.get(g.id))!.status).toBe('PENDING');
    const recovered = t!.next('sampler:recovered');
    gpu!.setState({ delayMs: 0 });
    await recovered;
    await t!.waitForStatus(g.id, ['COMPLETED'], 20_000);
  });

  it('a failing nvidia-smi (driver error) reports an error event and GPU work waits', async () => {
    await startGpuAgent({ mib: 1000, rampMs: 50, durationMs: 300 }, 0);
    const error = t!.next('sampler:error');
    gpu!.setState({ fail: 'driver' });
    await t!.agent.jobs.pauseQueue();
    const g = await submit('tag', 'gpu.bin');
    expect((await error).message).toMatch(/nvidia-smi/);
    await t!.agent.jobs.resumeQueue();
    await until(async () => /^no GPU work now/.test((await t!.agent.jobs.get(g.id))!.waitingReason ?? ''));
  });
});
