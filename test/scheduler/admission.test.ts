/** The admission decision as tables of cases: pure, no clock, no I/O. */
import { describe, expect, it } from 'vitest';
import { decideAdmissions, effectivePriority, FIRST_RUN_ALONE_MS, type GpuSample, type Limits, type Needs, type QueuedJob, type RunningAttempt, type Samples } from '../../agent/scheduler/admission.js';
import { backoffDelay } from '../../agent/scheduler/backoff.js';

const NOW = 1_000_000_000;
const MIN = 60_000;
const gpu = (index: number, over: Partial<GpuSample> = {}): GpuSample => ({ index, name: 'RTX A5000', nvenc: true, memoryFreeMb: 24_000, memoryTotalMb: 24_564, encoderSessions: 0, nvencSessionLimit: 32, ...over });
const base = { gpuAt: NOW - 500, system: null, disks: {} };
const noGpu: Samples = { ...base, gpus: [], gpuProblem: 'nvidia-smi not found' };
const oneGpu: Samples = { ...base, gpus: [gpu(0, { name: 'NVIDIA L40S' })], gpuProblem: null };
const twoGpus: Samples = { ...base, gpus: [gpu(0), gpu(1)], gpuProblem: null };
const limits: Limits = { concurrency: { cpu: 2, gpu_encode: 2, gpu_ai: 1 }, agingMs: 10 * MIN, queuePaused: false, headroomMb: 512, cpuCeilingPercent: 90, starvationMs: 15 * MIN, minFreeDiskMb: 1024 };
const needs = (over: Partial<Needs> = {}): Needs => ({ vramMb: 0, cpuCores: 1, rssMb: 100, outputMb: 10, ...over });
const attempt = (jobId: string, over: Partial<RunningAttempt> = {}): RunningAttempt => ({
  jobId,
  profile: 'p',
  profileCompleted: true,
  category: 'cpu',
  gpuIndex: null,
  encoder: 'cpu',
  startedAt: NOW - 60_000,
  reservation: needs(),
  observedVramMb: 0,
  outboxDevice: null,
  ...over,
});

