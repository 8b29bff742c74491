/** Job log lines: appended in batches, capped per job (the newest are kept). */
import type { Db } from './database.js';
import type { LogRow } from './tables.js';

export interface NewLogLine {
  jobId: string;
  at: number;
  stream: string;
  line: string;
}

export async function appendLogLines(db: Db, lines: readonly NewLogLine[], maxPerJob: number): Promise<void> {
  if (lines.length === 0) return;
  await db.transaction().execute(async (trx) => {
    // SQLite caps bound parameters per statement; 4 per row.
    for (let i = 0; i < lines.length; i += 200) {
      await trx
        .insertInto('job_logs')
        .values(lines.slice(i, i + 200).map((l) => ({ job_id: l.jobId, at: l.at, stream: l.stream, line: l.line })))
        .execute();
    }
    for (const jobId of new Set(lines.map((l) => l.jobId))) {
      const cutoff = await trx
        .selectFrom('job_logs')
        .select('id')
        .where('job_id', '=', jobId)
        .orderBy('id', 'desc')
        .offset(maxPerJob)
        .limit(1)
        .executeTakeFirst();
      if (cutoff) await trx.deleteFrom('job_logs').where('job_id', '=', jobId).where('id', '<=', cutoff.id).execute();
    }
  });
}

/** The last `last` lines of a job, oldest first. */
export async function lastLogLines(db: Db, jobId: string, last: number): Promise<LogRow[]> {
  const rows = await db.selectFrom('job_logs').selectAll().where('job_id', '=', jobId).orderBy('id', 'desc').limit(last).execute();
  return rows.reverse();
}
