/**
 * `/metrics` as a scraper sees it: a real agent runs real jobs (real ffmpeg
 * on real clips, commands that fail, a fake GPU workload) against a fake
 * nvidia-smi on PATH, and the rendered text is parsed and checked against
 * the jobs' own timestamps and the GPU state the test set.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../agent/jobs/job.js';
import { createFakeGpu, type FakeGpu } from '../helpers/fake-gpu/index.js';
import { makeClip } from '../helpers/media.js';
import { parsePrometheusText, samplesOf, valueOf, type PromSample } from '../helpers/prometheus-text.js';
import { startTestAgent, type TestAgent } from '../helpers/test-agent.js';

const MIB = 1024 * 1024;
const TRANSCODE = { kind: 'transcode', encoder: 'cpu', video: { codec: 'h264', preset: 'ultrafast', crf: 30 }, audio: { codec: 'aac', bitrateKbps: 64 } };
const GPU = { name: 'NVIDIA GeForce RTX 4080', memoryTotalMb: 16_384, encoderSessions: 3, utilizationPercent: 40, uuid: 'GPU-5f1c2d3e-0000-4000-8000-000000000042' };
const GPU_LABELS = { index: '0', uuid: GPU.uuid, name: GPU.name };

let t: TestAgent;
let gpu: FakeGpu;

beforeAll(async () => {
  gpu = createFakeGpu({ gpus: [GPU], foreign: [{ pid: 4242, gpu: 0, usedMemoryMb: 5120, name: 'someone-elses-training' }] });
  t = await startTestAgent(
    {
      resources: { gpu: { sampleIntervalMs: 100, sampleTimeoutMs: 1000 }, categories: { cpu: { concurrency: 2 }, gpu_ai: { concurrency: 1 } } },
      profiles: {
        web: TRANSCODE,
        broken: { kind: 'command', maxAttempts: 1, command: [process.execPath, '-e', 'process.exit(3)'] },
        tag: { kind: 'command', category: 'gpu_ai', vramMb: 2000, command: gpu.workloadCommand({ mib: 2000, rampMs: 50, durationMs: 1500 }) },
      },
    },
    { env: gpu.env },
  );
});
afterAll(async () => {
  await t?.stop();
  gpu?.cleanup();
});

async function scrape(): Promise<PromSample[]> {
  return parsePrometheusText(await t.agent.metrics.render());
}

/** Scrapes until `check` holds (figures read at scrape time follow the next GPU sample). */
async function scrapeUntil(check: (samples: PromSample[]) => boolean, timeoutMs = 15_000): Promise<PromSample[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const samples = await scrape();
    if (check(samples)) return samples;
    if (Date.now() > deadline) throw new Error('metrics did not reach the expected figures in time');
    await sleep(50);
  }
}

async function clip(name: string): Promise<string> {
  const file = path.join(t.dir, name);
  await makeClip(file, { seconds: 1 });
  return file;
}

/** Histogram figures of one series: count, sum and cumulative bucket counts by `le`. */
function histogram(samples: PromSample[], name: string, labels: Record<string, string>) {
  const buckets = new Map(samplesOf(samples, `${name}_bucket`, labels).map((s) => [s.labels['le']!, s.value]));
  return { count: valueOf(samples, `${name}_count`, labels) ?? 0, sum: valueOf(samples, `${name}_sum`, labels) ?? 0, buckets };
}

