/**
 * A wall-clock step (an NTP correction, an operator fixing the date, a VM
 * resumed) must neither stall the queue nor rush it: backoff, the
 * incomplete-file grace and stall detection run on the monotonic clock,
 * while createdAt, runAt and the times shown to people follow the wall.
 *
 * The agent runs with the injected fake clock: `stepWall` moves only the
 * wall reading; `advance` lets time pass on both.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFakeClock, type FakeClock } from '../helpers/fake-clock.js';
import { startTestAgent, type TestAgent } from '../helpers/test-agent.js';

const SCRIPTS = path.resolve('test/fixtures/scripts');
const node = process.execPath;
const HOUR = 3_600_000;

let t: TestAgent | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

function input(name: string, content = `input ${name}\n`): string {
  const file = path.join(t!.dir, name);
  fs.writeFileSync(file, content);
  return file;
}

async function statusAfterPass(id: string): Promise<string> {
  await t!.agent.scheduler.settle();
  return (await t!.agent.jobs.get(id))!.status;
}

/** A job of the flaky profile that failed its first attempt and waits out a 60 s backoff. */
async function jobInBackoff(clock: FakeClock): Promise<string> {
  t = await startTestAgent(
    {
      profiles: { flaky: { kind: 'command', maxAttempts: 3, command: [node, path.join(SCRIPTS, 'flaky.cjs'), '{input}.count', '1', '{outputDir}'] } },
      // Base 120 s: the first retry waits 60–120 s (full jitter above half).
      jobs: { backoffBaseSeconds: 120, backoffMaxSeconds: 600 },
    },
    { clock },
  );
  const job = await t.agent.jobs.submit({ profile: 'flaky', inputPath: input('a.txt') });
  await t.next('job:updated', ({ job: j }) => j.id === job.id && j.status === 'PENDING' && j.attempts === 1, 10_000);
  expect(await statusAfterPass(job.id)).toBe('PENDING');
  return job.id;
}

describe('wall-clock steps', () => {
  it('an hour backwards does not stretch a backoff: the retry runs when the backoff has passed', async () => {
    const clock = createFakeClock();
    const id = await jobInBackoff(clock);
    clock.stepWall(-HOUR);
    expect(await statusAfterPass(id)).toBe('PENDING');
    // The backoff is at most 120 s of real time, whatever the wall clock says.
    clock.advance(121_000);
    const done = await t!.waitForStatus(id, ['COMPLETED', 'FAILED'], 10_000);
    expect(done).toMatchObject({ status: 'COMPLETED', attempts: 2 });
  });

  it('an hour forwards does not cut a backoff short', async () => {
    const clock = createFakeClock();
    const id = await jobInBackoff(clock);
    clock.stepWall(HOUR);
    const spawned = t!.next('job:spawned', (e) => e.jobId === id, 1500).then(() => true, () => false);
    await t!.agent.scheduler.settle();
    expect(await spawned).toBe(false);
    expect((await t!.agent.jobs.get(id))!).toMatchObject({ status: 'PENDING', attempts: 1 });
    clock.advance(121_000);
    const done = await t!.waitForStatus(id, ['COMPLETED', 'FAILED'], 10_000);
    expect(done).toMatchObject({ status: 'COMPLETED', attempts: 2 });
  });

  it('an operator runAt follows the wall clock: a step forwards past it lets the job run', async () => {
    const clock = createFakeClock();
    t = await startTestAgent({ profiles: { quick: { kind: 'command', command: [node, '-e', ''] } } }, { clock });
    const job = await t.agent.jobs.submit({ profile: 'quick', inputPath: input('later.txt'), runAt: clock.now() + 2 * HOUR });
    expect(await statusAfterPass(job.id)).toBe('PENDING');
    clock.stepWall(2 * HOUR + 1000);
    clock.advance(0);
    t.agent.scheduler.poke();
    expect((await t.waitForStatus(job.id, ['COMPLETED', 'FAILED'], 10_000)).status).toBe('COMPLETED');
  });

  it('stall detection ignores wall steps either way and still stops a process that is silent for the stall timeout', async () => {
    const clock = createFakeClock();
    t = await startTestAgent(
      {
        profiles: {
          // Writes nothing and never ends: only the stall detector ends it.
          silent: { kind: 'command', stallTimeoutSeconds: 5, maxAttempts: 1, command: [node, '-e', 'setInterval(() => {}, 1000)'] },
        },
      },
      { clock },
    );
    const job = await t.agent.jobs.submit({ profile: 'silent', inputPath: input('s.txt') });
    await t.next('job:spawned', (e) => e.jobId === job.id, 10_000);
    clock.stepWall(HOUR);
    // The watchdog ticks every 1.25 s of real time (a quarter of the timeout).
    await new Promise((r) => setTimeout(r, 3000));
    expect((await t.agent.jobs.get(job.id))!.status).toBe('RUNNING');
    clock.stepWall(-2 * HOUR);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await t.agent.jobs.get(job.id))!.status).toBe('RUNNING');

    clock.advance(6000);
    const stalled = await t.waitForStatus(job.id, ['FAILED'], 10_000);
    expect(stalled.error).toMatch(/no progress for 5 s \(stalled\)/);
  });

  it('the incomplete-file grace lasts its length, not an hour more, when the wall clock steps back', async () => {
    const clock = createFakeClock();
    t = await startTestAgent({ profiles: { probe: { kind: 'probe' } } }, { clock, inboxDefaults: { incompleteGraceSeconds: 60 } });
    // Random bytes under a media name, dropped just now: unreadable, and maybe a copy still under way.
    fs.writeFileSync(path.join(t.dir, 'half.mp4'), 'not media at all\n'.repeat(100));
    fs.renameSync(path.join(t.dir, 'half.mp4'), path.join(t.inbox('probe'), 'half.mp4'));
    const claimed = t.waitForClaim('half.mp4');
    // The stability window runs on the injected clock.
    while (fs.existsSync(path.join(t.inbox('probe'), 'half.mp4'))) {
      clock.advance(100);
      await new Promise((r) => setTimeout(r, 20));
    }
    const id = await claimed;
    const first = await t.next('job:updated', ({ job }) => job.id === id && job.status === 'PENDING' && /file looks incomplete/.test(job.waitingReason ?? ''), 15_000);
    expect(first.job.attempts).toBe(0);
    clock.stepWall(-HOUR);
    clock.advance(61_000);
    t.agent.scheduler.poke();
    const failed = await t.waitForStatus(id, ['FAILED'], 15_000);
    expect(failed.errorKind).toBe('bad_input');
  });
});
