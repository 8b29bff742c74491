/**
 * Which failed writes mean "the database cannot be written now" (its disk
 * full, an I/O error, a read-only remount), as opposed to a bug in one
 * statement. Such a failure is the box's, not a job's: the agent stops
 * taking work until a write commits again (see database-health.ts).
 *
 * better-sqlite3 throws a SqliteError whose `code` is SQLite's extended
 * result code. SQLite turns ENOSPC from write() into SQLITE_FULL, but from
 * fsync, ftruncate or growing the WAL index it reports SQLITE_IOERR_*
 * (the errno is not passed on), so an I/O error is a write fault too; the
 * free space on the disk then tells which it was. Node's own ENOSPC, EDQUOT
 * and EROFS come from the work area beside the database (same disk).
 */
import { errnoCode } from '../errors.js';

export type WriteFaultKind = 'full' | 'io' | 'readonly';

/** What kind of write fault `error` is, or null when it is not one. */
export function databaseWriteFault(error: unknown): WriteFaultKind | null {
  const code = errnoCode(error);
  if (code === undefined) return null;
  if (code.startsWith('SQLITE_')) {
    if (code === 'SQLITE_FULL') return 'full';
    // Out of memory is this process's trouble, not the disk's.
    if (code === 'SQLITE_IOERR_NOMEM') return null;
    if (code === 'SQLITE_IOERR' || code.startsWith('SQLITE_IOERR_')) return 'io';
    // The -wal or -shm file could not be made (no space, no inode left).
    if (code === 'SQLITE_CANTOPEN') return 'io';
    if (code === 'SQLITE_READONLY' || code.startsWith('SQLITE_READONLY_')) return 'readonly';
    return null;
  }
  if (code === 'ENOSPC' || code === 'EDQUOT') return 'full';
  if (code === 'EROFS') return 'readonly';
  return null;
}

/** Below this much free space an I/O error is taken to be the disk running out. */
const NEARLY_FULL_MB = 1;

/** The cause in an operator's words: "its disk is full (0.0 MB free)". */
export function describeWriteFault(kind: WriteFaultKind, code: string | undefined, freeMb: number | null): string {
  const free = freeMb === null ? '' : ` (${freeMb.toFixed(1)} MB free)`;
  if (kind === 'full' || (kind === 'io' && freeMb !== null && freeMb < NEARLY_FULL_MB)) return code === 'EDQUOT' ? `its disk quota is used up${free}` : `its disk is full${free}`;
  if (kind === 'readonly') return `its filesystem is read-only (${code ?? 'EROFS'})`;
  return `disk I/O error (${code ?? 'SQLITE_IOERR'})${free}`;
}
