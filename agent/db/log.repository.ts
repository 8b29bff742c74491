/** Job log lines: appended in batches, capped per job (the newest are kept). */
import type { Db } from './database.js';
import { statementsOf } from './statements.js';
import type { LogRow } from './tables.js';

export interface NewLogLine {
  jobId: string;
  at: number;
  stream: string;
  line: string;
}

/** Appends lines on the caller's transaction, then trims each job they belong to to its newest `maxPerJob`. */
export function appendLogLinesNow(db: Db, lines: readonly NewLogLine[], maxPerJob: number): void {
  if (lines.length === 0) return;
  const st = statementsOf(db);
  const insert = st.prepare('insert into job_logs (job_id, at, stream, line) values (?, ?, ?, ?)');
  for (const l of lines) insert.run(l.jobId, l.at, l.stream, l.line);
  const cutoffOf = st.prepare('select id from job_logs where job_id = ? order by id desc limit 1 offset ?');
  const trim = st.prepare('delete from job_logs where job_id = ? and id <= ?');
  for (const jobId of new Set(lines.map((l) => l.jobId))) {
    const cutoff = cutoffOf.get(jobId, maxPerJob) as { id: number } | undefined;
    if (cutoff) trim.run(jobId, cutoff.id);
  }
}

export async function appendLogLines(db: Db, lines: readonly NewLogLine[], maxPerJob: number): Promise<void> {
  if (lines.length === 0) return;
  await statementsOf(db).write(() => appendLogLinesNow(db, lines, maxPerJob));
}

/** The last `last` lines of a job, oldest first. */
export async function lastLogLines(db: Db, jobId: string, last: number): Promise<LogRow[]> {
  const rows = await db.selectFrom('job_logs').selectAll().where('job_id', '=', jobId).orderBy('id', 'desc').limit(last).execute();
  return rows.reverse();
}
