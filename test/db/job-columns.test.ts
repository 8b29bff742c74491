/** Full job rows are read as arrays in JOB_COLUMNS order; the mapper and the table must agree on it. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { parseConfig } from '../../agent/config/load-config.js';
import { openDatabase, type OpenedDatabase } from '../../agent/db/database.js';
import { createJob, getJobRowNow, getJobs, insertJob, JOB_COLUMNS, jobRowOf, updateJobAndGet } from '../../agent/db/job.repository.js';
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

it('jobRowOf puts each value under the column JOB_COLUMNS names at its place', () => {
  expect(jobRowOf([...JOB_COLUMNS])).toEqual(Object.fromEntries(JOB_COLUMNS.map((c) => [c, c])));
});

it('JOB_COLUMNS are the columns of the jobs table', () => {
  const columns = (opened.sqlite.prepare('select name from pragma_table_info(?)').all('jobs') as { name: string }[]).map((c) => c.name);
  expect([...JOB_COLUMNS].sort()).toEqual(columns.sort());
});

it('a row read back, updated and returned equals the row as the driver gives it', async () => {
  const created = await createJob(opened.db, newJobRow(config, 'p', file('a'), 1000, { id: 'A' }));
  await insertJob(opened.db, newJobRow(config, 'p', file('b'), 2000, { id: 'B' }), ['A']);
  const plain = () => opened.sqlite.prepare('select * from jobs where id = ?').get('A');
  expect(getJobRowNow(opened.db, 'A')).toEqual(plain());
  const updated = await updateJobAndGet(opened.db, 'A', { waiting_reason: 'because', progress: 12.5 });
  expect(updated).toEqual({ ...created, waitingReason: 'because', progress: 12.5 });
  expect(getJobRowNow(opened.db, 'A')).toEqual(plain());
  expect((await getJobs(opened.db, ['B', 'A'])).map((j) => [j.id, j.dependsOn])).toEqual([
    ['A', []],
    ['B', ['A']],
  ]);
});
