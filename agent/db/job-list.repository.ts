/**
 * The SQL behind the API's job list: filtered, newest-first pages with a
 * keyset cursor, their counts, and log pages. Kept apart from
 * job.repository.ts, whose queries serve the scheduler and the runners.
 */
import { sql } from 'kysely';
import type { Job, JobStatus } from '../jobs/job.js';
import { JOB_STATUSES } from '../jobs/job.js';
import type { Db } from './database.js';
import { hydrate } from './job.repository.js';
import type { JobAttemptTable, LogRow } from './tables.js';
import type { Selectable } from 'kysely';

type AttemptRow = Selectable<JobAttemptTable>;

export interface JobFilter {
  status?: readonly JobStatus[];
  profile?: string;
  /** Text in the file name, case-insensitive. */
  search?: string;
  /** Epoch ms, inclusive. */
  createdFrom?: number;
  /** Epoch ms, exclusive. */
  createdBefore?: number;
}

/** A position in the newest-first order: the last row of the previous page. */
export interface JobCursor {
  createdAt: number;
  id: string;
}

export interface JobPage {
  jobs: Job[];
  hasNextPage: boolean;
}

// LIKE's wildcards in the user's text match themselves.
const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

function filtered(db: Db, filter: JobFilter) {
  let query = db.selectFrom('jobs');
  if (filter.status && filter.status.length > 0) query = query.where('status', 'in', filter.status);
  if (filter.profile !== undefined) query = query.where('profile', '=', filter.profile);
  if (filter.search) query = query.where(sql<boolean>`file_name like ${`%${escapeLike(filter.search)}%`} escape '\\'`);
  if (filter.createdFrom !== undefined) query = query.where('created_at', '>=', filter.createdFrom);
  if (filter.createdBefore !== undefined) query = query.where('created_at', '<', filter.createdBefore);
  return query;
}

/** One page, newest first, after `cursor`; one extra row is read to know whether another page follows. */
export async function pageJobs(db: Db, filter: JobFilter, first: number, cursor?: JobCursor): Promise<JobPage> {
  let query = filtered(db, filter).selectAll();
  if (cursor) query = query.where(sql<boolean>`(created_at, id) < (${cursor.createdAt}, ${cursor.id})`);
  const rows = await query
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(first + 1)
    .execute();
  return { jobs: await hydrate(db, rows.slice(0, first)), hasNextPage: rows.length > first };
}

/** How many jobs match; a status-only filter reads the trigger-kept counts instead of counting rows. */
export async function countJobs(db: Db, filter: JobFilter): Promise<number> {
  const onlyStatus = filter.profile === undefined && !filter.search && filter.createdFrom === undefined && filter.createdBefore === undefined;
  if (onlyStatus) {
    const counts = await statusCounts(db);
    const statuses = filter.status && filter.status.length > 0 ? filter.status : JOB_STATUSES;
    return [...new Set(statuses)].reduce((sum, s) => sum + counts[s], 0);
  }
  const row = await filtered(db, filter)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Jobs per status, from the table the triggers keep. */
export async function statusCounts(db: Db): Promise<Record<JobStatus, number>> {
  const rows = await db.selectFrom('job_status_counts').select(['status', 'n']).execute();
  const counts: Record<JobStatus, number> = { PENDING: 0, RUNNING: 0, PAUSED: 0, COMPLETED: 0, FAILED: 0, CANCELLED: 0 };
  for (const r of rows) counts[r.status as JobStatus] = Number(r.n);
  return counts;
}

/**
 * Log lines of several jobs at once, the last `last` of each, oldest first
 * (one query for a page of jobs instead of one per job).
 */
export async function lastLogLinesOf(db: Db, jobIds: readonly string[], last: number): Promise<Map<string, LogRow[]>> {
  const byJob = new Map<string, LogRow[]>(jobIds.map((id) => [id, []]));
  if (jobIds.length === 0) return byJob;
  const ranked = db
    .selectFrom('job_logs')
    .selectAll()
    .select(sql<number>`row_number() over (partition by job_id order by id desc)`.as('rank'))
    .where('job_id', 'in', jobIds)
    .as('ranked');
  const rows = await db.selectFrom(ranked).selectAll().where('rank', '<=', last).orderBy('id').execute();
  for (const { rank: _rank, ...row } of rows) byJob.get(row.job_id)?.push(row);
  return byJob;
}

/** Log lines of one job before line `beforeId` (for paging back), the nearest `limit`, oldest first. */
export async function logLinesBefore(db: Db, jobId: string, beforeId: number, limit: number): Promise<LogRow[]> {
  const rows = await db.selectFrom('job_logs').selectAll().where('job_id', '=', jobId).where('id', '<', beforeId).orderBy('id', 'desc').limit(limit).execute();
  return rows.reverse();
}

/** Log lines of one job after line `afterId` (for paging forward), oldest first. */
export async function logLinesAfter(db: Db, jobId: string, afterId: number, limit: number): Promise<LogRow[]> {
  return db.selectFrom('job_logs').selectAll().where('job_id', '=', jobId).where('id', '>', afterId).orderBy('id').limit(limit).execute();
}

/** Attempts of several jobs, oldest first, with the peak VRAM recorded for completed ones. */
export async function attemptsOf(db: Db, jobIds: readonly string[]): Promise<Map<string, (AttemptRow & { peak_vram_mb: number | null })[]>> {
  const byJob = new Map<string, (AttemptRow & { peak_vram_mb: number | null })[]>(jobIds.map((id) => [id, []]));
  if (jobIds.length === 0) return byJob;
  const [attempts, usage] = await Promise.all([
    db.selectFrom('job_attempts').selectAll().where('job_id', 'in', jobIds).orderBy('job_id').orderBy('number').execute(),
    db.selectFrom('profile_usage').select(['job_id', 'recorded_at', 'peak_vram_mb']).where('job_id', 'in', jobIds).execute(),
  ]);
  for (const a of attempts) {
    // Usage is recorded when an attempt ends (completed, or died holding GPU memory), at its finish time.
    const peak = usage.find((u) => u.job_id === a.job_id && a.finished_at !== null && u.recorded_at >= a.started_at && u.recorded_at <= a.finished_at + 1000);
    byJob.get(a.job_id)?.push({ ...a, peak_vram_mb: peak?.peak_vram_mb ?? null });
  }
  return byJob;
}

/** Follow-on jobs (made by `then:` from a job's outputs) of several jobs. */
export async function followOnsOf(db: Db, jobIds: readonly string[]): Promise<Map<string, Job[]>> {
  const byJob = new Map<string, Job[]>(jobIds.map((id) => [id, []]));
  if (jobIds.length === 0) return byJob;
  const rows = await db.selectFrom('jobs').selectAll().where('parent_id', 'in', jobIds).orderBy('created_at').execute();
  for (const job of await hydrate(db, rows)) byJob.get(job.parentId!)?.push(job);
  return byJob;
}
