/**
 * Job lifecycle through a real agent: retry with backoff (fake clock),
 * cancel and pause/resume of a running process group, dependencies and
 * `then:` chains, priority order, queue pause, retry of a failed job.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFakeClock } from '../helpers/fake-clock.js';
import { makeClip } from '../helpers/media.js';
import { listFiles, startTestAgent, type TestAgent } from '../helpers/test-agent.js';

const SCRIPTS = path.resolve('test/fixtures/scripts');
const node = process.execPath;

let t: TestAgent | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

function input(name: string): string {
  const file = path.join(t!.dir, name);
  fs.writeFileSync(file, `input ${name}\n`);
  return file;
}

/** Whether a process exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

function processState(pid: number): string {
  return /^\d+ \(.*\) (\w)/.exec(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1] ?? '?';
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('retry with backoff', () => {
  it('a transient failure waits out its backoff on the clock, then runs again', async () => {
    const clock = createFakeClock();
    t = await startTestAgent(
      {
        profiles: { flaky: { kind: 'command', maxAttempts: 3, command: [node, path.join(SCRIPTS, 'flaky.cjs'), '{input}.count', '1', '{outputDir}'] } },
        jobs: { backoffBaseSeconds: 60, backoffMaxSeconds: 600 },
      },
      { clock },
    );
    const file = input('a.txt');
    const job = await t.agent.jobs.submit({ profile: 'flaky', inputPath: file });
    // The counter file sits beside the input: {input}.count.
    const waiting = await t.waitForStatus(job.id, ['PENDING'], 10_000).then(async () => {
      await t!.next('job:updated', ({ job: j }) => j.id === job.id && j.status === 'PENDING' && j.attempts === 1);
      return (await t!.agent.jobs.get(job.id))!;
    });
    expect(waiting.error).toMatch(/command exited with code 3: flaky: run 1 fails on purpose/);
    expect(waiting.runAfter! - clock.now()).toBeGreaterThanOrEqual(30_000);
    expect(waiting.runAfter! - clock.now()).toBeLessThanOrEqual(60_000);
    await t.agent.scheduler.settle();
    expect((await t.agent.jobs.get(job.id))!.status).toBe('PENDING');

    clock.advance(60_000);
    const done = await t.waitForStatus(job.id, ['COMPLETED', 'FAILED']);
    expect(done.status).toBe('COMPLETED');
    expect(done.attempts).toBe(2);
    expect(done.outputs.map((o) => path.basename(o.path))).toEqual(['result-2.txt']);
  });

  it('fails for good after maxAttempts, source in failed/ with a readable .error.txt', async () => {
    const clock = createFakeClock();
    t = await startTestAgent(
      {
        profiles: { flaky: { kind: 'command', maxAttempts: 2, command: [node, path.join(SCRIPTS, 'flaky.cjs'), path.join('{outputDir}', '..', 'never'), '99', '{outputDir}'] } },
        jobs: { backoffBaseSeconds: 10 },
      },
      { clock },
    );
    // Dropped through the inbox (real chokidar), so the source moves to failed/.
    fs.writeFileSync(path.join(t.dir, 'x.bin'), 'payload');
    fs.renameSync(path.join(t.dir, 'x.bin'), path.join(t.inbox('flaky'), 'x.bin'));
    const claimed = t.waitForClaim('x.bin');
    await until(() => {
      clock.advance(100); // the stability window runs on the injected clock
      return fs.existsSync(path.join(t!.inbox('flaky'), 'x.bin')) === false;
    });
    const id = await claimed;
    await t.next('job:updated', ({ job }) => job.id === id && job.attempts === 1 && job.status === 'PENDING');
    clock.advance(10_000);
    const failed = await t.waitForStatus(id, ['FAILED']);
    expect(failed.attempts).toBe(2);
    expect(failed.errorKind).toBe('transient');
    expect(failed.error).toMatch(/after 2 attempts/);
    expect(listFiles(t.inbox('flaky'))).toEqual(['failed/x.bin', 'failed/x.bin.error.txt']);
    const text = fs.readFileSync(path.join(t.inbox('flaky'), 'failed', 'x.bin.error.txt'), 'utf8');
    expect(text).toContain('Spool could not process this file.');
    expect(text).toContain('command exited with code 3');

    // retryJob: the source goes back to the work area and runs again.
    const retried = await t.agent.jobs.retry(id);
    expect(retried.status).toBe('PENDING');
    expect(retried.maxAttempts).toBe(4);
    expect(listFiles(t.inbox('flaky'))).toEqual([]);
  });
});

describe('running process groups', () => {
  const tickerProfile = (ms: number) => ({ ticker: { kind: 'command', stallTimeoutSeconds: 30, command: [node, path.join(SCRIPTS, 'ticker.cjs'), '{input}.ticks', String(ms), '{outputDir}'] } });

  it('cancel ends the whole group, keeps the source in cancelled/ and leaves no partial output', async () => {
    t = await startTestAgent({ profiles: tickerProfile(60_000), jobs: { killGraceSeconds: 2 } });
    fs.writeFileSync(path.join(t.dir, 'c.bin'), 'payload');
    fs.renameSync(path.join(t.dir, 'c.bin'), path.join(t.inbox('ticker'), 'c.bin'));
    const id = await t.waitForClaim('c.bin');
    const { pid } = await t.next('job:spawned', (e) => e.jobId === id);
    const job = await t.agent.jobs.get(id);
    const ticks = `${job!.sourcePath}.ticks`;
    await until(() => fs.existsSync(`${ticks}.grandchild`));
    const grandchild = Number(fs.readFileSync(`${ticks}.grandchild`, 'utf8'));
    expect(alive(pid) && alive(grandchild)).toBe(true);

    const started = Date.now();
    const cancelled = await t.agent.jobs.cancel(id);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(cancelled.status).toBe('CANCELLED');
    expect(alive(pid)).toBe(false);
    await until(() => !alive(grandchild), 3000);
    expect(listFiles(t.inbox('ticker'))).toEqual(['cancelled/c.bin']);
    expect(listFiles(t.outbox('ticker'))).toEqual([]);
  });

  it('pause stops the group (SIGSTOP) and resume continues it to completion', async () => {
    t = await startTestAgent({ profiles: tickerProfile(1500) });
    const file = input('p.bin');
    const job = await t.agent.jobs.submit({ profile: 'ticker', inputPath: file });
    const { pid } = await t.next('job:spawned', (e) => e.jobId === job.id);
    const ticks = `${file}.ticks`;
    await until(() => fs.existsSync(ticks) && fs.statSync(ticks).size >= 3);

    const paused = await t.agent.jobs.pause(job.id);
    expect(paused.status).toBe('PAUSED');
    expect(paused.pausedFrom).toBe('running');
    await until(() => processState(pid) === 'T', 2000);
    const sizeAtPause = fs.statSync(ticks).size;
    await new Promise((r) => setTimeout(r, 400)); // a paused process must not advance
    expect(fs.statSync(ticks).size).toBeLessThanOrEqual(sizeAtPause + 1);
    await expect(t.agent.jobs.resume(job.id)).resolves.toMatchObject({ status: 'RUNNING' });
    await expect(t.agent.jobs.pause('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });

    const done = await t.waitForStatus(job.id, ['COMPLETED', 'FAILED']);
    expect(done.status).toBe('COMPLETED');
    expect(fs.readFileSync(done.outputs[0]!.path, 'utf8').length).toBeGreaterThanOrEqual(30);
  });

  it('actions on jobs in states they do not apply to answer INVALID_STATE', async () => {
    t = await startTestAgent({ profiles: { quick: { kind: 'command', command: [node, '-e', ''] } } });
    const job = await t.agent.jobs.submit({ profile: 'quick', inputPath: input('q.bin') });
    await t.waitForStatus(job.id, ['COMPLETED']);
    await expect(t.agent.jobs.cancel(job.id)).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await expect(t.agent.jobs.resume(job.id)).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await expect(t.agent.jobs.retry(job.id)).rejects.toMatchObject({ code: 'INVALID_STATE', message: expect.stringContaining('COMPLETED') });
    await expect(t.agent.jobs.setPriority(job.id, 0)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });
});

describe('order and dependencies', () => {
  it('runs by priority, FIFO within one, once the queue is resumed', async () => {
    t = await startTestAgent({ profiles: { quick: { kind: 'command', command: [node, '-e', ''] } }, resources: { categories: { cpu: { concurrency: 1 } } } });
    await t.agent.jobs.pauseQueue();
    const order: string[] = [];
    t.agent.events.on('job:spawned', ({ jobId }) => order.push(jobId));
    const submit = (name: string, priority: number) => t!.agent.jobs.submit({ profile: 'quick', inputPath: input(name), priority });
    const a = await submit('a', 5);
    const b = await submit('b', 2);
    const c = await submit('c', 5);
    const d = await submit('d', 9);
    await t.agent.scheduler.settle();
    expect((await t.agent.jobs.get(a.id))!.waitingReason).toBe('the queue is paused');
    await t.agent.jobs.resumeQueue();
    await t.waitForStatus(d.id, ['COMPLETED']);
    expect(order).toEqual([b.id, a.id, c.id, d.id]);
  });

  it('aging lets an old low-priority job overtake newer high-priority ones', async () => {
    const clock = createFakeClock();
    t = await startTestAgent({ profiles: { quick: { kind: 'command', command: [node, '-e', ''] } }, resources: { categories: { cpu: { concurrency: 1 } } }, jobs: { agingSeconds: 60 } }, { clock });
    await t.agent.jobs.pauseQueue();
    const order: string[] = [];
    t.agent.events.on('job:spawned', ({ jobId }) => order.push(jobId));
    const old = await t.agent.jobs.submit({ profile: 'quick', inputPath: input('old'), priority: 9 });
    clock.advance(5 * 60_000);
    const fresh = await t.agent.jobs.submit({ profile: 'quick', inputPath: input('fresh'), priority: 5 });
    await t.agent.jobs.resumeQueue();
    await t.waitForStatus(fresh.id, ['COMPLETED']);
    expect(order).toEqual([old.id, fresh.id]);
  });

  it('a job waits for its dependency and fails when the dependency fails', async () => {
    t = await startTestAgent({
      profiles: {
        quick: { kind: 'command', command: [node, '-e', 'setTimeout(() => {}, 300)'] },
        broken: { kind: 'command', maxAttempts: 1, command: [node, '-e', 'process.exit(1)'] },
      },
    });
    const parent = await t.agent.jobs.submit({ profile: 'quick', inputPath: input('parent') });
    const child = await t.agent.jobs.submit({ profile: 'quick', inputPath: input('child'), dependsOn: [parent.id] });
    const waiting = await t.next('job:updated', ({ job }) => job.id === child.id && job.waitingReason !== 'queued');
    expect(waiting.job.waitingReason).toBe(`waiting for job ${parent.id} to complete`);
    expect(waiting.job.dependsOn).toEqual([parent.id]);
    const done = await t.waitForStatus(child.id, ['COMPLETED']);
    expect(done.startedAt!).toBeGreaterThanOrEqual((await t.agent.jobs.get(parent.id))!.finishedAt!);

    const bad = await t.agent.jobs.submit({ profile: 'broken', inputPath: input('bad') });
    const orphan = await t.agent.jobs.submit({ profile: 'quick', inputPath: input('orphan'), dependsOn: [bad.id] });
    const failed = await t.waitForStatus(orphan.id, ['FAILED']);
    expect(failed.errorKind).toBe('dependency');
    await expect(t.agent.jobs.submit({ profile: 'quick', inputPath: input('x'), dependsOn: ['NOPE'] })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('then: a follow-on job per output, depending on its parent, on the parent outputs', async () => {
    t = await startTestAgent({
      profiles: {
        web: { kind: 'transcode', video: { preset: 'ultrafast', crf: 35 }, audio: { codec: 'none' }, then: ['thumb'] },
        thumb: { kind: 'thumbnail', at: '10%', width: 96 },
      },
    });
    const clip = path.join(t.dir, 'chain.mov');
    await makeClip(clip, { seconds: 1 });
    fs.renameSync(clip, path.join(t.inbox('web'), 'chain.mov'));
    const parentId = await t.waitForClaim('chain.mov');
    const followOn = t.next('job:created', ({ job }) => job.parentId === parentId);
    const reasons: string[] = [];
    t.agent.events.on('job:updated', ({ job }) => reasons.push(job.waitingReason ?? ''));
    const parent = await t.waitForStatus(parentId, ['COMPLETED', 'FAILED']);
    expect(parent.status, parent.error ?? '').toBe('COMPLETED');
    const created = await followOn;
    expect(created.job.profile).toBe('thumb');
    expect(created.job.dependsOn).toEqual([parentId]);
    expect(created.job.inputPath).toBe(path.join(t.outbox('web'), 'chain.mp4'));
    const thumb = await t.waitForStatus(created.job.id, ['COMPLETED', 'FAILED']);
    expect(thumb.status, thumb.error ?? '').toBe('COMPLETED');
    expect(listFiles(t.outbox('web'))).toEqual(['chain.jpg', 'chain.mp4']);
    // The follow-on reads the parent's output as claimed: no "file changed" detour.
    expect(reasons.filter((r) => r.includes('changed'))).toEqual([]);
  });
});

describe('durability', () => {
  it('pending jobs and a paused queue survive a restart', async () => {
    t = await startTestAgent({ profiles: { quick: { kind: 'command', command: [node, '-e', ''] } } });
    const dir = t.dir;
    await t.agent.jobs.pauseQueue();
    const job = await t.agent.jobs.submit({ profile: 'quick', inputPath: input('keep') });
    await t.stop();
    t = await startTestAgent({ profiles: { quick: { kind: 'command', command: [node, '-e', ''] } } }, { dir });
    expect(t.agent.jobs.isQueuePaused()).toBe(true);
    expect((await t.agent.jobs.get(job.id))!.status).toBe('PENDING');
    await t.agent.jobs.resumeQueue();
    await t.waitForStatus(job.id, ['COMPLETED']);
  });
});
