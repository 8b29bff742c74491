/**
 * Frozen: fewer index pages written per job. Every insert and every change
 * of status wrote a page of each index on `jobs` (eleven after 2026-11-25d),
 * and those pages were most of the cost of a commit (test/bench/queue-throughput.ts).
 *
 * - `jobs_created` and `jobs_status_created` are prefixes of `jobs_list`
 *   and `jobs_status_list` (2026-11-25d), which serve the same queries.
 * - `jobs_input_path` served no query.
 * - `jobs_duplicate` and `jobs_parent` only ever look up jobs that have a
 *   content hash or a parent, so they become partial indexes and a job
 *   without either costs them nothing.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('jobs_created').execute();
  await db.schema.dropIndex('jobs_status_created').execute();
  await db.schema.dropIndex('jobs_input_path').execute();
  await db.schema.dropIndex('jobs_duplicate').execute();
  await db.schema.createIndex('jobs_duplicate').on('jobs').columns(['profile', 'size_bytes', 'content_hash']).where(sql.ref('content_hash'), 'is not', null).execute();
  await db.schema.dropIndex('jobs_parent').execute();
  await db.schema.createIndex('jobs_parent').on('jobs').column('parent_id').where(sql.ref('parent_id'), 'is not', null).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('jobs_parent').execute();
  await db.schema.createIndex('jobs_parent').on('jobs').column('parent_id').execute();
  await db.schema.dropIndex('jobs_duplicate').execute();
  await db.schema.createIndex('jobs_duplicate').on('jobs').columns(['profile', 'size_bytes', 'content_hash']).execute();
  await db.schema.createIndex('jobs_input_path').on('jobs').columns(['input_path']).execute();
  await db.schema.createIndex('jobs_status_created').on('jobs').columns(['status', 'created_at']).execute();
  await db.schema.createIndex('jobs_created').on('jobs').columns(['created_at']).execute();
}
