/**
 * Frozen: the API's job list and queue counts on a long history.
 *
 * - `jobs_list` and `jobs_status_list` serve "newest first" pages with a
 *   (created_at, id) cursor, with and without a status filter, as index
 *   range scans that stop after one page.
 * - `jobs_parent` finds a page's follow-on jobs without a scan.
 * - `job_status_counts`, kept by triggers, answers `queueStats` and the
 *   status-only `totalCount` by reading six rows instead of counting a
 *   million. The triggers run inside the statement that changes a job, so the
 *   counts can never drift from the rows.
 */
import { sql, type Kysely } from 'kysely';

const STATUSES = ['PENDING', 'RUNNING', 'PAUSED', 'COMPLETED', 'FAILED', 'CANCELLED'];

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('jobs_list').on('jobs').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('jobs_status_list').on('jobs').columns(['status', 'created_at', 'id']).execute();
  await db.schema.createIndex('jobs_parent').on('jobs').column('parent_id').execute();
  await db.schema
    .createTable('job_status_counts')
    .addColumn('status', 'text', (c) => c.primaryKey())
    .addColumn('n', 'integer', (c) => c.notNull())
    .execute();
  for (const status of STATUSES) {
    await sql`insert into job_status_counts (status, n) values (${status}, (select count(*) from jobs where status = ${status}))`.execute(db);
  }
  await sql`create trigger jobs_count_insert after insert on jobs begin
    update job_status_counts set n = n + 1 where status = new.status;
  end`.execute(db);
  await sql`create trigger jobs_count_delete after delete on jobs begin
    update job_status_counts set n = n - 1 where status = old.status;
  end`.execute(db);
  await sql`create trigger jobs_count_update after update of status on jobs when old.status <> new.status begin
    update job_status_counts set n = n - 1 where status = old.status;
    update job_status_counts set n = n + 1 where status = new.status;
  end`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const trigger of ['jobs_count_insert', 'jobs_count_delete', 'jobs_count_update']) await sql`drop trigger ${sql.id(trigger)}`.execute(db);
  await db.schema.dropTable('job_status_counts').execute();
  await db.schema.dropIndex('jobs_parent').execute();
  await db.schema.dropIndex('jobs_status_list').execute();
  await db.schema.dropIndex('jobs_list').execute();
}
