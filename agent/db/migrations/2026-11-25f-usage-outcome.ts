/**
 * Frozen: attempts that died record usage too. Their peak VRAM is a floor on
 * what the profile needs (agent/scheduler/estimates.ts); without a row, a
 * profile that under-declares its VRAM kept being admitted on its
 * declaration and kept running the card out of memory. `outcome` tells
 * those rows from completed ones, which alone teach run time, CPU and output
 * size. Rows written before this migration are all completed attempts.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('profile_usage')
    .addColumn('outcome', 'text', (c) => c.notNull().defaultTo(sql`'completed'`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('profile_usage').dropColumn('outcome').execute();
}
