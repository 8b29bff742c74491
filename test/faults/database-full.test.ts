/**
 * The disk that holds the database fills up: a small tmpfs mounted as the
 * agent's data directory, filled to the last block while an attempt runs.
 * The attempt's end cannot be committed, so it is not treated as done (no
 * output published, source not moved); /readyz answers 503 naming the
 * database and the cause; files dropped meanwhile stay in their inbox; one
 * error is logged. Once the filler is deleted the agent finds out by itself,
 * records the attempt, takes the waiting files, and every job completes.
 * The database passes quick_check afterwards.
 *
 * Needs root for mount(8): run with SPOOL_TEST_MOUNTS=1 (`.ci/run` sets it).
 * With the variable set, a refused mount fails the test; without it the
 * test is skipped and says why.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseFile } from '../../agent/agent.js';
import type { Job } from '../../agent/jobs/job.js';
import type { Logger } from '../../agent/logger.js';
import { makeClip } from '../helpers/media.js';
import { listFiles, makeTempDir, startTestAgent, type TestAgent } from '../helpers/test-agent.js';

const run = promisify(execFile);
const ENABLED = process.env.SPOOL_TEST_MOUNTS === '1';
const TRANSCODE = { kind: 'transcode', encoder: 'cpu', container: 'mkv', video: { codec: 'h264', preset: 'ultrafast', crf: 30 }, audio: { codec: 'aac', bitrateKbps: 64 } };
/**
 * A command that waits for a gate file, then prints as many bytes of log
 * lines as the gate says (so the transaction that records its end must grow
 * the WAL past any length it had before, whatever SQLite reuses), then
 * copies its input out as its one output.
 */
const GATED = `
const fs = require('fs');
const [input, outputDir, base, gate] = process.argv.slice(1);
const wait = () => {
  if (!fs.existsSync(gate)) return setTimeout(wait, 20);
  const bytes = Number(fs.readFileSync(gate, 'utf8'));
  const line = 'log '.repeat(750) + '\\n';
  for (let n = 0; n < bytes; n += line.length) fs.writeSync(2, line);
  fs.copyFileSync(input, outputDir + '/' + base + '.mkv');
};
wait();
`;

if (!ENABLED) {
  describe('database on a full disk', () => {
    it.skip('needs SPOOL_TEST_MOUNTS=1 and root: it mounts a small tmpfs as the data directory (.ci/run sets it)', () => undefined);
  });
}

