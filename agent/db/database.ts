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

export interface OpenDatabaseOptions {
  /**
   * Hears every write that did not commit (group commit, the background
   * checkpoint), so the agent can tell a full disk from a bad statement.
   */
  onWriteError?: (error: unknown) => void;
}

export async function openDatabase(file: string, options: OpenDatabaseOptions = {}): Promise<OpenedDatabase> {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const sqlite = new SQLite(file);
  try {
    sqlite.pragma('journal_mode = WAL');
  } catch (error) {
    sqlite.close();
    // A file whose header is damaged (or that is not SQLite at all) fails here, before the check below can run.
    if (isCorruption(error)) throw corrupt(file, (error as Error).message, error);
    throw error;
  }
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
  let check: unknown;
  try {
    check = sqlite.pragma('quick_check', { simple: true });
  } catch (error) {
    if (!isCorruption(error)) {
      sqlite.close();
      throw error;
    }
    check = (error as Error).message;
  }
  if (check !== 'ok') {
    sqlite.close();
    throw corrupt(file, String(check));
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
  const checkpointer = createCheckpointer(sqlite, file, (message, code) => options.onWriteError?.(Object.assign(new Error(message), { code })));
  const statements = attachStatements(db, sqlite, { committed: checkpointer.committed, failed: options.onWriteError });
  return {
    db,
    sqlite,
    close: async () => {
      // On a full disk the last writes cannot commit; the file stays whole and start-up reconciliation redoes what they carried.
      await statements.drain().catch(() => undefined);
      await checkpointer.stop();
      await db.destroy();
    },
  };
}

function isCorruption(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB');
}

function corrupt(file: string, detail: string, cause?: unknown): SpoolError {
  return new SpoolError(
    'INTERNAL',
    `database ${file} failed its integrity check (${detail}); the agent does not start on a damaged database: restore the file from a backup made with "spool backup", or move it aside to start with an empty queue`,
    { cause },
  );
}
