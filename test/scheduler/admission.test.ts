/** The admission decision as tables of cases: pure, no clock, no I/O. */
import { describe, expect, it } from 'vitest';
import { decideAdmissions, effectivePriority, type Limits, type QueuedJob, type RunningAttempt, type Samples } from '../../agent/scheduler/admission.js';
import { backoffDelay } from '../../agent/scheduler/backoff.js';

const NOW = 1_000_000_000;
const MIN = 60_000;
const noGpu: Samples = { gpus: [], gpuProblem: 'nvidia-smi not found' };
const oneGpu: Samples = { gpus: [{ index: 0, name: 'NVIDIA L40S', nvenc: true }], gpuProblem: null };
const twoGpus: Samples = { gpus: [{ index: 0, name: 'RTX A5000', nvenc: true }, { index: 1, name: 'RTX A5000', nvenc: true }], gpuProblem: null };
const limits: Limits = { concurrency: { cpu: 2, gpu_encode: 2, gpu_ai: 1 }, agingMs: 10 * MIN, queuePaused: false };

function job(id: string, over: Partial<QueuedJob> = {}): QueuedJob {
  return {
    id,
    kind: 'probe',
    category: 'cpu',
    priority: 5,
    createdAt: NOW - MIN,
    runAfter: null,
    attempts: 0,
    maxAttempts: 3,
    encoder: null,
    unmetDependencies: 0,
    blockingDependency: null,
    brokenDependencies: 0,
    ...over,
  };
}

const admitted = (queue: QueuedJob[], running: RunningAttempt[] = [], samples = noGpu, l = limits, now = NOW) =>
  decideAdmissions(queue, running, samples, l, now).admit.map((a) => a.jobId);
const reasonOf = (id: string, queue: QueuedJob[], running: RunningAttempt[] = [], samples = noGpu, l = limits) =>
  decideAdmissions(queue, running, samples, l, NOW).wait.find((w) => w.jobId === id)?.reason;

describe('order', () => {
  it.each([
    ['higher priority first', [job('low', { priority: 7 }), job('high', { priority: 2 })], ['high', 'low']],
    ['FIFO within a priority', [job('b', { createdAt: NOW - 1000 }), job('a', { createdAt: NOW - 2000 })], ['a', 'b']],
    ['aging lifts an old low-priority job above a new high one', [job('new', { priority: 3, createdAt: NOW }), job('old', { priority: 6, createdAt: NOW - 40 * MIN })], ['old', 'new']],
    ['aging not yet enough', [job('new', { priority: 3, createdAt: NOW }), job('old', { priority: 6, createdAt: NOW - 20 * MIN })], ['new', 'old']],
  ])('%s', (_name, queue, expected) => {
    const l = { ...limits, concurrency: { ...limits.concurrency, cpu: 1 } };
    expect(admitted(queue, [], noGpu, l)).toEqual(expected.slice(0, 1));
    expect(admitted(queue, [], noGpu, { ...l, concurrency: { ...l.concurrency, cpu: 5 } })).toEqual(expected);
  });

  it('effective priority improves one step per aging interval', () => {
    expect(effectivePriority({ priority: 8, createdAt: NOW - 25 * MIN }, NOW, 10 * MIN)).toBe(6);
    expect(effectivePriority({ priority: 8, createdAt: NOW + 5 }, NOW, 10 * MIN)).toBe(8);
  });
});

