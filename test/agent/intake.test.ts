/**
 * Intake on real folders with real chokidar: temp names, onSuccess policies,
 * duplicates, polling inboxes, missing inboxes, and start-up reconciliation.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listFiles, startTestAgent, type TestAgent } from '../helpers/test-agent.js';

const node = process.execPath;
/** A command that copies its input into its output folder, so outputs are easy to check. */
const copy = { kind: 'command', command: [node, '-e', 'const fs=require("fs");fs.copyFileSync(process.argv[1], process.argv[2] + "/" + process.argv[3] + ".out")', '{input}', '{outputDir}', '{outputBase}'] };

let t: TestAgent | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

function dropFile(inbox: string, name: string, content = `content of ${name}\n`): void {
  const temp = path.join(path.dirname(inbox), `.${name}.writing`);
  fs.writeFileSync(temp, content);
  fs.renameSync(temp, path.join(inbox, name));
}

describe('intake', () => {
  it('ignores temporary names until the writer renames the file complete', async () => {
    t = await startTestAgent({ profiles: { copy } });
    const inbox = t.inbox('copy');
    fs.writeFileSync(path.join(inbox, 'movie.mp4.part'), 'half');
    fs.writeFileSync(path.join(inbox, '.hidden.mp4'), 'dot');
    fs.writeFileSync(path.join(inbox, 'movie.mp4.crdownload'), 'dl');
    await t.agent.intake.rescan();
    fs.appendFileSync(path.join(inbox, 'movie.mp4.part'), ' and the rest');
    fs.renameSync(path.join(inbox, 'movie.mp4.part'), path.join(inbox, 'movie.mp4'));
    const id = await t.waitForClaim('movie.mp4');
    const job = await t.waitForStatus(id, ['COMPLETED']);
    expect(fs.readFileSync(job.outputs[0]!.path, 'utf8')).toBe('half and the rest');
    expect(listFiles(inbox)).toEqual(['.hidden.mp4', 'done/movie.mp4', 'movie.mp4.crdownload']);
  });

  it.each([
    ['delete', []],
    ['keep', ['kept.txt']],
  ] as const)('onSuccess: %s', async (onSuccess, left) => {
    t = await startTestAgent({ profiles: { copy } }, { inboxDefaults: { onSuccess } });
    dropFile(t.inbox('copy'), 'kept.txt');
    const id = await t.waitForClaim('kept.txt');
    await t.waitForStatus(id, ['COMPLETED']);
    expect(listFiles(t.inbox('copy'))).toEqual(left);
    // A kept source is known: the rescan does not take it a second time.
    await t.agent.intake.rescan();
    await new Promise((r) => setTimeout(r, 600));
    expect((await t.agent.jobs.list()).length).toBe(1);
  });

  it.each([
    ['skip', 'COMPLETED', ['done/a.txt', 'done/b.txt']],
    ['fail', 'FAILED', ['done/a.txt', 'failed/b.txt', 'failed/b.txt.error.txt']],
  ] as const)('onDuplicate: %s recognises the same content dropped again', async (policy, status, files) => {
    t = await startTestAgent({ profiles: { copy: { ...copy, onDuplicate: policy } } });
    dropFile(t.inbox('copy'), 'a.txt', 'same bytes');
    const first = await t.waitForStatus(await t.waitForClaim('a.txt'), ['COMPLETED']);
    dropFile(t.inbox('copy'), 'b.txt', 'same bytes');
    const second = await t.waitForStatus(await t.waitForClaim('b.txt'), ['COMPLETED', 'FAILED']);
    expect(second.status).toBe(status);
    if (policy === 'skip') {
      expect(second.outputs).toEqual(first.outputs);
      expect(second.result).toEqual({ duplicateOf: first.id });
    } else {
      expect(second.error).toContain(first.id);
    }
    expect(listFiles(t.inbox('copy'))).toEqual(files);
    expect(listFiles(t.outbox('copy'))).toEqual(['a.out']);
  });

  it('a polling inbox (network mount) takes files too', async () => {
    t = await startTestAgent({ profiles: { copy } }, { inboxDefaults: { poll: true, pollIntervalMs: 100 } });
    dropFile(t.inbox('copy'), 'polled.txt');
    const job = await t.waitForStatus(await t.waitForClaim('polled.txt'), ['COMPLETED']);
    expect(job.outputs).toHaveLength(1);
  });

  it('a missing inbox is an error, and is watched once it appears', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-test-'));
    t = await startTestAgent(
      { profiles: { copy }, inboxes: [{ path: 'not-yet', profile: 'copy', outbox: 'out', stableSeconds: 0.2 }], intake: { rescanSeconds: 1 } },
      { dir, createFolders: false },
    );
    expect(t.agent.intake.status()).toEqual([{ path: path.join(dir, 'not-yet'), ok: false, error: 'the folder does not exist; create it or fix the config' }]);
    const ok = t.next('intake:ok');
    fs.mkdirSync(path.join(dir, 'not-yet'));
    await ok;
    dropFile(path.join(dir, 'not-yet'), 'late.txt');
    await t.waitForStatus(await t.waitForClaim('late.txt'), ['COMPLETED']);
  });
});

