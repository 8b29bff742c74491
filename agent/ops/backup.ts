/**
 * `spool backup FILE`: a consistent copy of the agent's database while the
 * agent runs.
 *
 * SQLite's online backup API copies the pages under one read transaction, so
 * the copy is the database as of one moment, never a file torn between two
 * commits (which `cp` of a WAL database can be). The database is opened
 * read-only from this second process; WAL lets it read while the agent
 * writes. The copy is made under a temporary name, switched to rollback
 * journal mode so it is one self-contained file, checked with
 * `PRAGMA integrity_check`, flushed to disk, and only then renamed to FILE:
 * a FILE that exists is a whole, checked backup.
 */
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { coerceError, SpoolError } from '../errors.js';

export interface BackupResult {
  file: string;
  bytes: number;
  /** Rows in the copy's jobs table. */
  jobs: number;
}

/** Largest step the backup API accepts: after the first step, the rest is copied in one. */
const ALL_PAGES = 0x7fffffff;

export async function backupDatabase(source: string, target: string): Promise<BackupResult> {
  const file = path.resolve(target);
  if (fs.existsSync(file)) throw new SpoolError('BAD_USER_INPUT', `${file} already exists; choose a new name or remove it first`);
  if (!fs.existsSync(path.dirname(file))) throw new SpoolError('BAD_USER_INPUT', `folder ${path.dirname(file)} does not exist`);
  if (!fs.existsSync(source)) {
    throw new SpoolError('BAD_USER_INPUT', `no database at ${source}; is dataDir right (give the agent's --config)?`);
  }
  const sidecars = [`${source}-wal`, `${source}-shm`];
  const existedBefore = sidecars.filter((f) => fs.existsSync(f));
  const partial = `${file}.partial-${process.pid}`;
  let db: SQLite.Database | undefined;
  try {
    db = new SQLite(source, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    // Steps that leave the event loop between them would restart each time
    // the agent commits; one step holds a single read snapshot instead.
    await db.backup(partial, { progress: () => ALL_PAGES });
    db.close();
    db = undefined;
    const jobs = checkCopy(partial);
    const fd = fs.openSync(partial, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(partial, file);
    return { file, bytes: fs.statSync(file).size, jobs };
  } catch (error) {
    fs.rmSync(partial, { force: true });
    if (error instanceof SpoolError) throw error;
    throw new SpoolError('INTERNAL', `backup of ${source} failed: ${coerceError(error).message}`, { cause: error });
  } finally {
    db?.close();
    giveBackSidecars(source, sidecars.filter((f) => !existedBefore.includes(f)));
  }
}

/** Makes the copy one self-contained file, checks it, and counts its jobs. */
function checkCopy(file: string): number {
  const copy = new SQLite(file, { fileMustExist: true });
  try {
    copy.pragma('journal_mode = DELETE');
    const result = copy.pragma('integrity_check', { simple: true });
    if (result !== 'ok') throw new SpoolError('INTERNAL', `the copy failed its integrity check: ${String(result)}`);
    const row = copy.prepare('SELECT count(*) AS n FROM jobs').get() as { n: number };
    return row.n;
  } finally {
    copy.close();
  }
}

/**
 * A read-only connection to a WAL database creates its -wal and -shm files
 * when the agent is not running, and leaves them behind. Made by root (an
 * administrator running `spool backup`), they would belong to root, and the
 * agent, running as its own user, could no longer open its database. So they
 * are handed to the database file's owner.
 */
function giveBackSidecars(source: string, created: string[]): void {
  if (created.length === 0 || process.getuid?.() !== 0) return;
  let owner: fs.Stats;
  try {
    owner = fs.statSync(source);
  } catch {
    return;
  }
  for (const sidecar of created) {
    try {
      fs.chownSync(sidecar, owner.uid, owner.gid);
    } catch {
      // Gone already (the last connection removed it).
    }
  }
}