/** Writes a file into `dir` until its filesystem has no block left. */
function fillUp(dir: string): void {
  const fd = fs.openSync(path.join(dir, 'filler'), 'w');
  try {
    const chunk = Buffer.alloc(2 ** 20, 1);
    for (const size of [2 ** 20, 4096]) {
      for (;;) {
        try {
          fs.writeSync(fd, chunk, 0, size);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw error;
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

describe.runIf(ENABLED)('database on a full disk (tmpfs mounted as the data directory)', () => {
  let t: TestAgent;
  let dir: string;
  let data: string;
  let mounted = false;
  let running = false;
  const errors: string[] = [];
  const finished: Job[] = [];

  beforeAll(async () => {
    dir = makeTempDir();
    data = path.join(dir, 'data');
    fs.mkdirSync(data);
    // No catch: with SPOOL_TEST_MOUNTS=1 a refused mount must fail the test, loudly.
    await run('mount', ['-t', 'tmpfs', '-o', 'size=32m,mode=0755', 'spool-test-data', data]);
    mounted = true;
    const logger: Logger = { error: (m) => errors.push(m), warn() {}, info() {}, debug() {} };
    t = await startTestAgent(
      {
        dataDir: 'data',
        jobs: { minFreeDiskMb: 0 },
        profiles: {
          gated: { kind: 'command', command: [process.execPath, '-e', GATED, '{input}', '{outputDir}', '{outputBase}', path.join(dir, 'gate')] },
          web: TRANSCODE,
        },
      },
      { dir, logger },
    );
    running = true;
    t.agent.events.on('job:finished', ({ job }) => finished.push(job));
  });
  afterAll(async () => {
    if (running) await t.stop();
    if (mounted) await run('umount', [data]);
  });

  const readyz = async () => {
    const res = await fetch(`${t.agent.api.url()}/readyz`);
    return { status: res.status, body: (await res.json()) as { status: string; checks: Record<string, { ok: boolean; detail: string }> } };
  };

  it('stops intake and reports not ready while full, never records what it could not commit, and finishes everything once space returns', { timeout: 120_000 }, async () => {
    const dbFile = databaseFile(t.agent.config);
    const made = path.join(dir, 'made');
    fs.mkdirSync(made);
    const names = ['gated.mkv', 'web-1.mkv', 'web-2.mkv'];
    await Promise.all(names.map((n) => makeClip(path.join(made, n), { seconds: 2 })));
    expect((await readyz()).status).toBe(200);

    // An attempt runs, then the disk fills up under it.
    const spawned = t.next('job:spawned');
    fs.renameSync(path.join(made, 'gated.mkv'), path.join(t.inbox('gated'), 'gated.mkv'));
    const gatedId = await t.waitForClaim('gated.mkv');
    await spawned;
    fillUp(data);
    expect(fs.statfsSync(data).bavail).toBe(0);

    // It ends: recording that needs a longer WAL than the disk can give. (The
    // WAL has only grown so far: SQLite starts it over only after a full
    // checkpoint, which neither the autocheckpoint at 1000 pages nor the
    // checkpointer worker, started after 64 group commits, has done yet. If
    // that ever changes this wait times out; it never passes by accident.)
    const tripped = t.next('database:error', undefined, 30_000);
    fs.writeFileSync(path.join(dir, 'gate'), String(fs.statSync(`${dbFile}-wal`).size + 2 ** 20));
    const { message } = await tripped;
    expect(message).toContain(`database ${dbFile} cannot be written: its disk is full`);

    const notReady = await readyz();
    expect(notReady.status).toBe(503);
    expect(notReady.body.status).toBe('not ready');
    expect(notReady.body.checks.database).toEqual({ ok: false, detail: expect.stringContaining(`database ${dbFile} cannot be written: its disk is full (0.0 MB free)`) });

    // Files dropped now stay in their inbox, untouched.
    const held = names.slice(1).map((n) => t.next('intake:held', ({ path: p }) => path.basename(p) === n, 30_000));
    for (const n of names.slice(1)) fs.renameSync(path.join(made, n), path.join(t.inbox('web'), n));
    for (const { reason } of await Promise.all(held)) expect(reason).toContain(`database ${dbFile} cannot be written`);
    expect(fs.readdirSync(t.inbox('web')).filter((n) => !n.startsWith('.')).sort()).toEqual(['web-1.mkv', 'web-2.mkv']);

    // The attempt whose end could not be committed is not done: nothing published, the source not moved.
    const gated = (await t.agent.jobs.get(gatedId))!;
    expect(gated.status).toBe('RUNNING');
    expect(fs.readdirSync(t.outbox('gated')).filter((n) => !n.startsWith('.'))).toEqual([]);
    expect(listFiles(path.join(t.inbox('gated'), 'done'))).toEqual([]);
    expect(finished).toEqual([]);
    // One clear error, not one per failed write.
    expect(errors).toEqual([expect.stringContaining(`database ${dbFile} cannot be written: its disk is full`)]);

    // Space returns: the agent notices by itself.
    const recovered = t.next('database:ok', undefined, 30_000);
    fs.rmSync(path.join(data, 'filler'));
    await recovered;

    const done = await t.waitForStatus(gatedId, ['COMPLETED', 'FAILED', 'CANCELLED'], 30_000);
    expect(done.status, done.error ?? '').toBe('COMPLETED');
    // Recorded, not run again.
    expect(done.attempts).toBe(1);
    expect(fs.readdirSync(t.outbox('gated')).filter((n) => !n.startsWith('.'))).toEqual(['gated.mkv']);
    expect(listFiles(path.join(t.inbox('gated'), 'done'))).toEqual(['gated.mkv']);

    const webIds = await Promise.all(names.slice(1).map((n) => t.waitForClaim(n, 30_000)));
    for (const id of webIds) {
      const job = await t.waitForStatus(id, ['COMPLETED', 'FAILED', 'CANCELLED'], 60_000);
      expect(job.status, job.error ?? '').toBe('COMPLETED');
      expect(job.attempts).toBe(1);
    }
    expect(fs.readdirSync(t.outbox('web')).filter((n) => !n.startsWith('.')).sort()).toEqual(['web-1.mkv', 'web-2.mkv']);
    expect(listFiles(path.join(t.inbox('web'), 'done'))).toEqual(['web-1.mkv', 'web-2.mkv']);
    expect(finished.map((j) => j.status)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);

    expect((await readyz()).status).toBe(200);
    expect(t.agent.database.sqlite.pragma('quick_check', { simple: true })).toBe('ok');
    expect(errors).toHaveLength(1);

    // And from a fresh connection after a clean stop.
    running = false;
    await t.stop();
    const check = new SQLite(dbFile, { readonly: true });
    try {
      expect(check.pragma('quick_check', { simple: true })).toBe('ok');
      expect(check.prepare("select count(*) as n from jobs where status = 'COMPLETED'").get()).toEqual({ n: 3 });
    } finally {
      check.close();
    }
  });
});