describe('limits and waiting reasons', () => {
  it('per-category concurrency counts running attempts', () => {
    const running: RunningAttempt[] = [{ jobId: 'r1', category: 'cpu', gpuIndex: null }];
    expect(admitted([job('a'), job('b'), job('c')], running)).toEqual(['a']);
    expect(reasonOf('b', [job('a'), job('b')], running)).toBe('waiting for a cpu slot (2 of 2 running)');
  });

  it('a blocked category does not block another', () => {
    const running: RunningAttempt[] = [{ jobId: 'r1', category: 'gpu_ai', gpuIndex: 0 }];
    const queue = [job('ai', { category: 'gpu_ai', kind: 'command', priority: 1 }), job('cpu', { priority: 9 })];
    expect(admitted(queue, running, oneGpu)).toEqual(['cpu']);
    expect(reasonOf('ai', queue, running, oneGpu)).toBe('waiting for a gpu_ai slot (1 of 1 running)');
  });

  it.each<[string, QueuedJob, string]>([
    ['unmet dependency', job('d', { unmetDependencies: 2, blockingDependency: 'P1' }), 'waiting for job P1 and 1 more to complete'],
    ['backoff', job('d', { runAfter: NOW + 30_000, attempts: 1 }), `attempt 2 of 3 waits until ${new Date(NOW + 30_000).toISOString()} (backoff)`],
    ['scheduled', job('d', { runAfter: NOW + 30_000 }), `scheduled to run at ${new Date(NOW + 30_000).toISOString()}`],
    ['GPU job without a GPU', job('d', { category: 'gpu_ai', kind: 'command' }), 'no GPU (nvidia-smi not found): gpu_ai jobs need an NVIDIA GPU'],
    ['NVENC-only transcode without a GPU', job('d', { category: 'gpu_encode', kind: 'transcode', encoder: 'nvenc' }), 'no GPU (nvidia-smi not found): this profile needs NVENC'],
  ])('%s waits with a reason', (_name, queued, reason) => {
    expect(admitted([queued])).toEqual([]);
    expect(reasonOf('d', [queued])).toBe(reason);
  });

  it('a paused queue admits nothing and says so', () => {
    expect(admitted([job('a')], [], noGpu, { ...limits, queuePaused: true })).toEqual([]);
    expect(reasonOf('a', [job('a')], [], noGpu, { ...limits, queuePaused: true })).toBe('the queue is paused');
  });

  it('a broken dependency fails the job', () => {
    const d = decideAdmissions([job('d', { unmetDependencies: 1, brokenDependencies: 1 })], [], noGpu, limits, NOW);
    expect(d.fail).toEqual([{ jobId: 'd', reason: 'a job it depends on failed or was cancelled' }]);
  });

  it('wakes at the earliest runAfter', () => {
    const d = decideAdmissions([job('a', { runAfter: NOW + 5000 }), job('b', { runAfter: NOW + 2000 })], [], noGpu, limits, NOW);
    expect(d.wakeAt).toBe(NOW + 2000);
    expect(admitted([job('a', { runAfter: NOW })])).toEqual(['a']);
  });
});

describe('placement', () => {
  const transcode = (id: string, encoder: QueuedJob['encoder']) => job(id, { kind: 'transcode', category: encoder === 'cpu' ? 'cpu' : 'gpu_encode', encoder });

  it('encoder auto runs on the CPU, as a cpu job, when no GPU offers NVENC', () => {
    const d = decideAdmissions([transcode('t', 'auto')], [], noGpu, limits, NOW);
    expect(d.admit).toEqual([{ jobId: 't', category: 'cpu', placement: { encoder: 'cpu', gpuIndex: null } }]);
  });

  it('encoder auto takes NVENC when a GPU offers it', () => {
    const d = decideAdmissions([transcode('t', 'auto')], [], oneGpu, limits, NOW);
    expect(d.admit).toEqual([{ jobId: 't', category: 'gpu_encode', placement: { encoder: 'nvenc', gpuIndex: 0 } }]);
  });

  it('an H100 (no NVENC) takes no NVENC job; auto falls back to the CPU', () => {
    const h100: Samples = { gpus: [{ index: 0, name: 'NVIDIA H100 80GB HBM3', nvenc: false }], gpuProblem: null };
    expect(decideAdmissions([transcode('t', 'auto')], [], h100, limits, NOW).admit[0]?.placement).toEqual({ encoder: 'cpu', gpuIndex: null });
    expect(reasonOf('t', [transcode('t', 'nvenc')], [], h100)).toBe('no GPU here offers NVENC: this profile needs it');
  });

  it('GPU work spreads to the GPU with the fewest of our attempts, lowest index on a tie', () => {
    const running: RunningAttempt[] = [{ jobId: 'r', category: 'gpu_encode', gpuIndex: 0 }];
    const d = decideAdmissions([transcode('a', 'nvenc')], running, twoGpus, limits, NOW);
    expect(d.admit[0]?.placement.gpuIndex).toBe(1);
    const fresh = decideAdmissions([transcode('a', 'nvenc'), transcode('b', 'nvenc')], [], twoGpus, limits, NOW);
    expect(fresh.admit.map((a) => a.placement.gpuIndex)).toEqual([0, 1]);
  });
});

describe('backoff', () => {
  it.each([
    [1, 0, 2500],
    [1, 1, 5000],
    [2, 0, 5000],
    [3, 1, 20000],
    [20, 1, 600000],
  ])('attempt %i with random %d waits %i ms', (attempt, random, expected) => {
    expect(backoffDelay(attempt, 5000, 600_000, () => random)).toBe(expected);
  });
});
