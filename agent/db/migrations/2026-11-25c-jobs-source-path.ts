/** Frozen: every claim asks whether a file is a source this agent already kept in place; without this index that scans the whole table. */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('jobs_source_path').on('jobs').column('source_path').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('jobs_source_path').execute();
}
