/**
 * All SQL about jobs, their dependencies and outputs. Free functions taking
 * the database first (Kysely's habit); they return rows or domain jobs and
 * never decide anything.
 */
import type { JobOutput, JobStatus } from '../jobs/job.js';
import type { Db } from './database.js';
import { rowToJob } from './job.mapper.js';
import type { Job } from '../jobs/job.js';
import type { JobRow, JobRowUpdate, NewJobRow } from './tables.js';

export async function insertJob(db: Db, row: NewJobRow, dependsOn: readonly string[] = []): Promise<void> {
  const insert = async (trx: Db) => {
    await trx.insertInto('jobs').values(row).execute();
    if (dependsOn.length > 0) {
      await trx
        .insertInto('job_dependencies')
        .values(dependsOn.map((id) => ({ job_id: row.id, depends_on_id: id })))
        .execute();
    }
  };
  // SQLite has one connection: a nested transaction would wait on itself.
  if (db.isTransaction || dependsOn.length === 0) await insert(db);
  else await db.transaction().execute(insert);
}

export async function getJobRow(db: Db, id: string): Promise<JobRow | undefined> {
  return db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Jobs by id with their dependencies and outputs, in two batched queries (no N+1). */
export async function getJobs(db: Db, ids: readonly string[]): Promise<Job[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('jobs').selectAll().where('id', 'in', ids).execute();
  return hydrate(db, rows);
}

export async function getJob(db: Db, id: string): Promise<Job | undefined> {
  return (await getJobs(db, [id]))[0];
}

export async function hydrate(db: Db, rows: readonly JobRow[]): Promise<Job[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const [deps, outputs] = await Promise.all([
    db.selectFrom('job_dependencies').select(['job_id', 'depends_on_id']).where('job_id', 'in', ids).execute(),
    db.selectFrom('job_outputs').select(['job_id', 'path', 'size_bytes']).where('job_id', 'in', ids).orderBy('seq').execute(),
  ]);
  const depsOf = new Map<string, string[]>();
  for (const d of deps) depsOf.set(d.job_id, [...(depsOf.get(d.job_id) ?? []), d.depends_on_id]);
  const outputsOf = new Map<string, JobOutput[]>();
  for (const o of outputs) outputsOf.set(o.job_id, [...(outputsOf.get(o.job_id) ?? []), { path: o.path, sizeBytes: o.size_bytes }]);
  return rows.map((row) => rowToJob(row, depsOf.get(row.id) ?? [], outputsOf.get(row.id) ?? []));
}

/** Writes `patch` to a job, only if it is in one of `fromStatuses` (when given). Returns whether a row changed. */
export async function updateJob(db: Db, id: string, patch: JobRowUpdate, fromStatuses?: readonly JobStatus[]): Promise<boolean> {
  let query = db.updateTable('jobs').set(patch).where('id', '=', id);
  if (fromStatuses) query = query.where('status', 'in', fromStatuses);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export interface CandidateRow extends JobRow {
  /** Dependencies not yet COMPLETED. */
  unmet: number;
  /** Dependencies that ended FAILED or CANCELLED. */
  broken: number;
  /** One unmet dependency, for the waiting reason. */
  blocker: string | null;
}

/**
 * The pending jobs admission looks at: the best `limit` by priority then age
 * (an index range scan), plus the oldest `limit / 5` whatever their priority,
 * since those are the ones aging may have lifted. The decision function
 * sorts them exactly; this only bounds what one pass reads, so a queue of
 * ten thousand costs the same pass as a queue of five hundred.
 */
export async function loadCandidates(db: Db, limit: number): Promise<CandidateRow[]> {
  const [best, oldest] = await Promise.all([
    db.selectFrom('jobs').selectAll().where('status', '=', 'PENDING').orderBy('priority').orderBy('created_at').orderBy('id').limit(limit).execute(),
    db.selectFrom('jobs').selectAll().where('status', '=', 'PENDING').orderBy('created_at').orderBy('id').limit(Math.ceil(limit / 5)).execute(),
  ]);
  const rows = new Map<string, JobRow>();
  for (const row of [...best, ...oldest]) rows.set(row.id, row);
  const ids = [...rows.keys()];
  const deps = ids.length === 0 ? [] : await db
    .selectFrom('job_dependencies as d')
    .innerJoin('jobs as p', 'p.id', 'd.depends_on_id')
    .select(['d.job_id', 'p.id', 'p.status', 'p.settle_plan'])
    .where('d.job_id', 'in', ids)
    .execute();
  const candidates = new Map<string, CandidateRow>();
  for (const row of rows.values()) candidates.set(row.id, { ...row, unmet: 0, broken: 0, blocker: null });
  for (const dep of deps) {
    const candidate = candidates.get(dep.job_id)!;
    // A parent counts as done once its outputs are settled in the outbox.
    if (dep.status === 'COMPLETED' && dep.settle_plan === null) continue;
    candidate.unmet += 1;
    candidate.blocker ??= dep.id;
    if (dep.status === 'FAILED' || dep.status === 'CANCELLED') candidate.broken += 1;
  }
  return [...candidates.values()];
}

/** Attempts whose process was alive when the agent last stopped. */
export async function listActiveRows(db: Db): Promise<JobRow[]> {
  return db
    .selectFrom('jobs')
    .selectAll()
    .where((eb) => eb.or([eb('status', '=', 'RUNNING'), eb.and([eb('status', '=', 'PAUSED'), eb('paused_from', '=', 'running')])]))
    .execute();
}

export async function listUnsettledRows(db: Db): Promise<JobRow[]> {
  return db.selectFrom('jobs').selectAll().where('settle_plan', 'is not', null).execute();
}

/** A completed job of the same profile on the same content (size + SHA-256). */
export async function findDuplicate(db: Db, profile: string, sizeBytes: number, hash: string): Promise<Job | undefined> {
  const row = await db
    .selectFrom('jobs')
    .selectAll()
    .where('profile', '=', profile)
    .where('size_bytes', '=', sizeBytes)
    .where('content_hash', '=', hash)
    .where('status', '=', 'COMPLETED')
    .orderBy('created_at')
    .executeTakeFirst();
  return row ? (await hydrate(db, [row]))[0] : undefined;
}

/** A finished job that left this very file in place (onSuccess: keep), so the watcher must not take it again. */
export async function findKeptSource(db: Db, sourcePath: string, sizeBytes: number, mtimeMs: number): Promise<string | undefined> {
  const row = await db
    .selectFrom('jobs')
    .select('id')
    .where('source_path', '=', sourcePath)
    .where('size_bytes', '=', sizeBytes)
    .where('mtime_ms', '=', mtimeMs)
    .executeTakeFirst();
  return row?.id;
}

export async function replaceOutputs(db: Db, jobId: string, outputs: readonly JobOutput[]): Promise<void> {
  await db.deleteFrom('job_outputs').where('job_id', '=', jobId).execute();
  if (outputs.length === 0) return;
  await db
    .insertInto('job_outputs')
    .values(outputs.map((o, seq) => ({ job_id: jobId, seq, path: o.path, size_bytes: o.sizeBytes })))
    .execute();
}

/** Jobs waiting on `jobId`. */
export async function dependentIds(db: Db, jobId: string): Promise<string[]> {
  const rows = await db.selectFrom('job_dependencies').select('job_id').where('depends_on_id', '=', jobId).execute();
  return rows.map((r) => r.job_id);
}

export async function existingIds(db: Db, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('jobs').select('id').where('id', 'in', ids).execute();
  return rows.map((r) => r.id);
}

export async function countByStatus(db: Db): Promise<Record<JobStatus, number>> {
  const rows = await db.selectFrom('jobs').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute();
  const counts: Record<JobStatus, number> = { PENDING: 0, RUNNING: 0, PAUSED: 0, COMPLETED: 0, FAILED: 0, CANCELLED: 0 };
  for (const r of rows) counts[r.status as JobStatus] = Number(r.n);
  return counts;
}

/** Deletes finished, settled jobs that ended before `before`; returns how many. */
export async function pruneFinished(db: Db, before: number): Promise<number> {
  const result = await db
    .deleteFrom('jobs')
    .where('status', 'in', ['COMPLETED', 'FAILED', 'CANCELLED'])
    .where('settle_plan', 'is', null)
    .where('finished_at', '<', before)
    .where((eb) => eb.not(eb.exists(eb.selectFrom('job_dependencies as d').select('d.job_id').whereRef('d.depends_on_id', '=', 'jobs.id'))))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Jobs, newest first, optionally filtered by status (for the CLI and tests). */
export async function listJobs(db: Db, options: { status?: readonly JobStatus[]; limit?: number } = {}): Promise<Job[]> {
  let query = db.selectFrom('jobs').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(options.limit ?? 100);
  if (options.status && options.status.length > 0) query = query.where('status', 'in', options.status);
  return hydrate(db, await query.execute());
}