describe('start-up reconciliation', () => {
  it('recovers a claimed file without a row, removes an empty work folder, re-queues a running job', async () => {
    t = await startTestAgent({ profiles: { copy } });
    const dir = t.dir;
    await t.agent.jobs.pauseQueue();
    const inbox = t.inbox('copy');
    dropFile(inbox, 'was-running.txt');
    const runningId = await t.waitForClaim('was-running.txt');
    await t.stop();

    // As if the agent died: one job mid-attempt, one claim renamed but not recorded, one claim not yet renamed.
    const Database = (await import('better-sqlite3')).default;
    const sqlite = new Database(path.join(dir, 'data', 'spool.db'));
    sqlite.prepare("update jobs set status = 'RUNNING', attempts = 1 where id = ?").run(runningId);
    sqlite.prepare("insert into agent_state (key, value) values ('queue_paused', 'false') on conflict(key) do update set value = 'false'").run();
    sqlite.close();
    const staging = path.join(t.outbox('copy'), '.spool-tmp', runningId);
    fs.mkdirSync(staging, { recursive: true });
    fs.writeFileSync(path.join(staging, 'was-running.out'), 'partial');
    const orphan = path.join(dir, 'data', 'work', '01ORPHAN0000000000000000AA');
    fs.mkdirSync(orphan, { recursive: true });
    fs.writeFileSync(path.join(orphan, '.spool-claim.json'), JSON.stringify({ jobId: '01ORPHAN0000000000000000AA', inboxPath: inbox, profile: 'copy', outbox: t.outbox('copy'), inputPath: path.join(inbox, 'orphan.txt'), claimedAt: Date.now() }));
    fs.writeFileSync(path.join(orphan, 'orphan.txt'), 'orphan content');
    const empty = path.join(dir, 'data', 'work', '01EMPTY00000000000000000AA');
    fs.mkdirSync(empty, { recursive: true });
    fs.writeFileSync(path.join(empty, '.spool-claim.json'), '{}');

    t = await startTestAgent({ profiles: { copy } }, { dir });
    const [running, recovered] = await Promise.all([t.waitForStatus(runningId, ['COMPLETED']), t.waitForStatus('01ORPHAN0000000000000000AA', ['COMPLETED'])]);
    expect(running.attempts).toBe(1);
    expect(recovered.inputPath).toBe(path.join(inbox, 'orphan.txt'));
    expect(fs.existsSync(empty)).toBe(false);
    expect(listFiles(t.outbox('copy'))).toEqual(['orphan.out', 'was-running.out']);
    expect(fs.readFileSync(path.join(t.outbox('copy'), 'was-running.out'), 'utf8')).toBe('content of was-running.txt\n');
    expect(listFiles(inbox)).toEqual(['done/orphan.txt', 'done/was-running.txt']);
    expect(listFiles(path.join(dir, 'data', 'work'))).toEqual([]);
  });
});

describe('stall and timeout', () => {
  it('a command with no sign of life past stallTimeoutSeconds is stopped and counted as a transient failure', async () => {
    t = await startTestAgent({ profiles: { sleepy: { kind: 'command', maxAttempts: 1, stallTimeoutSeconds: 1, command: [node, '-e', 'setTimeout(() => {}, 60000)'] } }, jobs: { killGraceSeconds: 1 } });
    const file = path.join(t.dir, 'in.txt');
    fs.writeFileSync(file, 'x');
    const job = await t.agent.jobs.submit({ profile: 'sleepy', inputPath: file });
    const failed = await t.waitForStatus(job.id, ['FAILED'], 15_000);
    expect(failed.errorKind).toBe('transient');
    expect(failed.error).toMatch(/no progress for 1 s \(stalled\)/);
  });
});
