/** Frozen: the first schema. Change the schema with a new dated migration, never by editing this one. */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('profile', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('priority', 'integer', (c) => c.notNull())
    .addColumn('input_path', 'text', (c) => c.notNull())
    .addColumn('source_path', 'text', (c) => c.notNull())
    .addColumn('inbox_path', 'text')
    .addColumn('outbox', 'text', (c) => c.notNull())
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('size_bytes', 'integer', (c) => c.notNull())
    .addColumn('mtime_ms', 'integer', (c) => c.notNull())
    .addColumn('content_hash', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('run_after', 'integer')
    .addColumn('waiting_reason', 'text')
    .addColumn('paused_from', 'text')
    .addColumn('progress', 'real')
    .addColumn('fps', 'real')
    .addColumn('speed', 'real')
    .addColumn('eta_seconds', 'real')
    .addColumn('gpu_index', 'integer')
    .addColumn('encoder', 'text')
    .addColumn('error_kind', 'text')
    .addColumn('error', 'text')
    .addColumn('result_json', 'text')
    .addColumn('parent_id', 'text')
    .addColumn('settle_plan', 'text')
    .addColumn('created_at', 'integer', (c) => c.notNull())
    .addColumn('started_at', 'integer')
    .addColumn('finished_at', 'integer')
    .addColumn('updated_at', 'integer', (c) => c.notNull())
    .execute();
  // The scheduler's query: pending jobs by priority then age.
  await db.schema.createIndex('jobs_status_priority').on('jobs').columns(['status', 'priority', 'created_at']).execute();
  // The console's list: newest first, optionally by status.
  await db.schema.createIndex('jobs_created').on('jobs').columns(['created_at']).execute();
  await db.schema.createIndex('jobs_duplicate').on('jobs').columns(['profile', 'size_bytes', 'content_hash']).execute();
  await db.schema.createIndex('jobs_input_path').on('jobs').columns(['input_path']).execute();
  await db.schema
    .createIndex('jobs_unsettled')
    .on('jobs')
    .column('id')
    .where(sql.ref('settle_plan'), 'is not', null)
    .execute();

  await db.schema
    .createTable('job_dependencies')
    .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
    .addColumn('depends_on_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('job_dependencies_pk', ['job_id', 'depends_on_id'])
    .execute();
  await db.schema.createIndex('job_dependencies_reverse').on('job_dependencies').column('depends_on_id').execute();

  await db.schema
    .createTable('job_outputs')
    .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('size_bytes', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('job_outputs_pk', ['job_id', 'seq'])
    .execute();

  await db.schema
    .createTable('job_attempts')
    .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
    .addColumn('number', 'integer', (c) => c.notNull())
    .addColumn('started_at', 'integer', (c) => c.notNull())
    .addColumn('finished_at', 'integer')
    .addColumn('outcome', 'text')
    .addColumn('exit_code', 'integer')
    .addColumn('signal', 'text')
    .addColumn('error_kind', 'text')
    .addColumn('error', 'text')
    .addColumn('encoder', 'text')
    .addColumn('gpu_index', 'integer')
    .addColumn('peak_rss_bytes', 'integer')
    .addColumn('cpu_seconds', 'real')
    .addPrimaryKeyConstraint('job_attempts_pk', ['job_id', 'number'])
    .execute();

  await db.schema
    .createTable('job_logs')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
    .addColumn('at', 'integer', (c) => c.notNull())
    .addColumn('stream', 'text', (c) => c.notNull())
    .addColumn('line', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('job_logs_job').on('job_logs').columns(['job_id', 'id']).execute();

  await db.schema
    .createTable('profile_usage')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('profile', 'text', (c) => c.notNull())
    .addColumn('job_id', 'text', (c) => c.notNull())
    .addColumn('recorded_at', 'integer', (c) => c.notNull())
    .addColumn('wall_seconds', 'real', (c) => c.notNull())
    .addColumn('cpu_seconds', 'real')
    .addColumn('peak_rss_bytes', 'integer')
    .addColumn('peak_vram_mb', 'integer')
    .addColumn('input_bytes', 'integer', (c) => c.notNull())
    .addColumn('output_bytes', 'integer', (c) => c.notNull())
    .addColumn('media_seconds', 'real')
    .addColumn('encoder', 'text')
    .execute();
  await db.schema.createIndex('profile_usage_profile').on('profile_usage').columns(['profile', 'recorded_at']).execute();

  await db.schema
    .createTable('agent_state')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['agent_state', 'profile_usage', 'job_logs', 'job_attempts', 'job_outputs', 'job_dependencies', 'jobs']) {
    await db.schema.dropTable(table).execute();
  }
}
