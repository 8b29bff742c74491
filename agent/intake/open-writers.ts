/**
 * Whether some process still holds a file open for writing. A copy that
 * stalls for longer than the stability window (a slow network share, a
 * paused upload) keeps its file open, and size and mtime alone cannot tell
 * it from a finished file: half a Matroska file is readable media, and would
 * be processed as if it were whole. So a file that a writer still holds is
 * not complete, however long it has been still.
 *
 * Read from /proc (Linux), for the processes this user may inspect (all of
 * them as root). Elsewhere, and for writers on other machines (an NFS or SMB
 * client), nothing is found and the stability window and the executor's
 * before/after checks are the guards.
 *
 * One look at /proc serves every file asked about within `maxAgeMs`, so two
 * thousand files settling together cost a few scans, not two thousand.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface OpenWriters {
  /** The pid of a process holding `file` open for writing, or null. */
  holder(file: string): number | null;
}

/** Open-for-writing files under `roots` (the inboxes), looked up afresh at most every `maxAgeMs`. */
export function createOpenWriters(roots: readonly string[], maxAgeMs = 200): OpenWriters {
  // /proc shows real paths: an inbox reached through a symlink is matched by both names.
  const prefixes = [...new Set(roots.flatMap((r) => [path.resolve(r), realpath(r)]))].map((r) => r + path.sep);
  let snapshot: Map<string, number> | null = null;
  let takenAt = Number.NEGATIVE_INFINITY;

  const scan = (): Map<string, number> => {
    const found = new Map<string, number>();
    let pids: string[];
    try {
      pids = fs.readdirSync('/proc');
    } catch {
      return found;
    }
    for (const pid of pids) {
      if (!/^\d+$/.test(pid)) continue;
      let fds: string[];
      try {
        fds = fs.readdirSync(`/proc/${pid}/fd`);
      } catch {
        continue; // ended, or another user's process
      }
      for (const fd of fds) {
        let target: string;
        try {
          target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          continue;
        }
        if (!prefixes.some((p) => target.startsWith(p))) continue;
        if (isOpenForWriting(pid, fd)) found.set(target, Number(pid));
      }
    }
    return found;
  };

  return {
    holder(file) {
      const now = performance.now();
      if (snapshot === null || now - takenAt > maxAgeMs) {
        snapshot = scan();
        takenAt = now;
      }
      return snapshot.get(path.join(realpath(path.dirname(file)), path.basename(file))) ?? null;
    },
  };
}

function realpath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/** The access mode in /proc/<pid>/fdinfo/<fd> (`flags:` in octal): O_WRONLY or O_RDWR. */
function isOpenForWriting(pid: string, fd: string): boolean {
  try {
    const info = fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    const flags = /^flags:\s*([0-7]+)/m.exec(info)?.[1];
    return flags !== undefined && (Number.parseInt(flags, 8) & 0o3) !== 0;
  } catch {
    return false;
  }
}
