/**
 * Which failed writes mean "the database cannot be written", and what group
 * commit does with a real SQLITE_FULL (a page limit stands in for a full
 * disk here; test/faults/database-full.test.ts fills a real one).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../agent/config/load-config.js';
import { openDatabase, type OpenedDatabase } from '../../agent/db/database.js';
import { getJobRow, insertJobNow } from '../../agent/db/job.repository.js';
import { statementsOf } from '../../agent/db/statements.js';
import { databaseWriteFault, describeWriteFault } from '../../agent/db/write-fault.js';
import { newJobRow } from '../../agent/jobs/job-store.js';

const sqliteError = (code: string) => new SQLite.SqliteError(`sqlite says ${code}`, code);
const errnoError = (code: string) => Object.assign(new Error(`${code}: something, write '/var/lib/spool/work/x/.spool-claim.json'`), { code });

describe('databaseWriteFault', () => {
  it.each([
    ['SQLITE_FULL', sqliteError('SQLITE_FULL'), 'full'],
    ['SQLITE_IOERR', sqliteError('SQLITE_IOERR'), 'io'],
    ['SQLITE_IOERR_WRITE', sqliteError('SQLITE_IOERR_WRITE'), 'io'],
    ['SQLITE_IOERR_FSYNC', sqliteError('SQLITE_IOERR_FSYNC'), 'io'],
    ['SQLITE_IOERR_TRUNCATE', sqliteError('SQLITE_IOERR_TRUNCATE'), 'io'],
    ['SQLITE_IOERR_SHMSIZE (growing the WAL index)', sqliteError('SQLITE_IOERR_SHMSIZE'), 'io'],
    ['SQLITE_CANTOPEN (no room for the -wal file)', sqliteError('SQLITE_CANTOPEN'), 'io'],
    ['SQLITE_READONLY', sqliteError('SQLITE_READONLY'), 'readonly'],
    ['SQLITE_READONLY_DBMOVED', sqliteError('SQLITE_READONLY_DBMOVED'), 'readonly'],
    ['ENOSPC in the work area', errnoError('ENOSPC'), 'full'],
    ['EDQUOT in the work area', errnoError('EDQUOT'), 'full'],
    ['EROFS in the work area', errnoError('EROFS'), 'readonly'],
    ['a checkpoint error passed on as { code }', Object.assign(new Error('background WAL checkpoint failed: database or disk is full'), { code: 'SQLITE_FULL' }), 'full'],
    ['SQLITE_IOERR_NOMEM (memory, not the disk)', sqliteError('SQLITE_IOERR_NOMEM'), null],
    ['SQLITE_BUSY', sqliteError('SQLITE_BUSY'), null],
    ['SQLITE_CONSTRAINT_UNIQUE', sqliteError('SQLITE_CONSTRAINT_UNIQUE'), null],
    ['SQLITE_CORRUPT (not a write fault; start-up refuses it)', sqliteError('SQLITE_CORRUPT'), null],
    ['SQLITE_ERROR (a bad statement)', sqliteError('SQLITE_ERROR'), null],
    ['EACCES', errnoError('EACCES'), null],
    ['ENOENT', errnoError('ENOENT'), null],
    ['a plain Error', new Error('no B after all'), null],
    ['a string', 'SQLITE_FULL', null],
    ['null', null, null],
  ])('%s', (_name, error, expected) => {
    expect(databaseWriteFault(error)).toBe(expected);
  });
});

describe('describeWriteFault', () => {
  it.each([
    ['full', 'SQLITE_FULL', 0, 'its disk is full (0.0 MB free)'],
    ['full', 'EDQUOT', 120, 'its disk quota is used up (120.0 MB free)'],
    ['io', 'SQLITE_IOERR_FSYNC', 0.2, 'its disk is full (0.2 MB free)'],
    ['io', 'SQLITE_IOERR_WRITE', 5000, 'disk I/O error (SQLITE_IOERR_WRITE) (5000.0 MB free)'],
    ['io', 'SQLITE_IOERR_WRITE', null, 'disk I/O error (SQLITE_IOERR_WRITE)'],
    ['readonly', 'SQLITE_READONLY', 10, 'its filesystem is read-only (SQLITE_READONLY)'],
  ] as const)('%s %s with %s MB free', (kind, code, free, expected) => {
    expect(describeWriteFault(kind, code, free)).toBe(expected);
  });
});

describe('group commit on a database that is full', () => {
  const config = parseConfig({ profiles: { p: { kind: 'probe' } } }, '/tmp');
  const row = (id: string) => newJobRow(config, 'p', { inputPath: `/in/${id}`, sourcePath: `/in/${id}`, inboxPath: null, outbox: '/out', sizeBytes: 1, mtimeMs: 1 }, 1, { id });
  let dir: string;
  let opened: OpenedDatabase;
  const failures: unknown[] = [];

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-write-fault-'));
    failures.length = 0;
    opened = await openDatabase(path.join(dir, 'spool.db'), { onWriteError: (error) => failures.push(error) });
  });
  afterEach(async () => {
    await opened.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('rejects every write of the turn with SQLITE_FULL, reports it, commits nothing half, and writes again once there is room', async () => {
    const st = statementsOf(opened.db);
    // No page may be added: any write that needs one fails as on a full disk.
    const pages = opened.sqlite.pragma('page_count', { simple: true }) as number;
    opened.sqlite.pragma(`max_page_count = ${pages}`);
    const big = 'x'.repeat(64 * 1024);
    const outcomes = await Promise.allSettled([
      st.write(() => insertJobNow(opened.db, row('A'))),
      st.write(() => insertJobNow(opened.db, { ...row('B'), input_path: big, source_path: big })),
      st.write(() => insertJobNow(opened.db, row('C'))),
    ]);
    const rejected = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(rejected.length).toBeGreaterThan(0);
    for (const r of rejected) expect(databaseWriteFault(r.reason)).toBe('full');
    expect(failures.map((f) => databaseWriteFault(f))).toContain('full');
    expect(await getJobRow(opened.db, 'B')).toBeUndefined();
    expect(opened.sqlite.inTransaction).toBe(false);

    opened.sqlite.pragma('max_page_count = 1073741823');
    await st.write(() => insertJobNow(opened.db, { ...row('D'), input_path: big, source_path: big }));
    expect((await getJobRow(opened.db, 'D'))?.input_path).toBe(big);
    expect(opened.sqlite.pragma('quick_check', { simple: true })).toBe('ok');
  });
});
