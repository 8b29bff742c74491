/**
 * The real GPU sampler against the fake nvidia-smi (test/helpers/fake-gpu):
 * real processes, real timeouts, state changed under it as a GPU box would.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, test } from 'vitest';
import { createGpuSampler, type GpuSampler, type GpuSamplerEvent, type GpuSamplerOptions } from '../../agent/samplers/gpu-sampler.js';
import { createFakeClock } from '../helpers/fake-clock.js';
import { createFakeGpu, type FakeGpu } from '../helpers/fake-gpu/index.js';

const RTX_4080 = { name: 'NVIDIA GeForce RTX 4080', memoryTotalMb: 16376, baseUsedMb: 300 };
const H100 = { name: 'NVIDIA H100 80GB HBM3', memoryTotalMb: 81559 };

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function setup(fakeState: Parameters<typeof createFakeGpu>[0], options: Partial<GpuSamplerOptions> = {}) {
  const fake = createFakeGpu(fakeState);
  cleanups.push(() => fake.cleanup());
  const events: GpuSamplerEvent[] = [];
  const listeners: ((e: GpuSamplerEvent) => void)[] = [];
  const sampler = createGpuSampler({
    intervalMs: 100,
    timeoutMs: 5000,
    env: fake.env,
    onEvent: (e) => {
      events.push(e);
      for (const l of listeners) l(e);
    },
    ...options,
  });
  cleanups.push(() => sampler.stop());
  /** Resolves on the next event of this type. */
  const next = (type: GpuSamplerEvent['type']) =>
    new Promise<GpuSamplerEvent>((resolve) => listeners.push((e) => e.type === type && resolve(e)));
  return { fake, sampler, events, next };
}

/** Samples until `check` holds: for changes made by another process at a time of its choosing. */
async function sampleUntil(sampler: GpuSampler, check: (s: Awaited<ReturnType<GpuSampler['sampleNow']>>) => boolean, limitMs = 20_000) {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const snapshot = await sampler.sampleNow();
    if (check(snapshot)) return snapshot;
    if (Date.now() > deadline) throw new Error(`condition not met; last snapshot ${JSON.stringify(snapshot)}`);
  }
}

describe('GPU sampler against the fake nvidia-smi', () => {
  test('reads memory, processes and sessions, and sees the state change', async () => {
    const { fake, sampler } = setup({ gpus: [{ ...RTX_4080, encoderSessions: 1 }], foreign: [{ pid: 4242, gpu: 0, usedMemoryMb: 5120, name: 'python3' }] });
    const first = await sampler.sampleNow();
    expect(first).toMatchObject({ ok: true, stale: false, error: null });
    expect(first.gpus).toEqual([
      expect.objectContaining({ index: 0, name: RTX_4080.name, memoryTotalMb: 16376, memoryUsedMb: 5420, memoryFreeMb: 10956, encoderSessions: 1, nvenc: true, processes: [{ pid: 4242, usedMemoryMb: 5120, name: 'python3' }] }),
    ]);
    expect(sampler.latest()).toBe(first);

    fake.setState({ foreign: [] });
    const second = await sampler.sampleNow();
    expect(second.gpus[0]).toMatchObject({ memoryUsedMb: 300, memoryFreeMb: 16076, processes: [] });
  });

  test('the full -q -x sample agrees with the cheap one and also lists graphics processes', async () => {
    const foreign = [
      { pid: 4242, gpu: 1, usedMemoryMb: 2048, name: 'python3' },
      { pid: 4242, gpu: 0, usedMemoryMb: 1024, name: 'python3' },
      { pid: 900, gpu: 0, usedMemoryMb: 64, name: 'Xorg', type: 'G' as const },
    ];
    const { sampler } = setup({ gpus: [RTX_4080, H100], foreign });
    const cheap = await sampler.sampleNow();
    const full = await sampler.sampleNow({ full: true });
    expect(full.ok).toBe(true);
    const memory = (s: typeof cheap) => s.gpus.map((g) => [g.index, g.uuid, g.memoryUsedMb, g.memoryFreeMb, g.nvenc]);
    expect(memory(full)).toEqual(memory(cheap));
    expect(cheap.gpus[1]).toMatchObject({ nvenc: false, processes: [{ pid: 4242, usedMemoryMb: 2048, name: 'python3' }] });
    expect(cheap.gpus[0]?.processes.map((p) => p.pid)).toEqual([4242]);
    expect(full.gpus[0]?.processes.map((p) => p.pid)).toEqual([4242, 900]);
  });

  test('calls never overlap: a sample asked for during another shares it', async () => {
    const { sampler } = setup({ gpus: [RTX_4080] });
    const [a, b] = await Promise.all([sampler.sampleNow(), sampler.sampleNow()]);
    expect(a).toBe(b);
  });

  test('a hanging nvidia-smi is killed: the snapshot is stale and not ok, one error event, then recovery', async () => {
    const { fake, sampler, events, next } = setup({ gpus: [RTX_4080], delayMs: 60_000 }, { timeoutMs: 1500 });
    const hung = await sampler.sampleNow();
    expect(hung).toMatchObject({ ok: false, stale: true, error: 'nvidia-smi did not answer in 1500 ms', gpus: [] });
    expect(events).toEqual([{ type: 'sampler:error', message: 'nvidia-smi did not answer in 1500 ms' }]);
    await sampler.sampleNow();
    expect(events).toHaveLength(1); // the same problem again is not a new event

    fake.setState({ delayMs: 0 });
    const recovered = next('sampler:recovered');
    sampler.setActive(true);
    sampler.start();
    expect((await recovered).message).toMatch(/did not answer/);
    expect(sampler.latest()).toMatchObject({ ok: true, stale: false, error: null });
  });

  test.each([
    ['driver', /^nvidia-smi failed \(exit 9\): NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver/],
    ['garbage', /^unexpected nvidia-smi output/],
  ] as const)('fail mode %s gives a stale, not-ok snapshot in both forms', async (fail, message) => {
    const { sampler, next } = setup({ gpus: [RTX_4080], fail });
    const event = next('sampler:error');
    for (const full of [false, true]) {
      const snapshot = await sampler.sampleNow({ full });
      expect(snapshot).toMatchObject({ ok: false, stale: true, gpus: [] });
      expect(snapshot.error).toMatch(message);
    }
    expect((await event).message).toMatch(message);
  });

  test('no nvidia-smi on PATH gives ok:false with "nvidia-smi not found"', async () => {
    const { fake } = setup({ gpus: [RTX_4080] });
    const sampler = createGpuSampler({ intervalMs: 100, timeoutMs: 1000, env: { ...fake.env, PATH: '/nonexistent' } });
    expect(await sampler.sampleNow()).toMatchObject({ ok: false, stale: true, error: 'nvidia-smi not found', gpus: [] });
  });

  test('a snapshot turns stale once it is older than its interval allows', async () => {
    const clock = createFakeClock(Date.now());
    const { sampler } = setup({ gpus: [RTX_4080] }, { clock, idleIntervalMs: 30_000, timeoutMs: 5000 });
    expect((await sampler.sampleNow()).stale).toBe(false);
    clock.advance(60_000);
    expect(sampler.latest().stale).toBe(false);
    clock.advance(5_001);
    expect(sampler.latest()).toMatchObject({ ok: true, stale: true });
    sampler.setActive(true); // a 100 ms period: the same snapshot is far too old
    expect(sampler.latest().stale).toBe(true);
  });

  test('the loop samples at the fast period only while active', async () => {
    const { sampler } = setup({ gpus: [RTX_4080] }, { intervalMs: 50, idleIntervalMs: 600_000 });
    sampler.start();
    const first = await sampleUntilLatest(sampler, (at) => at > 0);
    sampler.setActive(true);
    await sampleUntilLatest(sampler, (at) => at > first + 1);
  });
});

