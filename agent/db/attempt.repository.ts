/**
 * SQL about attempts and the usage they teach (per-profile figures for later
 * learning). The writes every attempt makes are prepared statements (see
 * statements.ts); the `…Now` variants run on the caller's transaction.
 */
import type { Db } from './database.js';
import { statementsOf } from './statements.js';
import type { AttemptRow, JobAttemptTable, ProfileUsageTable, UsageRow } from './tables.js';
import type { Insertable, Updateable } from 'kysely';

const definedKeys = (values: object) => Object.keys(values).filter((k) => (values as Record<string, unknown>)[k] !== undefined);

function insertNow(db: Db, table: 'job_attempts' | 'profile_usage', row: object): void {
  const keys = definedKeys(row);
  statementsOf(db)
    .prepare(`insert into ${table} (${keys.map((k) => `"${k}"`).join(', ')}) values (${keys.map(() => '?').join(', ')})`)
    .run(...keys.map((k) => (row as Record<string, unknown>)[k]));
}

/** Attempt rows are numbered 1, 2, … for good: an interrupted attempt keeps its row even though it does not count. */
export async function nextAttemptNumber(db: Db, jobId: string): Promise<number> {
  const row = statementsOf(db).prepare('select max(number) as n from job_attempts where job_id = ?').get(jobId) as { n: number | null } | undefined;
  return (row?.n ?? 0) + 1;
}

/**
 * Records the start of an attempt under the next free number, on the
 * caller's transaction; returns that number. A read of the highest number
 * and a plain insert: one `INSERT … SELECT … RETURNING` cost about 5 µs more.
 */
export function openAttemptNow(db: Db, row: Omit<Insertable<JobAttemptTable>, 'number'>): number {
  const st = statementsOf(db);
  const { next } = st.prepare('select coalesce(max(number), 0) + 1 as next from job_attempts where job_id = ?').get(row.job_id) as { next: number };
  const keys = definedKeys(row).filter((k) => k !== 'job_id');
  st.prepare(`insert into job_attempts (job_id, number${keys.map((k) => `, "${k}"`).join('')}) values (?, ?${keys.map(() => ', ?').join('')})`).run(
    row.job_id,
    next,
    ...keys.map((k) => (row as Record<string, unknown>)[k]),
  );
  return next;
}

export async function insertAttempt(db: Db, row: Insertable<JobAttemptTable>): Promise<void> {
  await statementsOf(db).write(() => insertNow(db, 'job_attempts', row));
}

export function finishAttemptNow(db: Db, jobId: string, number: number, patch: Updateable<JobAttemptTable>): void {
  const keys = definedKeys(patch);
  statementsOf(db)
    .prepare(`update job_attempts set ${keys.map((k) => `"${k}" = ?`).join(', ')} where job_id = ? and number = ?`)
    .run(...keys.map((k) => (patch as Record<string, unknown>)[k]), jobId, number);
}

export async function finishAttempt(db: Db, jobId: string, number: number, patch: Updateable<JobAttemptTable>): Promise<void> {
  await statementsOf(db).write(() => finishAttemptNow(db, jobId, number, patch));
}

export async function listAttempts(db: Db, jobId: string): Promise<AttemptRow[]> {
  return db.selectFrom('job_attempts').selectAll().where('job_id', '=', jobId).orderBy('number').execute();
}

export function insertUsageNow(db: Db, row: Insertable<ProfileUsageTable>): void {
  insertNow(db, 'profile_usage', row);
}

export async function insertUsage(db: Db, row: Insertable<ProfileUsageTable>): Promise<void> {
  await statementsOf(db).write(() => insertUsageNow(db, row));
}

/** Attempts that never finished because the agent died under them. */
export async function interruptOpenAttempts(db: Db, jobId: string, now: number): Promise<void> {
  await db
    .updateTable('job_attempts')
    .set({ finished_at: now, outcome: 'interrupted', error: 'the agent stopped while this attempt ran' })
    .where('job_id', '=', jobId)
    .where('finished_at', 'is', null)
    .execute();
}

/**
 * The latest `limit` usage rows of a profile, newest first. Ordered by when
 * they were recorded, so the (profile, recorded_at) index reads just those
 * rows; ordering by id sorted the profile's whole history after every attempt.
 */
export async function recentUsage(db: Db, profile: string, limit: number): Promise<UsageRow[]> {
  return statementsOf(db).prepare('select * from profile_usage where profile = ? order by recorded_at desc, id desc limit ?').all(profile, limit) as UsageRow[];
}

/** Profiles with any recorded usage. */
export async function profilesWithUsage(db: Db): Promise<string[]> {
  const rows = await db.selectFrom('profile_usage').select('profile').distinct().execute();
  return rows.map((r) => r.profile);
}
