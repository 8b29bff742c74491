/**
 * After its job, a source sits in `<inbox>/done/` or `<inbox>/failed/`.
 * A writer that paused longer than every check (a network copy stalled for
 * minutes) may start again and go on filling the file there, by the open
 * handle it still holds. Nobody looks in those folders for new work, so such
 * a change is logged where an operator sees it: the file was processed as it
 * was when taken, and the whole file must be dropped in again.
 *
 * One inotify watch per folder (fs.watch), no state per file: those folders
 * grow for months. Changes made over a network mount by other machines do
 * not reach inotify; the checks at claim and around each attempt are the
 * guard there.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../logger.js';

/** A file written on and on is reported once per this long. */
const REPORT_EVERY_MS = 60_000;
/** Spool's own note beside a failed source. */
const OWN_NOTE = /\.error\.txt$/;

export interface ResultWatch {
  close(): void;
}

export function watchResultFolder(dir: string, inbox: string, logger: Logger): ResultWatch | null {
  const reported = new Map<string, number>();
  let watcher: fs.FSWatcher;
  try {
    watcher = fs.watch(dir, { persistent: false });
  } catch (error) {
    logger.debug(`cannot watch ${dir} for late changes: ${(error as Error).message}`, { inbox });
    return null;
  }
  watcher.on('change', (type, name) => {
    if (type !== 'change' || typeof name !== 'string' || OWN_NOTE.test(name)) return;
    const file = path.join(dir, name);
    const now = performance.now();
    if (now - (reported.get(name) ?? Number.NEGATIVE_INFINITY) < REPORT_EVERY_MS) return;
    fs.lstat(file, (error, stat) => {
      if (error || !stat.isFile()) return;
      if (reported.size >= 1000) reported.clear();
      reported.set(name, now);
      logger.warn(
        `${file} changed after Spool had finished with it (now ${stat.size} bytes, modified ${stat.mtime.toISOString()}): ` +
          `it was processed as it was when taken. If a copy was still under way, drop the whole file into ${inbox} again.`,
        { inbox },
      );
    });
  });
  // The folder removed or unreadable: stop quietly; it is watched again when it comes back.
  watcher.on('error', () => watcher.close());
  return { close: () => watcher.close() };
}
