/**
 * All SQL about jobs, their dependencies and outputs. Free functions taking
 * the database first (Kysely's habit); they return rows or domain jobs and
 * never decide anything.
 *
 * What every job goes through (insert, the state changes, the reads that
 * build its events, admission's candidates) runs as prepared statements
 * through statements.ts, writes in group commits; the `…Now` variants run
 * on the caller's transaction and exist to be called inside
 * `statementsOf(db).write(…)` together with other writes. The rest (lists,
 * pruning, start-up queries) stays on Kysely.
 */
import type { JobOutput, JobStatus } from '../jobs/job.js';
import type { Db } from './database.js';
import { rowToJob } from './job.mapper.js';
import type { Job } from '../jobs/job.js';
import { statementsOf } from './statements.js';
import type { JobRow, JobRowUpdate, NewJobRow } from './tables.js';

const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');
const definedKeys = (values: object) => Object.keys(values).filter((k) => (values as Record<string, unknown>)[k] !== undefined);

/** SQL text per column list: rows and patches come in a handful of shapes, so each is built once. */
const insertTexts = new Map<string, string>();
const updateTexts = new Map<string, string>();

function insertText(keys: readonly string[]): string {
  const signature = keys.join(',');
  let text = insertTexts.get(signature);
  if (text === undefined) {
    text = `insert into jobs (${keys.map((k) => `"${k}"`).join(', ')}) values (${placeholders(keys.length)})`;
    insertTexts.set(signature, text);
  }
  return text;
}

function updateText(keys: readonly string[], guarded: number): string {
  const signature = `${keys.join(',')}|${guarded}`;
  let text = updateTexts.get(signature);
  if (text === undefined) {
    const guard = guarded > 0 ? ` and status in (${placeholders(guarded)})` : '';
    text = `update jobs set ${keys.map((k) => `"${k}" = ?`).join(', ')} where id = ?${guard}`;
    updateTexts.set(signature, text);
  }
  return text;
}

/**
 * Full job rows are read as arrays (better-sqlite3's raw mode) in this
 * column order and made into objects by jobRowOf: building a 34-column row
 * object in the driver cost about 17 µs a row, this about 10 µs, and every
 * job is read whole at least once (test/bench/queue-throughput.ts).
 */
export const JOB_COLUMNS = [
  'id',
  'profile',
  'kind',
  'category',
  'status',
  'priority',
  'input_path',
  'source_path',
  'inbox_path',
  'outbox',
  'file_name',
  'size_bytes',
  'mtime_ms',
  'content_hash',
  'attempts',
  'max_attempts',
  'run_after',
  'waiting_reason',
  'paused_from',
  'progress',
  'fps',
  'speed',
  'eta_seconds',
  'gpu_index',
  'encoder',
  'error_kind',
  'error',
  'result_json',
  'parent_id',
  'settle_plan',
  'created_at',
  'started_at',
  'finished_at',
  'updated_at',
] as const;
const JOB_SELECT = JOB_COLUMNS.join(', ');
/** Compiles only while JOB_COLUMNS lists every column of JobRow. */
const everyColumnListed: Exclude<keyof JobRow, (typeof JOB_COLUMNS)[number]> extends never ? true : never = true;
void everyColumnListed;

/** A row read in JOB_COLUMNS order (test/db/job-columns.test.ts checks the two orders agree). */
export function jobRowOf(values: readonly unknown[]): JobRow {
  return {
    id: values[0] as string,
    profile: values[1] as string,
    kind: values[2] as string,
    category: values[3] as string,
    status: values[4] as string,
    priority: values[5] as number,
    input_path: values[6] as string,
    source_path: values[7] as string,
    inbox_path: values[8] as string | null,
    outbox: values[9] as string,
    file_name: values[10] as string,
    size_bytes: values[11] as number,
    mtime_ms: values[12] as number,
    content_hash: values[13] as string | null,
    attempts: values[14] as number,
    max_attempts: values[15] as number,
    run_after: values[16] as number | null,
    waiting_reason: values[17] as string | null,
    paused_from: values[18] as string | null,
    progress: values[19] as number | null,
    fps: values[20] as number | null,
    speed: values[21] as number | null,
    eta_seconds: values[22] as number | null,
    gpu_index: values[23] as number | null,
    encoder: values[24] as string | null,
    error_kind: values[25] as string | null,
    error: values[26] as string | null,
    result_json: values[27] as string | null,
    parent_id: values[28] as string | null,
    settle_plan: values[29] as string | null,
    created_at: values[30] as number,
    started_at: values[31] as number | null,
    finished_at: values[32] as number | null,
    updated_at: values[33] as number,
  };
}