function job(id: string, over: Partial<QueuedJob> = {}): QueuedJob {
  return {
    id,
    profile: 'p',
    profileCompleted: true,
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
    needs: needs(),
    outboxDevice: null,
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
    const running: RunningAttempt[] = [attempt('r1')];
    expect(admitted([job('a'), job('b'), job('c')], running)).toEqual(['a']);
    expect(reasonOf('b', [job('a'), job('b')], running)).toBe('waiting for a cpu slot (2 of 2 running)');
  });

  it('a blocked category does not block another', () => {
    const running: RunningAttempt[] = [attempt('r1', { category: 'gpu_ai', gpuIndex: 0 })];
    const queue = [job('ai', { category: 'gpu_ai', kind: 'command', priority: 1 }), job('cpu', { priority: 9 })];
    expect(admitted(queue, running, oneGpu)).toEqual(['cpu']);
    expect(reasonOf('ai', queue, running, oneGpu)).toBe('waiting for a gpu_ai slot (1 of 1 running)');
  });

  it.each<[string, QueuedJob, string]>([
    ['unmet dependency', job('d', { unmetDependencies: 2, blockingDependency: 'P1' }), 'waiting for job P1 and 1 more to complete'],
    ['backoff', job('d', { runAfter: NOW + 30_000, attempts: 1 }), `attempt 2 of 3 waits until ${new Date(NOW + 30_000).toISOString()} (backoff)`],
    ['scheduled', job('d', { runAfter: NOW + 30_000 }), `scheduled to run at ${new Date(NOW + 30_000).toISOString()}`],
    ['GPU job without a GPU', job('d', { category: 'gpu_ai', kind: 'command' }), 'no GPU work now: nvidia-smi not found'],
    ['NVENC-only transcode without a GPU', job('d', { category: 'gpu_encode', kind: 'transcode', encoder: 'nvenc' }), 'no GPU work now: nvidia-smi not found: this profile needs NVENC'],
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
    const h100: Samples = { ...base, gpus: [gpu(0, { name: 'NVIDIA H100 80GB HBM3', nvenc: false, nvencSessionLimit: 0 })], gpuProblem: null };
    expect(decideAdmissions([transcode('t', 'auto')], [], h100, limits, NOW).admit[0]?.placement).toEqual({ encoder: 'cpu', gpuIndex: null });
    expect(reasonOf('t', [transcode('t', 'nvenc')], [], h100)).toBe('no GPU here has NVENC');
  });

  it('GPU work spreads to the GPU with the fewest of our attempts, lowest index on a tie', () => {
    const running: RunningAttempt[] = [attempt('r', { category: 'gpu_encode', gpuIndex: 0, encoder: 'nvenc' })];
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

describe('resources', () => {
  const ai = (id: string, vramMb: number, over: Partial<QueuedJob> = {}) => job(id, { kind: 'command', category: 'gpu_ai', needs: needs({ vramMb }), ...over });
  const wide: Limits = { ...limits, concurrency: { cpu: 8, gpu_encode: 8, gpu_ai: 8 } };
  const card16 = (free: number): Samples => ({ ...base, gpus: [gpu(0, { memoryTotalMb: 16_384, memoryFreeMb: free })], gpuProblem: null });

  it('VRAM: foreign processes are respected and the reason gives the figures', () => {
    // 16 GiB card, a foreign process holds 5 GiB: 11 GiB free, 512 MiB headroom → one 6000 MiB job only.
    const queue = [ai('a', 6000), ai('b', 6000)];
    expect(admitted(queue, [], card16(11_264), wide)).toEqual(['a']);
    expect(reasonOf('b', queue, [], card16(11_264), wide)).toBe('needs 6000 MiB VRAM; GPU 0 has 4752 MiB available');
    expect(admitted(queue, [], card16(16_000), wide)).toEqual(['a', 'b']);
  });

  it('VRAM: a running attempt counts in full until the sample shows its memory', () => {
    const started = attempt('r', { category: 'gpu_ai', gpuIndex: 0, startedAt: NOW - 100, reservation: needs({ vramMb: 6000 }), observedVramMb: 0 });
    // The sample (free 16000) predates the attempt: its 6000 MiB are not in it yet.
    expect(admitted([ai('a', 6000)], [started], card16(16_000), wide)).toEqual(['a']);
    expect(admitted([ai('a', 6000), ai('b', 6000)], [started], card16(16_000), wide)).toEqual(['a']);
    // Once observed (free dropped by what it uses), only the unobserved part is held back.
    const seen = { ...started, observedVramMb: 4000 };
    // 12000 free − (6000 reserved − 4000 seen) − 512 headroom = 9488.
    expect(admitted([ai('a', 9000)], [seen], card16(12_000), wide)).toEqual(['a']);
    expect(reasonOf('a', [ai('a', 10_000)], [seen], card16(12_000), wide)).toBe('needs 10000 MiB VRAM; GPU 0 has 9488 MiB available');
  });

  it('VRAM: several GPUs are named in the reason', () => {
    const two: Samples = { ...base, gpus: [gpu(0, { memoryFreeMb: 3632 }), gpu(1, { memoryFreeMb: 2560 })], gpuProblem: null };
    expect(reasonOf('a', [ai('a', 6000)], [], two, wide)).toBe('needs 6000 MiB VRAM; GPU 0 has 3120 MiB available, GPU 1 has 2048 MiB available');
  });

  it('placement: the tightest fitting GPU for a VRAM job', () => {
    const two: Samples = { ...base, gpus: [gpu(0, { memoryFreeMb: 20_000 }), gpu(1, { memoryFreeMb: 8_000 })], gpuProblem: null };
    const d = decideAdmissions([ai('small', 6000, { createdAt: NOW - 2 * MIN }), ai('big', 16_000)], [], two, wide, NOW);
    expect(d.admit.map((a) => [a.jobId, a.placement.gpuIndex])).toEqual([
      ['small', 1],
      ['big', 0],
    ]);
  });

  it('stale or failing GPU samples admit no GPU job but keep CPU work going', () => {
    const stale: Samples = { ...base, gpus: [], gpuProblem: 'GPU sample not usable (nvidia-smi did not answer within 5000 ms)' };
    const queue = [ai('gpu', 100), job('cpu')];
    expect(admitted(queue, [], stale, wide)).toEqual(['cpu']);
    expect(reasonOf('gpu', queue, [], stale, wide)).toBe('no GPU work now: GPU sample not usable (nvidia-smi did not answer within 5000 ms)');
  });

  it('NVENC sessions: live plus just-started against the card limit', () => {
    const geforce: Samples = { ...base, gpus: [gpu(0, { name: 'GeForce RTX 4080', encoderSessions: 7, nvencSessionLimit: 8 })], gpuProblem: null };
    const t = (id: string) => job(id, { kind: 'transcode', category: 'gpu_encode', encoder: 'nvenc' });
    expect(admitted([t('a'), t('b')], [], geforce, wide)).toEqual(['a']);
    expect(reasonOf('b', [t('a'), t('b')], [], geforce, wide)).toBe('all NVENC sessions in use (GPU 0: 8 of 8)');
    const justStarted = attempt('r', { category: 'gpu_encode', gpuIndex: 0, encoder: 'nvenc', startedAt: NOW });
    expect(admitted([t('a')], [justStarted], geforce, wide)).toEqual([]);
    // An auto transcode falls back to the CPU encoder instead of waiting.
    expect(decideAdmissions([job('x', { kind: 'transcode', category: 'gpu_encode', encoder: 'auto' })], [justStarted], geforce, wide, NOW).admit[0]?.placement).toEqual({ encoder: 'cpu', gpuIndex: null });
  });

  it('CPU ceiling counts attempts started since the sample', () => {
    const host = (busy: number, at = NOW - 1000): Samples => ({ ...noGpu, system: { at, cores: 4, cpuBusyPercent: busy, memAvailableMb: 8000 } });
    const three = ['a', 'b', 'c'].map((id) => job(id, { needs: needs({ cpuCores: 2 }) }));
    // 10 % busy, then +50 % per admitted 2-core job: a and b start (60 % < 90 %), c would start at 110 %.
    expect(admitted(three, [], host(10), wide)).toEqual(['a', 'b']);
    expect(reasonOf('c', three, [], host(10), wide)).toBe('CPU 10% busy, 110% with the jobs just started; needs 2 cores of 4 (ceiling 90%)');
    // An attempt started after the sample counts; one started before it is in the busy share already.
    const since = attempt('r', { startedAt: NOW - 10, reservation: needs({ cpuCores: 4 }) });
    expect(admitted([three[0]!], [since], host(10), wide)).toEqual([]);
    expect(admitted([three[0]!], [{ ...since, startedAt: NOW - 5000 }], host(10), wide)).toEqual(['a']);
    // A job wider than the ceiling still starts on a box below it.
    expect(admitted([job('w', { needs: needs({ cpuCores: 8 }) })], [], host(5), wide)).toEqual(['w']);
    // A box kept busy by other people's processes still runs one of ours at a time, never none.
    expect(admitted([job('p'), job('q')], [], host(95), wide)).toEqual(['p']);
    expect(reasonOf('q', [job('p'), job('q')], [], host(95), wide)).toBe('CPU 95% busy, 120% with the jobs just started; needs 1 core of 4 (ceiling 90%)');
    const oursBefore = attempt('r', { startedAt: NOW - 5000 });
    expect(reasonOf('w', [job('w')], [oursBefore], host(95), wide)).toBe('CPU 95% busy; needs 1 core of 4 (ceiling 90%)');
  });

  it('CPU ceiling: work placed on a GPU is not held back by it, but its cores count against CPU-only work', () => {
    const host = (busy: number): Samples => ({ ...twoGpus, system: { at: NOW - 1000, cores: 4, cpuBusyPercent: busy, memAvailableMb: 8000 } });
    const ours = attempt('r', { startedAt: NOW - 5000 });
    // 95 % busy with one of ours on the box: the CPU job waits, the GPU job starts (a card idle for want of a core is lost).
    const queue = [job('cpu', { createdAt: NOW - 2 * MIN }), ai('gpu', 1000)];
    expect(admitted(queue, [ours], host(95), wide)).toEqual(['gpu']);
    expect(reasonOf('cpu', queue, [ours], host(95), wide)).toBe('CPU 95% busy; needs 1 core of 4 (ceiling 90%)');
    // 60 % busy: a 2-core GPU job admitted first takes the box to 110 %, so the CPU job behind it waits.
    const gpuFirst = [ai('gpu', 1000, { createdAt: NOW - 2 * MIN, needs: needs({ vramMb: 1000, cpuCores: 2 }) }), job('cpu')];
    expect(admitted(gpuFirst, [ours], host(60), wide)).toEqual(['gpu']);
    // A CPU hold for a starving job stops later CPU-only work, and GPU work once GPU work alone would reach the ceiling,
    // so that the held job fits when the CPU-only work has drained.
    const starving = job('wide', { createdAt: NOW - 20 * MIN, needs: needs({ cpuCores: 4 }) });
    const later = [starving, ai('gpu', 1000), job('cpu2')];
    const d = decideAdmissions(later, [ours], host(95), wide, NOW);
    expect(d.admit.map((a) => a.jobId)).toEqual(['gpu']); // GPU work: 1 core of 4, 25 %
    expect(d.wait.find((w) => w.jobId === 'cpu2')?.reason).toBe('CPU is held for job wide, which has waited longest');
    const gpuBusy = attempt('g', { category: 'gpu_ai', gpuIndex: 1, startedAt: NOW - 5000, reservation: needs({ vramMb: 1000, cpuCores: 3 }) });
    const held = decideAdmissions(later, [ours, gpuBusy], host(95), wide, NOW);
    expect(held.admit).toEqual([]); // 3 + 1 cores of 4 would be GPU work alone at 100 %
    expect(held.wait.find((w) => w.jobId === 'gpu')?.reason).toBe('CPU is held for job wide, which has waited longest');
  });

  it('a profile that never completed runs one GPU attempt at a time, on a card of its own', () => {
    const fresh = (id: string, over: Partial<QueuedJob> = {}) => ai(id, 4000, { profile: 'sdxl', profileCompleted: false, ...over });
    const d = decideAdmissions([fresh('a'), fresh('b'), ai('other', 4000)], [], twoGpus, wide, NOW);
    expect(d.admit.map((a) => a.jobId)).toEqual(['a', 'other']);
    expect(d.wait).toEqual([{ jobId: 'b', reason: 'first GPU run of profile sdxl: waiting for job a to show how much GPU memory it takes' }]);
    // A running attempt of the profile counts the same; nothing is held for the waiting one.
    const first = attempt('a', { profile: 'sdxl', profileCompleted: false, category: 'gpu_ai', gpuIndex: 0, reservation: needs({ vramMb: 4000 }) });
    expect(admitted([fresh('b'), ai('later', 4000, { createdAt: NOW })], [first], twoGpus, wide)).toEqual(['later']);
    // On the CPU the rule does not apply: an auto transcode of a fresh profile falls back to the CPU encoder.
    const auto = job('t', { kind: 'transcode', category: 'gpu_encode', encoder: 'auto', profile: 'sdxl', profileCompleted: false });
    expect(decideAdmissions([auto], [first], twoGpus, wide, NOW).admit[0]?.placement).toEqual({ encoder: 'cpu', gpuIndex: null });
    // Once an attempt has completed (and taught its VRAM), the rest fan out.
    const taught = { ...first, profileCompleted: true };
    expect(admitted([fresh('b', { profileCompleted: true }), fresh('c', { profileCompleted: true })], [taught], twoGpus, wide)).toEqual(['b', 'c']);
    // A first run may grow past its declaration: it starts only on a card with none of our work...
    const busy = [attempt('x', { category: 'gpu_ai', gpuIndex: 0, reservation: needs({ vramMb: 1000 }) }), attempt('y', { category: 'gpu_ai', gpuIndex: 1, reservation: needs({ vramMb: 1000 }) })];
    expect(reasonOf('b', [fresh('b')], busy, twoGpus, wide)).toBe('first GPU run of profile sdxl: waiting for a GPU with none of our jobs on it (it may use more memory than declared)');
    expect(admitted([fresh('b')], busy.slice(0, 1), twoGpus, wide)).toEqual(['b']);
    expect(decideAdmissions([fresh('b')], busy.slice(0, 1), twoGpus, wide, NOW).admit[0]?.placement.gpuIndex).toBe(1);
    // ...and nothing joins it there while it runs.
    expect(reasonOf('k', [ai('k', 1000)], [first], oneGpu, wide)).toBe('waiting for the first run of a profile to end (job a on GPU 0); it may use more memory than declared');
    // ...until the samples have seen it run for FIRST_RUN_ALONE_MS: by then its memory shows in them, and a long first job does not keep the card to itself for hours.
    expect(admitted([ai('k', 1000)], [first], { ...oneGpu, gpuAt: first.startedAt + FIRST_RUN_ALONE_MS - 1 }, wide)).toEqual([]);
    expect(admitted([ai('k', 1000)], [first], { ...oneGpu, gpuAt: first.startedAt + FIRST_RUN_ALONE_MS }, wide)).toEqual(['k']);
    // Its own profile still waits for it to complete.
    expect(reasonOf('b', [fresh('b')], [first], { ...twoGpus, gpuAt: first.startedAt + FIRST_RUN_ALONE_MS }, wide)).toMatch(/^first GPU run of profile sdxl: waiting for job a/);
    // A VRAM shortage is the reason shown first: it is what the job would wait for anyway.
    expect(reasonOf('b', [fresh('b', { needs: needs({ vramMb: 30_000 }) })], [first], twoGpus, wide)).toMatch(/^needs 30000 MiB VRAM/);
  });

  it('a job no GPU can ever take waits without holding memory from the others', () => {
    const two: Samples = { ...base, gpus: [gpu(0), gpu(1)], gpuProblem: null };
    const huge = ai('huge', 25_907, { createdAt: NOW - 20 * MIN });
    const d = decideAdmissions([huge, ai('small', 1000)], [], two, wide, NOW);
    expect(d.admit.map((a) => a.jobId)).toEqual(['small']);
    expect(d.wait[0]?.reason).toBe("needs 25907 MiB VRAM; the largest GPU here offers 24052 MiB (lower the profile's vramMb or add a larger card)");
  });

  it('memory and outbox disk against the estimates', () => {
    const samples: Samples = { ...noGpu, system: { at: NOW - 1000, cores: 8, cpuBusyPercent: 0, memAvailableMb: 1000 }, disks: { '64769': { freeMb: 1500, path: '/srv/out' } } };
    expect(reasonOf('m', [job('m', { needs: needs({ rssMb: 2000 }) })], [], samples, wide)).toBe('needs 2000 MB of memory; 1000 MB available');
    expect(reasonOf('d', [job('d', { outboxDevice: '64769', needs: needs({ outputMb: 800 }) })], [], samples, wide)).toBe(
      'outbox /srv/out is too full: needs 800 MB, 476 MB free above the 1024 MB reserve',
    );
    expect(admitted([job('d', { outboxDevice: '64769', needs: needs({ outputMb: 400 }) })], [], samples, wide)).toEqual(['d']);
  });

  it('backfill: small jobs pass a blocked big one until it starves, then its resource is held', () => {
    const big = ai('big', 12_000, { priority: 5, createdAt: NOW - 5 * MIN });
    const small = ai('small', 2000, { priority: 5, createdAt: NOW - 1 * MIN });
    const busyCard = card16(8_000); // 7488 MiB available: big waits, small fits
    expect(admitted([big, small], [], busyCard, wide)).toEqual(['small']);
    const starving = { ...big, createdAt: NOW - 20 * MIN };
    const d = decideAdmissions([starving, small], [], busyCard, wide, NOW);
    expect(d.admit).toEqual([]);
    expect(d.wait.find((w) => w.jobId === 'big')?.reason).toBe('needs 12000 MiB VRAM; GPU 0 has 7488 MiB available; waited 20 min, so no later job may take it');
    expect(d.wait.find((w) => w.jobId === 'small')?.reason).toBe('GPU memory is held for job big, which has waited longest');
    // Other categories still run.
    expect(admitted([starving, small, job('cpu')], [], busyCard, wide)).toEqual(['cpu']);
  });
});
