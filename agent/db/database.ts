/**
 * Opens the agent's one SQLite file and brings its schema up to date.
 */
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type Migration } from 'kysely';
import { SpoolError } from '../errors.js';
import * as candidatesByAge from './migrations/2026-11-25b-candidates-by-age.js';
import * as initial from './migrations/2026-11-25-initial.js';
import * as sourcePath from './migrations/2026-11-25c-jobs-source-path.js';
import * as jobList from './migrations/2026-11-25d-job-list.js';
import * as leanJobIndexes from './migrations/2026-11-25e-lean-job-indexes.js';
import * as usageOutcome from './migrations/2026-11-25f-usage-outcome.js';
import { createCheckpointer } from './checkpointer.js';
import { attachStatements } from './statements.js';
import type { Database } from './tables.js';

/** Frozen, date-named migrations, applied in name order. */
const MIGRATIONS: Record<string, Migration> = {
  '2026-11-25-initial': initial,
  '2026-11-25b-candidates-by-age': candidatesByAge,
  '2026-11-25c-jobs-source-path': sourcePath,
  '2026-11-25d-job-list': jobList,
  '2026-11-25e-lean-job-indexes': leanJobIndexes,
  '2026-11-25f-usage-outcome': usageOutcome,
};

export type Db = Kysely<Database>;

export interface OpenedDatabase {
  db: Db;
  /** The raw handle, for the online backup and pragmas. */
  sqlite: SQLite.Database;
  close(): Promise<void>;
}

export async function openDatabase(file: string): Promise<OpenedDatabase> {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  // synchronous=NORMAL under WAL: a commit is durable against a crash of the
  // agent process (the WAL is in the OS page cache), and the file is never
  // corrupted. A power cut or kernel panic can lose the last transactions
  // before the next WAL sync. Start-up reconciliation covers what that can
  // lose: a claim whose row vanished is re-created from its work folder's
  // claim.json, a finished job that reverts to RUNNING is run again (outputs
  // of the lost run may then appear twice in the outbox). FULL would fsync
  // every state change, capping the queue near the disk's fsync rate.
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const check = sqlite.pragma('quick_check', { simple: true });
  if (check !== 'ok') {
    sqlite.close();
    throw new SpoolError('INTERNAL', `database ${file} failed its integrity check (${String(check)}); restore it from a backup (spool backup)`);
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => MIGRATIONS },
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    await db.destroy();
    throw new SpoolError('INTERNAL', `database migration ${failed?.migrationName ?? ''} failed: ${(error as Error | undefined)?.message ?? 'unknown error'}`, {
      cause: error,
    });
  }
  const checkpointer = createCheckpointer(sqlite, file);
  const statements = attachStatements(db, sqlite, { committed: checkpointer.committed });
  return {
    db,
    sqlite,
    close: async () => {
      await statements.drain();
      await checkpointer.stop();
      await db.destroy();
    },
  };
}