/** Waits for the loop (not this test) to produce a snapshot whose time passes `check`. */
async function sampleUntilLatest(sampler: GpuSampler, check: (at: number) => boolean): Promise<number> {
  const deadline = Date.now() + 20_000;
  while (!check(sampler.latest().at) || !sampler.latest().ok) {
    if (Date.now() > deadline) throw new Error(`loop did not sample; latest ${JSON.stringify(sampler.latest())}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return sampler.latest().at;
}

describe('fake GPU workload', () => {
  test('registers its memory on the GPU CUDA_VISIBLE_DEVICES names after ramp-up, and unregisters on SIGTERM', async () => {
    const { fake, sampler } = setup({ gpus: [RTX_4080, RTX_4080] });
    const [node, ...args] = fake.workloadCommand({ mib: 6000, rampMs: 200, durationMs: 120_000, name: 'fake-ai' });
    const child = spawn(node!, args, { env: { ...fake.env, CUDA_VISIBLE_DEVICES: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => child.kill('SIGKILL'));

    const loaded = await sampleUntil(sampler, (s) => s.gpus[1]?.processes.length === 1);
    expect(loaded.gpus[1]).toMatchObject({ memoryUsedMb: 6300, memoryFreeMb: 10076, processes: [{ pid: child.pid, usedMemoryMb: 6000, name: 'fake-ai' }] });
    expect(loaded.gpus[0]?.processes).toEqual([]);
    expect(fake.registeredPids()).toEqual([child.pid]);

    child.kill('SIGTERM');
    const [code, signal] = await once(child, 'exit');
    expect([code, signal]).toEqual([null, 'SIGTERM']);
    expect(fake.registeredPids()).toEqual([]);
    expect((await sampler.sampleNow()).gpus[1]).toMatchObject({ memoryUsedMb: 300, processes: [] });
  });

  test('a workload that runs its course unregisters and exits 0, printing progress', async () => {
    const { fake } = setup({ gpus: [RTX_4080] });
    const [node, ...args] = fake.workloadCommand({ mib: 1000, rampMs: 0, durationMs: 400 });
    const child = spawn(node!, args, { env: fake.env, stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(stdout.trim().split('\n').at(-1)).toBe('progress=100');
    expect(fake.registeredPids()).toEqual([]);
  });

  test('the memory of a workload killed outright is gone too (the driver frees a dead process)', async () => {
    const { fake } = setup({ gpus: [RTX_4080] });
    const [node, ...args] = fake.workloadCommand({ mib: 1000, rampMs: 0, durationMs: 120_000 });
    const child = spawn(node!, args, { env: fake.env, stdio: ['ignore', 'pipe', 'pipe'] });
    // Its first stderr line says it holds the memory.
    await once(child.stderr, 'data');
    expect(fake.registeredPids()).toEqual([child.pid]);
    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(fake.registeredPids()).toEqual([]);
  });
});

test.each([
  ['intervalMs', 0],
  ['timeoutMs', -1],
  ['idleIntervalMs', Number.NaN],
] as const)('rejects %s = %s with a sentence naming it', (key, value) => {
  expect(() => createGpuSampler({ intervalMs: 1000, timeoutMs: 1000, [key]: value })).toThrow(`Expected \`${key}\` to be a positive number of milliseconds, got ${value}`);
});