describe('metrics of a real agent', () => {
  it('jobs by status, finishes, run times and admission waits follow the jobs', async () => {
    // One clip dropped into an inbox, one command that fails, one clip held back by a paused queue.
    const dropped = path.join(t.inbox('web'), 'dropped.mp4');
    fs.renameSync(await clip('a.mp4'), dropped);
    const first = await t.waitForStatus(await t.waitForClaim('dropped.mp4'), ['COMPLETED', 'FAILED']);
    const brokenInput = path.join(t.dir, 'input.bin');
    fs.writeFileSync(brokenInput, 'x');
    const failed = await t.waitForStatus((await t.agent.jobs.submit({ profile: 'broken', inputPath: brokenInput })).id, ['COMPLETED', 'FAILED']);
    await t.agent.jobs.pauseQueue();
    const held = await t.agent.jobs.submit({ profile: 'web', inputPath: await clip('b.mp4') });
    await sleep(300); // the queue stays paused this long: a wait the histogram must show
    await t.agent.jobs.resumeQueue();
    const second = await t.waitForStatus(held.id, ['COMPLETED', 'FAILED']);
    expect([first.status, failed.status, second.status]).toEqual(['COMPLETED', 'FAILED', 'COMPLETED']);

    const samples = await scrape();
    expect(valueOf(samples, 'spool_jobs', { status: 'completed' })).toBe(2);
    expect(valueOf(samples, 'spool_jobs', { status: 'failed' })).toBe(1);
    for (const status of ['pending', 'running', 'paused', 'cancelled']) expect(valueOf(samples, 'spool_jobs', { status })).toBe(0);
    expect(valueOf(samples, 'spool_jobs_finished_total', { profile: 'web', status: 'completed' })).toBe(2);
    expect(valueOf(samples, 'spool_jobs_finished_total', { profile: 'broken', status: 'failed' })).toBe(1);

    const seconds = (from: number | null, to: number | null) => (to! - from!) / 1000;
    const runs = histogram(samples, 'spool_job_duration_seconds', { profile: 'web', status: 'completed' });
    expect(runs.count).toBe(2);
    expect(runs.sum).toBeCloseTo(seconds(first.startedAt, first.finishedAt) + seconds(second.startedAt, second.finishedAt), 6);
    expect(histogram(samples, 'spool_job_duration_seconds', { profile: 'broken', status: 'failed' }).count).toBe(1);

    // All three ran in the cpu category; each waited from its creation to its start.
    const jobs: Job[] = [first, failed, second];
    const waits = jobs.map((j) => seconds(j.createdAt, j.startedAt));
    expect(waits[2]).toBeGreaterThanOrEqual(0.3);
    const wait = histogram(samples, 'spool_admission_wait_seconds', { category: 'cpu' });
    expect(wait.count).toBe(3);
    expect(wait.buckets.size).toBeGreaterThan(10);
    expect(wait.sum).toBeCloseTo(waits.reduce((a, b) => a + b, 0), 6);
    for (const [le, count] of wait.buckets) expect(count, `le=${le}`).toBe(waits.filter((w) => le === '+Inf' || w <= Number(le)).length);
    expect(valueOf(samples, 'spool_queue_paused')).toBe(0);
  });

  it('a job released from pause waits from its release, not its creation', async () => {
    const before = histogram(await scrape(), 'spool_admission_wait_seconds', { category: 'cpu' });
    await t.agent.jobs.pauseQueue();
    const job = await t.agent.jobs.submit({ profile: 'web', inputPath: await clip('c.mp4') });
    await t.agent.jobs.pause(job.id);
    expect(valueOf(await scrape(), 'spool_jobs', { status: 'paused' })).toBe(1);
    expect(valueOf(await scrape(), 'spool_queue_paused')).toBe(1);
    await sleep(400); // held by the operator: not admission's doing
    const released = await t.agent.jobs.resume(job.id);
    await t.agent.jobs.resumeQueue();
    const done = await t.waitForStatus(job.id, ['COMPLETED', 'FAILED']);
    const after = histogram(await scrape(), 'spool_admission_wait_seconds', { category: 'cpu' });
    expect(after.count - before.count).toBe(1);
    const observed = after.sum - before.sum;
    expect(observed).toBeCloseTo((done.startedAt! - released.updatedAt) / 1000, 6);
    expect(observed).toBeLessThan((done.startedAt! - done.createdAt) / 1000 - 0.35);
  });

  it('GPU memory, NVENC sessions and running attempts come from the live sample', async () => {
    // Queued GPU work switches the sampler to its fast period.
    await t.agent.jobs.pauseQueue();
    const input = path.join(t.dir, 'gpu.bin');
    fs.writeFileSync(input, 'g');
    const job = await t.agent.jobs.submit({ profile: 'tag', inputPath: input });

    let samples = await scrape();
    expect(valueOf(samples, 'spool_gpu_sample_ok')).toBe(1);
    expect(valueOf(samples, 'spool_gpu_memory_total_bytes', GPU_LABELS)).toBe(16_384 * MIB);
    expect(valueOf(samples, 'spool_gpu_memory_used_bytes', GPU_LABELS)).toBe(5120 * MIB);
    expect(valueOf(samples, 'spool_gpu_encoder_sessions', GPU_LABELS)).toBe(3);
    expect(valueOf(samples, 'spool_gpu_utilization_ratio', GPU_LABELS)).toBeCloseTo(0.4, 6);
    expect(valueOf(samples, 'spool_running_attempts', { category: 'gpu_ai' })).toBe(0);

    gpu.setState({ gpus: [{ ...GPU, encoderSessions: 5 }], foreign: [] });
    samples = await scrapeUntil((s) => valueOf(s, 'spool_gpu_memory_used_bytes', GPU_LABELS) === 0);
    expect(valueOf(samples, 'spool_gpu_encoder_sessions', GPU_LABELS)).toBe(5);

    // Our own workload: counted as a running gpu_ai attempt, and its 2000 MiB show once nvidia-smi sees them.
    await t.agent.jobs.resumeQueue();
    await t.waitForStatus(job.id, ['RUNNING']);
    samples = await scrapeUntil((s) => valueOf(s, 'spool_gpu_memory_used_bytes', GPU_LABELS) === 2000 * MIB);
    expect(valueOf(samples, 'spool_running_attempts', { category: 'gpu_ai' })).toBe(1);
    expect(valueOf(samples, 'spool_jobs', { status: 'running' })).toBe(1);
    const done = await t.waitForStatus(job.id, ['COMPLETED', 'FAILED']);
    expect(done.status, done.error ?? '').toBe('COMPLETED');
    // The attempt leaves the executor's list just after its job's final event.
    samples = await scrapeUntil((s) => valueOf(s, 'spool_running_attempts', { category: 'gpu_ai' }) === 0);
    expect(histogram(samples, 'spool_admission_wait_seconds', { category: 'gpu_ai' }).count).toBe(1);
  });

  it('sampler errors are counted and a failing sample shows no GPU figures', async () => {
    let errors = 0;
    t.agent.events.on('sampler:error', () => (errors += 1));
    const before = valueOf(await scrape(), 'spool_sampler_errors_total') ?? 0;
    await t.agent.jobs.pauseQueue();
    const input = path.join(t.dir, 'gpu-2.bin');
    fs.writeFileSync(input, 'g');
    await t.agent.jobs.submit({ profile: 'tag', inputPath: input });
    const failing = t.next('sampler:error');
    gpu.setState({ fail: 'driver' });
    await failing;
    let samples = await scrapeUntil((s) => valueOf(s, 'spool_gpu_sample_ok') === 0);
    expect(valueOf(samples, 'spool_sampler_errors_total')! - before).toBeGreaterThan(0);
    expect(samplesOf(samples, 'spool_gpu_memory_total_bytes')).toEqual([]);

    const recovered = t.next('sampler:recovered');
    gpu.setState({ fail: null });
    await recovered;
    samples = await scrapeUntil((s) => valueOf(s, 'spool_gpu_sample_ok') === 1);
    expect(valueOf(samples, 'spool_gpu_memory_total_bytes', GPU_LABELS)).toBe(16_384 * MIB);
    // Recovered: no error event can be in flight, so the counter and the events agree exactly.
    expect(valueOf(samples, 'spool_sampler_errors_total')! - before).toBe(errors);
    await t.agent.jobs.resumeQueue();
  });

  it('carries the Node process figures under the spool_ prefix, in the Prometheus text format', async () => {
    const text = await t.agent.metrics.render();
    expect(t.agent.metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(text).toMatch(/^# HELP spool_jobs /m);
    expect(text).toMatch(/^# TYPE spool_admission_wait_seconds histogram$/m);
    const samples = parsePrometheusText(text);
    expect(valueOf(samples, 'spool_process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(valueOf(samples, 'spool_process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(samples.every((s) => s.name.startsWith('spool_'))).toBe(true);
  });
});
