/** SQL about attempts and the usage they teach (per-profile figures for later learning). */
import type { Db } from './database.js';
import type { AttemptRow, JobAttemptTable, ProfileUsageTable, UsageRow } from './tables.js';
import type { Insertable, Updateable } from 'kysely';

/** Attempt rows are numbered 1, 2, … for good: an interrupted attempt keeps its row even though it does not count. */
export async function nextAttemptNumber(db: Db, jobId: string): Promise<number> {
  const row = await db.selectFrom('job_attempts').select((eb) => eb.fn.max<number | null>('number').as('n')).where('job_id', '=', jobId).executeTakeFirst();
  return (row?.n ?? 0) + 1;
}

export async function insertAttempt(db: Db, row: Insertable<JobAttemptTable>): Promise<void> {
  await db.insertInto('job_attempts').values(row).execute();
}

export async function finishAttempt(db: Db, jobId: string, number: number, patch: Updateable<JobAttemptTable>): Promise<void> {
  await db.updateTable('job_attempts').set(patch).where('job_id', '=', jobId).where('number', '=', number).execute();
}

export async function listAttempts(db: Db, jobId: string): Promise<AttemptRow[]> {
  return db.selectFrom('job_attempts').selectAll().where('job_id', '=', jobId).orderBy('number').execute();
}

export async function insertUsage(db: Db, row: Insertable<ProfileUsageTable>): Promise<void> {
  await db.insertInto('profile_usage').values(row).execute();
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

/** The latest `limit` usage rows of a profile, newest first. */
export async function recentUsage(db: Db, profile: string, limit: number): Promise<UsageRow[]> {
  return db.selectFrom('profile_usage').selectAll().where('profile', '=', profile).orderBy('id', 'desc').limit(limit).execute();
}

/** Profiles with any recorded usage. */
export async function profilesWithUsage(db: Db): Promise<string[]> {
  const rows = await db.selectFrom('profile_usage').select('profile').distinct().execute();
  return rows.map((r) => r.profile);
}