/**
 * The row as stored after inserting `row`: what the table keeps for the
 * columns an insert may leave out. Written out column by column, in the
 * table's order: a new column fails to compile until it is listed, and
 * every stored row gets the same object shape. (Copying a defaults object
 * with spread and then adding the row's keys one by one cost about 50 µs
 * per job: V8 gives a spread copy a map that no later property addition
 * can reuse.)
 */
function storedRow(row: NewJobRow): JobRow {
  return {
    id: row.id,
    profile: row.profile,
    kind: row.kind,
    category: row.category,
    status: row.status,
    priority: row.priority,
    input_path: row.input_path,
    source_path: row.source_path,
    inbox_path: row.inbox_path ?? null,
    outbox: row.outbox,
    file_name: row.file_name,
    size_bytes: row.size_bytes,
    mtime_ms: row.mtime_ms,
    content_hash: row.content_hash ?? null,
    attempts: row.attempts ?? 0,
    max_attempts: row.max_attempts,
    run_after: row.run_after ?? null,
    waiting_reason: row.waiting_reason ?? null,
    paused_from: row.paused_from ?? null,
    progress: row.progress ?? null,
    fps: row.fps ?? null,
    speed: row.speed ?? null,
    eta_seconds: row.eta_seconds ?? null,
    gpu_index: row.gpu_index ?? null,
    encoder: row.encoder ?? null,
    error_kind: row.error_kind ?? null,
    error: row.error ?? null,
    result_json: row.result_json ?? null,
    parent_id: row.parent_id ?? null,
    settle_plan: row.settle_plan ?? null,
    created_at: row.created_at,
    started_at: row.started_at ?? null,
    finished_at: row.finished_at ?? null,
    updated_at: row.updated_at,
  };
}

/** Inserts a job row (and its dependencies) on the caller's transaction; returns the row as stored. */
export function insertJobNow(db: Db, row: NewJobRow, dependsOn: readonly string[] = []): JobRow {
  const st = statementsOf(db);
  const keys = definedKeys(row);
  st.prepare(insertText(keys)).run(...keys.map((k) => row[k as keyof NewJobRow]));
  const stored = storedRow(row);
  if (dependsOn.length > 0) {
    const dependency = st.prepare('insert into job_dependencies (job_id, depends_on_id) values (?, ?)');
    for (const id of dependsOn) dependency.run(row.id, id);
  }
  st.changed({ type: 'inserted', row: stored, dependsOn });
  return stored;
}

export async function insertJob(db: Db, row: NewJobRow, dependsOn: readonly string[] = []): Promise<void> {
  await statementsOf(db).write(() => insertJobNow(db, row, dependsOn));
}

/** Inserts a job and returns it as the domain sees it (no second read). */
export async function createJob(db: Db, row: NewJobRow, dependsOn: readonly string[] = []): Promise<Job> {
  const stored = await statementsOf(db).write(() => insertJobNow(db, row, dependsOn));
  return rowToJob(stored, [...dependsOn].sort(), []);
}

export function getJobRowNow(db: Db, id: string): JobRow | undefined {
  const values = statementsOf(db).prepare(`select ${JOB_SELECT} from jobs where id = ?`).raw(true).get(id) as unknown[] | undefined;
  return values ? jobRowOf(values) : undefined;
}

export async function getJobRow(db: Db, id: string): Promise<JobRow | undefined> {
  return getJobRowNow(db, id);
}

/** Jobs by id with their dependencies and outputs, in three queries whatever the count (no N+1). */
export async function getJobs(db: Db, ids: readonly string[]): Promise<Job[]> {
  if (ids.length === 0) return [];
  const st = statementsOf(db);
  const values = (
    ids.length === 1
      ? st.prepare(`select ${JOB_SELECT} from jobs where id = ?`).raw(true).all(ids[0])
      : st.prepare(`select ${JOB_SELECT} from jobs where id in (select value from json_each(?)) order by id`).raw(true).all(JSON.stringify(ids))
  ) as unknown[][];
  const rows = values.map(jobRowOf);
  return hydrateNow(db, rows);
}

export async function getJob(db: Db, id: string): Promise<Job | undefined> {
  return getJobNow(db, id);
}

export function getJobNow(db: Db, id: string): Job | undefined {
  const row = getJobRowNow(db, id);
  return row ? hydrateNow(db, [row])[0] : undefined;
}

export async function hydrate(db: Db, rows: readonly JobRow[]): Promise<Job[]> {
  return hydrateNow(db, rows);
}

