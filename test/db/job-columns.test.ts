/** Full job rows are read as arrays in JOB_COLUMNS order; the mapper and the table must agree on it. */
import { expect, it } from 'vitest';
import { parseConfig } from '../../agent/config/load-config.js';
import { createJob, getJobRowNow, getJobs, insertJob, JOB_COLUMNS, jobRowOf, updateJobAndGet } from '../../agent/db/job.repository.js';
import { newJobRow } from '../../agent/jobs/job-store.js';
import { useTempDatabase } from '../helpers/temp-database.js';

const config = parseConfig({ profiles: { p: { kind: 'probe' } } }, '/tmp');
const database = useTempDatabase();

const file = (name: string) => ({ inputPath: `/in/${name}`, sourcePath: `/in/${name}`, inboxPath: null, outbox: '/out', sizeBytes: 1, mtimeMs: 1 });

it('jobRowOf puts each value under the column JOB_COLUMNS names at its place', () => {
  expect(jobRowOf([...JOB_COLUMNS])).toEqual(Object.fromEntries(JOB_COLUMNS.map((c) => [c, c])));
});

it('JOB_COLUMNS are the columns of the jobs table', () => {
  const columns = (database().sqlite.prepare('select name from pragma_table_info(?)').all('jobs') as { name: string }[]).map((c) => c.name);
  expect([...JOB_COLUMNS].sort()).toEqual(columns.sort());
});

it('a row read back, updated and returned equals the row as the driver gives it', async () => {
  const created = await createJob(database().db, newJobRow(config, 'p', file('a'), 1000, { id: 'A' }));
  await insertJob(database().db, newJobRow(config, 'p', file('b'), 2000, { id: 'B' }), ['A']);
  const plain = () => database().sqlite.prepare('select * from jobs where id = ?').get('A');
  expect(getJobRowNow(database().db, 'A')).toEqual(plain());
  const updated = await updateJobAndGet(database().db, 'A', { waiting_reason: 'because', progress: 12.5 });
  expect(updated).toEqual({ ...created, waitingReason: 'because', progress: 12.5 });
  expect(getJobRowNow(database().db, 'A')).toEqual(plain());
  expect((await getJobs(database().db, ['B', 'A'])).map((j) => [j.id, j.dependsOn])).toEqual([
    ['A', []],
    ['B', ['A']],
  ]);
});
