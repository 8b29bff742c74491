/**
 * An inbox that disappears (an unmounted share) is an error in the log and
 * on /readyz; when the folder is back the watcher re-attaches by itself and
 * files dropped afterwards are taken.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverConfig } from '../helpers/api.js';
import { listFiles, startTestAgent, type TestAgent } from '../helpers/test-agent.js';

let t: TestAgent;
beforeAll(async () => {
  t = await startTestAgent({ server: serverConfig(), intake: { rescanSeconds: 1 }, profiles: { quick: { kind: 'command', command: ['true'] } } });
});
afterAll(() => t?.stop());

async function readyz() {
  const response = await fetch(`${t.agent.api.url()}/readyz`);
  return { status: response.status, body: (await response.json()) as { checks: Record<string, { ok: boolean; detail: string }> } };
}

it('an inbox removed and re-created while the agent runs: an error on /readyz meanwhile, files dropped after it returns are taken', async () => {
  const inbox = t.inbox('quick');
  expect((await readyz()).status).toBe(200);

  const error = t.next('intake:error', (e) => e.inbox === inbox);
  fs.rmSync(inbox, { recursive: true });
  expect((await error).message).toMatch(/gone|removed|does not exist/);
  const down = await readyz();
  expect(down.status).toBe(503);
  expect(down.body.checks[`inbox ${inbox}`]).toMatchObject({ ok: false });

  const back = t.next('intake:ok', (e) => e.inbox === inbox);
  fs.mkdirSync(inbox);
  await back;
  fs.writeFileSync(path.join(inbox, 'after.bin'), 'x');
  const id = await t.waitForClaim('after.bin');
  expect((await t.waitForStatus(id, ['COMPLETED', 'FAILED'])).status).toBe('COMPLETED');
  expect((await readyz()).status).toBe(200);
});

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not reached in ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('folders on a share that goes away', () => {
  let s: TestAgent;
  beforeAll(async () => {
    s = await startTestAgent({
      intake: { rescanSeconds: 1 },
      jobs: { backoffBaseSeconds: 1, backoffMaxSeconds: 2 },
      profiles: {
        slow: { kind: 'command', command: [process.execPath, '-e', 'setTimeout(() => {}, 1500)'] },
        writes: { kind: 'command', command: [process.execPath, '-e', 'require("fs").writeFileSync(process.argv[1] + "/out.txt", "x")', '{outputDir}'] },
      },
    });
  });
  afterAll(() => s?.stop());

  it('an inbox gone when its job ends: the source is not moved into a folder made again on the local disk, but into done/ once the inbox is back', async () => {
    const inbox = s.inbox('slow');
    fs.writeFileSync(path.join(s.dir, 'clip.bin'), 'x');
    fs.renameSync(path.join(s.dir, 'clip.bin'), path.join(inbox, 'clip.bin'));
    const id = await s.waitForClaim('clip.bin');
    await s.next('job:spawned', (e) => e.jobId === id);
    fs.rmSync(inbox, { recursive: true });
    const done = await s.waitForStatus(id, ['COMPLETED', 'FAILED']);
    expect(done.status).toBe('COMPLETED');
    await new Promise((r) => setTimeout(r, 1500)); // a settle pass or two
    expect(fs.existsSync(inbox)).toBe(false);

    fs.mkdirSync(inbox);
    await until(() => fs.existsSync(path.join(inbox, 'done', 'clip.bin')), 'the source in done/ once the inbox is back');
    expect(listFiles(inbox)).toEqual(['done/clip.bin']);
  });

  it('an outbox gone: jobs wait with a reason naming it, it is not made again, and they complete once it is back', async () => {
    const outbox = s.outbox('writes');
    fs.rmSync(outbox, { recursive: true });
    const waiting = s.next('job:updated', ({ job }) => job.status === 'PENDING' && (job.waitingReason ?? '').includes(`outbox ${outbox} is missing (unmounted or removed?)`));
    fs.writeFileSync(path.join(s.dir, 'a.bin'), 'x');
    fs.renameSync(path.join(s.dir, 'a.bin'), path.join(s.inbox('writes'), 'a.bin'));
    const id = await s.waitForClaim('a.bin');
    const { job } = await waiting;
    expect(job).toMatchObject({ id, attempts: 0 });
    await new Promise((r) => setTimeout(r, 1500));
    expect(fs.existsSync(outbox)).toBe(false);

    fs.mkdirSync(outbox);
    const done = await s.waitForStatus(id, ['COMPLETED', 'FAILED']);
    expect(done.status).toBe('COMPLETED');
    expect(listFiles(outbox)).toEqual(['out.txt']);
  });

  it('a file read in place whose folder is gone waits for the folder instead of failing', async () => {
    const share = path.join(s.dir, 'share');
    fs.mkdirSync(share);
    fs.writeFileSync(path.join(share, 'in place.bin'), 'x');
    await s.agent.jobs.pauseQueue();
    const job = await s.agent.jobs.submit({ profile: 'slow', inputPath: path.join(share, 'in place.bin') });
    fs.renameSync(share, `${share}-away`);
    const waiting = s.next('job:updated', ({ job: j }) => j.id === job.id && j.status === 'PENDING' && (j.waitingReason ?? '').includes(`the folder of its source, ${share}, is missing`));
    await s.agent.jobs.resumeQueue();
    expect((await waiting).job.attempts).toBe(0);

    fs.renameSync(`${share}-away`, share);
    expect((await s.waitForStatus(job.id, ['COMPLETED', 'FAILED'])).status).toBe('COMPLETED');
  });
});