/** Domain jobs from rows: their dependencies and outputs in two queries. */
export function hydrateNow(db: Db, rows: readonly JobRow[]): Job[] {
  if (rows.length === 0) return [];
  const st = statementsOf(db);
  let deps: { job_id: string; depends_on_id: string }[];
  let outputs: { job_id: string; path: string; size_bytes: number }[];
  if (rows.length === 1) {
    const id = rows[0]!.id;
    deps = st.prepare('select job_id, depends_on_id from job_dependencies where job_id = ?').all(id) as typeof deps;
    outputs = st.prepare('select job_id, path, size_bytes from job_outputs where job_id = ? order by seq').all(id) as typeof outputs;
  } else {
    const ids = JSON.stringify(rows.map((r) => r.id));
    deps = st.prepare('select job_id, depends_on_id from job_dependencies where job_id in (select value from json_each(?))').all(ids) as typeof deps;
    outputs = st.prepare('select job_id, path, size_bytes from job_outputs where job_id in (select value from json_each(?)) order by seq').all(ids) as typeof outputs;
  }
  const depsOf = new Map<string, string[]>();
  for (const d of deps) {
    const list = depsOf.get(d.job_id);
    if (list) list.push(d.depends_on_id);
    else depsOf.set(d.job_id, [d.depends_on_id]);
  }
  const outputsOf = new Map<string, JobOutput[]>();
  for (const o of outputs) {
    const output = { path: o.path, sizeBytes: o.size_bytes };
    const list = outputsOf.get(o.job_id);
    if (list) list.push(output);
    else outputsOf.set(o.job_id, [output]);
  }
  return rows.map((row) => rowToJob(row, depsOf.get(row.id) ?? [], outputsOf.get(row.id) ?? []));
}

/**
 * Writes `patch` to a job on the caller's transaction, only if it is in one
 * of `fromStatuses` (when given). Returns the row as written, or undefined
 * when no row changed.
 */
export function updateJobNow(db: Db, id: string, patch: JobRowUpdate, fromStatuses?: readonly JobStatus[]): JobRow | undefined {
  const st = statementsOf(db);
  const keys = definedKeys(patch);
  if (keys.length === 0) throw new Error(`updateJob of ${id} with nothing to set`);
  const values = st
    .prepare(`${updateText(keys, fromStatuses?.length ?? 0)} returning ${JOB_SELECT}`)
    .raw(true)
    .get(...keys.map((k) => patch[k as keyof JobRowUpdate]), id, ...(fromStatuses ?? [])) as unknown[] | undefined;
  const row = values ? jobRowOf(values) : undefined;
  if (row) st.changed({ type: 'updated', id, patch, status: row.status });
  return row;
}

/**
 * Like updateJobNow for a caller that has just read `row` in the same
 * transaction: the row as written is `row` with `patch` applied, so it is
 * not read back. Returns undefined when the guard left the row unchanged.
 */
export function updateReadJobNow(db: Db, row: JobRow, patch: JobRowUpdate, fromStatuses?: readonly JobStatus[]): JobRow | undefined {
  const st = statementsOf(db);
  // Only the columns that change: SQLite rewrites the index entries of every column it sets.
  const keys = definedKeys(patch).filter((k) => patch[k as keyof JobRowUpdate] !== row[k as keyof JobRow]);
  if (keys.length === 0) return fromStatuses === undefined || fromStatuses.includes(row.status as JobStatus) ? row : undefined;
  const result = st.prepare(updateText(keys, fromStatuses?.length ?? 0)).run(...keys.map((k) => patch[k as keyof JobRowUpdate]), row.id, ...(fromStatuses ?? []));
  if (result.changes === 0) return undefined;
  const written = { ...row } as Record<string, unknown>;
  for (const k of keys) written[k] = patch[k as keyof JobRowUpdate];
  const updated = written as unknown as JobRow;
  st.changed({ type: 'updated', id: row.id, patch, status: updated.status });
  return updated;
}

/** Writes `patch` to a job, only if it is in one of `fromStatuses` (when given). Returns whether a row changed. */
export async function updateJob(db: Db, id: string, patch: JobRowUpdate, fromStatuses?: readonly JobStatus[]): Promise<boolean> {
  return (await statementsOf(db).write(() => updateJobNow(db, id, patch, fromStatuses))) !== undefined;
}

/**
 * The start of an attempt, on the caller's transaction: RUNNING, one more
 * attempt and `patch`, only if the job is still PENDING on the source
 * admission saw, with the size and mtime it had when claimed, and still has
 * the attempts admission saw. Returns whether it started (if not, read the
 * row to see why).
 *
 * Nothing is read back: the caller knows the row as written from what it
 * checked here. `returning *` made this the costliest statement of a job
 * (about 35 µs of a 45 µs update, most of it building the 34-column row
 * object), and the row was read only to emit it.
 */
