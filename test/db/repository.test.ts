/** The data layer on a fresh migrated SQLite file per test. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../agent/config/load-config.js';
import { openDatabase, type OpenedDatabase } from '../../agent/db/database.js';
import { getJob, insertJob, loadCandidates, pruneFinished, updateJob } from '../../agent/db/job.repository.js';
import { statusCounts } from '../../agent/db/job-list.repository.js';
import { appendLogLines, lastLogLines } from '../../agent/db/log.repository.js';
import { newJobRow } from '../../agent/jobs/job-store.js';

const config = parseConfig({ profiles: { p: { kind: 'probe' } } }, '/tmp');
let opened: OpenedDatabase;
let dir: string;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-db-'));
  opened = await openDatabase(path.join(dir, 'spool.db'));
});
afterEach(async () => {
  await opened.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const file = (name: string) => ({ inputPath: `/in/${name}`, sourcePath: `/in/${name}`, inboxPath: null, outbox: '/out', sizeBytes: 1, mtimeMs: 1 });

describe('storage', () => {
  it('opens in WAL mode with foreign keys, and migrates once', async () => {
    expect(opened.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(opened.sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(opened.sqlite.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    await opened.close();
    opened = await openDatabase(path.join(dir, 'spool.db'));
    const migrations = opened.sqlite.prepare('select name from kysely_migration').all();
    expect(migrations).toEqual([{ name: '2026-11-25-initial' }, { name: '2026-11-25b-candidates-by-age' }, { name: '2026-11-25c-jobs-source-path' }, { name: '2026-11-25d-job-list' }, { name: '2026-11-25e-lean-job-indexes' }, { name: '2026-11-25f-usage-outcome' }]);
  });

  it('refuses a corrupt database file with a clear message', async () => {
    const bad = path.join(dir, 'corrupt.db');
    fs.writeFileSync(bad, Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(4096, 7)]));
    await expect(openDatabase(bad)).rejects.toThrow(/corrupt.db|not a database|integrity/);
  });

  it('keeps only the newest maxLogLines per job', async () => {
    await insertJob(opened.db, newJobRow(config, 'p', file('a'), 1, { id: 'A' }));
    await insertJob(opened.db, newJobRow(config, 'p', file('b'), 1, { id: 'B' }));
    const lines = (id: string, from: number, n: number) => Array.from({ length: n }, (_, i) => ({ jobId: id, at: from + i, stream: 'stderr', line: `line ${from + i}` }));
    await appendLogLines(opened.db, [...lines('A', 0, 30), ...lines('B', 0, 5)], 10);
    await appendLogLines(opened.db, lines('A', 30, 5), 10);
    const a = await lastLogLines(opened.db, 'A', 100);
    expect(a.map((l) => l.line)).toEqual(Array.from({ length: 10 }, (_, i) => `line ${25 + i}`));
    expect((await lastLogLines(opened.db, 'B', 3)).map((l) => l.line)).toEqual(['line 2', 'line 3', 'line 4']);
  });

  it('candidates: pending only, aged priority then age, with dependency counts', async () => {
    await insertJob(opened.db, newJobRow(config, 'p', file('a'), 1000, { id: 'A', priority: 5 }));
    await insertJob(opened.db, newJobRow(config, 'p', file('b'), 2000, { id: 'B', priority: 1 }));
    await insertJob(opened.db, newJobRow(config, 'p', file('c'), 3000, { id: 'C', priority: 1 }), ['A']);
    await insertJob(opened.db, newJobRow(config, 'p', file('d'), 500, { id: 'D', priority: 1 }));
    await updateJob(opened.db, 'D', { status: 'COMPLETED' });
    const rows = await loadCandidates(opened.db, 10);
    expect(rows.map((r) => [r.id, Number(r.unmet), r.blocker])).toEqual([
      ['B', 0, null],
      ['C', 1, 'A'],
      ['A', 0, null],
    ]);
    expect(await statusCounts(opened.db)).toMatchObject({ PENDING: 3, COMPLETED: 1 });
  });

  it('prunes settled finished jobs past retention, but not ones others depend on', async () => {
    await insertJob(opened.db, newJobRow(config, 'p', file('old'), 1, { id: 'OLD' }));
    await insertJob(opened.db, newJobRow(config, 'p', file('parent'), 1, { id: 'PARENT' }));
    await insertJob(opened.db, newJobRow(config, 'p', file('child'), 1, { id: 'CHILD' }), ['PARENT']);
    await insertJob(opened.db, newJobRow(config, 'p', file('new'), 1, { id: 'NEW' }));
    for (const id of ['OLD', 'PARENT']) await updateJob(opened.db, id, { status: 'COMPLETED', finished_at: 10 });
    await updateJob(opened.db, 'NEW', { status: 'FAILED', finished_at: 5000 });
    expect(await pruneFinished(opened.db, 1000)).toBe(1);
    expect(await getJob(opened.db, 'OLD')).toBeUndefined();
    expect(await getJob(opened.db, 'PARENT')).toBeDefined();
    expect(await getJob(opened.db, 'NEW')).toBeDefined();
  });
});