export function startJobNow(db: Db, id: string, expected: { path: string; sizeBytes: number; mtimeMs: number; attempts: number }, patch: JobRowUpdate): boolean {
  const st = statementsOf(db);
  const keys = definedKeys(patch).filter((k) => k !== 'status' && k !== 'attempts');
  const signature = `start|${keys.join(',')}`;
  let text = updateTexts.get(signature);
  if (text === undefined) {
    text = `update jobs set status = 'RUNNING', attempts = attempts + 1${keys.map((k) => `, "${k}" = ?`).join('')} where id = ? and status = 'PENDING' and source_path = ? and size_bytes = ? and mtime_ms = ? and attempts = ?`;
    updateTexts.set(signature, text);
  }
  const { changes } = st.prepare(text).run(...keys.map((k) => patch[k as keyof JobRowUpdate]), id, expected.path, expected.sizeBytes, expected.mtimeMs, expected.attempts);
  if (changes === 0) return false;
  st.changed({ type: 'updated', id, patch: { ...patch, status: 'RUNNING', attempts: expected.attempts + 1 }, status: 'RUNNING' });
  return true;
}

/**
 * Waiting reasons (and ETAs) of many pending jobs, on the caller's
 * transaction: one UPDATE per distinct reason and ETA rather than one per
 * job (a pass often tells hundreds of jobs the same thing). A job no longer
 * PENDING is left alone. Returns the jobs as written, by id; with
 * `jobs: false` (nobody listens to their events) only the ids written, as
 * map keys to undefined: reading back and hydrating every row was most of
 * the cost of this write.
 */
export function setWaitingReasonsNow(db: Db, writes: readonly { id: string; reason: string; eta: number | null }[]): Map<string, Job>;
export function setWaitingReasonsNow(db: Db, writes: readonly { id: string; reason: string; eta: number | null }[], options: { jobs: false }): Map<string, undefined>;
export function setWaitingReasonsNow(db: Db, writes: readonly { id: string; reason: string; eta: number | null }[], options: { jobs: boolean } = { jobs: true }): Map<string, Job | undefined> {
  const st = statementsOf(db);
  const groups = new Map<string, { reason: string; eta: number | null; ids: string[] }>();
  for (const w of writes) {
    const key = `${w.eta ?? ''}\u0000${w.reason}`;
    const group = groups.get(key);
    if (group) group.ids.push(w.id);
    else groups.set(key, { reason: w.reason, eta: w.eta, ids: [w.id] });
  }
  const rows: JobRow[] = [];
  for (const { reason, eta, ids } of groups.values()) {
    const text =
      eta === null
        ? `update jobs set waiting_reason = ? where status = ? and id in (select value from json_each(?)) returning ${options.jobs ? JOB_SELECT : 'id, status'}`
        : `update jobs set waiting_reason = ?, eta_seconds = ? where status = ? and id in (select value from json_each(?)) returning ${options.jobs ? JOB_SELECT : 'id, status'}`;
    const args = eta === null ? [reason, 'PENDING', JSON.stringify(ids)] : [reason, eta, 'PENDING', JSON.stringify(ids)];
    const written = options.jobs ? (st.prepare(text).raw(true).all(...args) as unknown[][]).map(jobRowOf) : (st.prepare(text).all(...args) as JobRow[]);
    const patch: JobRowUpdate = eta === null ? { waiting_reason: reason } : { waiting_reason: reason, eta_seconds: eta };
    for (const row of written) st.changed({ type: 'updated', id: row.id, patch, status: row.status });
    rows.push(...written);
  }
  if (!options.jobs) return new Map(rows.map((row) => [row.id, undefined]));
  return new Map(hydrateNow(db, rows).map((job) => [job.id, job]));
}

/** Like updateJob, and returns the job as written (for its event) without reading it again; undefined when no row changed. */
export async function updateJobAndGet(db: Db, id: string, patch: JobRowUpdate, fromStatuses?: readonly JobStatus[]): Promise<Job | undefined> {
  return statementsOf(db).write(() => {
    const row = updateJobNow(db, id, patch, fromStatuses);
    return row ? hydrateNow(db, [row])[0] : undefined;
  });
}

/** The columns admission and an attempt need: an attempt that starts runs on these and never reads the full row. */
const CANDIDATE_COLUMNS = ['id', 'profile', 'kind', 'category', 'status', 'priority', 'source_path', 'inbox_path', 'outbox', 'file_name', 'size_bytes', 'attempts', 'max_attempts', 'run_after', 'waiting_reason', 'created_at'] as const;

export interface CandidateRow extends Pick<JobRow, (typeof CANDIDATE_COLUMNS)[number]> {
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
  return loadCandidatesNow(db, limit).rows;
}

export interface CandidatePage {
  /** Both pages merged, the best-first page's rows first. */
  rows: CandidateRow[];
  /** The ids each order gave, before merging. */
  bestIds: string[];
  oldestIds: string[];
}

/** A row as loadCandidates gives it, from a full one (a job the caller saw inserted). */
export function candidateOf(row: JobRow, counts: Pick<CandidateRow, 'unmet' | 'broken' | 'blocker'>): CandidateRow {
  // Not `{ ...counts }` plus the columns one by one: see storedRow for what that costs.
  const candidate = Object.assign({}, counts) as CandidateRow;
  for (const k of CANDIDATE_COLUMNS) (candidate as unknown as Record<string, unknown>)[k] = row[k];
  return candidate;
}

export function loadCandidatesNow(db: Db, limit: number): CandidatePage {
  const st = statementsOf(db);
  const columns = CANDIDATE_COLUMNS.join(', ');
  const best = st.prepare(`select ${columns} from jobs where status = ? order by priority, created_at, id limit ?`).all('PENDING', limit) as CandidateRow[];
  const oldest = st.prepare(`select ${columns} from jobs where status = ? order by created_at, id limit ?`).all('PENDING', Math.ceil(limit / 5)) as CandidateRow[];
  const candidates = new Map<string, CandidateRow>();
  for (const row of [...best, ...oldest]) if (!candidates.has(row.id)) candidates.set(row.id, row);
  countDependencies(st, candidates);
  return { rows: [...candidates.values()], bestIds: best.map((r) => r.id), oldestIds: oldest.map((r) => r.id) };
}

/**
 * The next `limit` pending jobs in the best-first order after `after`
 * (priority, created_at, id): a page that continues one loadCandidates read.
 */
export function loadCandidatesAfterNow(db: Db, after: Pick<JobRow, 'priority' | 'created_at' | 'id'>, limit: number): CandidateRow[] {
  const st = statementsOf(db);
  const rows = st
    .prepare(`select ${CANDIDATE_COLUMNS.join(', ')} from jobs where status = ? and (priority, created_at, id) > (?, ?, ?) order by priority, created_at, id limit ?`)
    .all('PENDING', after.priority, after.created_at, after.id, limit) as CandidateRow[];
  const candidates = new Map(rows.map((r) => [r.id, r]));
  countDependencies(st, candidates);
  return rows;
}

/** Fills in each candidate's dependency counts. */
function countDependencies(st: ReturnType<typeof statementsOf>, candidates: Map<string, CandidateRow>): void {
  for (const row of candidates.values()) {
    row.unmet = 0;
    row.broken = 0;
    row.blocker = null;
  }
  if (candidates.size === 0) return;
  const deps = st
    .prepare('select d.job_id, p.id, p.status, p.settle_plan from job_dependencies as d inner join jobs as p on p.id = d.depends_on_id where d.job_id in (select value from json_each(?))')
    .all(JSON.stringify([...candidates.keys()])) as { job_id: string; id: string; status: string; settle_plan: string | null }[];
  for (const dep of deps) {
    const candidate = candidates.get(dep.job_id)!;
    // A parent counts as done once its outputs are settled in the outbox.
    if (dep.status === 'COMPLETED' && dep.settle_plan === null) continue;
    candidate.unmet += 1;
    candidate.blocker ??= dep.id;
    if (dep.status === 'FAILED' || dep.status === 'CANCELLED') candidate.broken += 1;
  }
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
  const row = statementsOf(db).prepare('select id from jobs where source_path = ? and size_bytes = ? and mtime_ms = ? limit 1').get(sourcePath, sizeBytes, mtimeMs) as { id: string } | undefined;
  return row?.id;
}

/** Sets a job's outputs on the caller's transaction. */
export function replaceOutputsNow(db: Db, jobId: string, outputs: readonly JobOutput[]): void {
  const st = statementsOf(db);
  st.prepare('delete from job_outputs where job_id = ?').run(jobId);
  const insert = st.prepare('insert into job_outputs (job_id, seq, path, size_bytes) values (?, ?, ?, ?)');
  outputs.forEach((o, seq) => insert.run(jobId, seq, o.path, o.sizeBytes));
}

export async function replaceOutputs(db: Db, jobId: string, outputs: readonly JobOutput[]): Promise<void> {
  await statementsOf(db).write(() => replaceOutputsNow(db, jobId, outputs));
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
