/**
 * Which processes are alive, read from /proc (Linux): the crash tests use it
 * to find ffmpeg processes a killed agent left behind.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface ProcessInfo {
  pid: number;
  /** argv as the process was started. */
  argv: string[];
  /** Its working directory, or null when it cannot be read. */
  cwd: string | null;
  /** Start time in clock ticks since boot: with the pid, it names one process even when pids are reused. */
  startTicks: number;
}

/**
 * Live (not zombie) processes whose argv or working directory mentions
 * `text`, other than this one. A zombie has an empty cmdline, so it is
 * never listed: it runs nothing and writes nothing any more.
 */
export function processesMentioning(text: string, exclude: readonly number[] = []): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid || exclude.includes(pid)) continue;
    let argv: string[];
    try {
      argv = fs.readFileSync(path.join('/proc', entry, 'cmdline'), 'utf8').split('\0').filter((a) => a !== '');
    } catch {
      continue; // gone since the listing
    }
    if (argv.length === 0) continue;
    let cwd: string | null = null;
    try {
      cwd = fs.readlinkSync(path.join('/proc', entry, 'cwd'));
    } catch {
      // Another user's process, or gone.
    }
    const startTicks = readStartTicks(pid);
    if (startTicks === null) continue;
    if (argv.some((a) => a.includes(text)) || (cwd !== null && cwd.includes(text))) found.push({ pid, argv, cwd, startTicks });
  }
  return found;
}

/** Whether the process `p` (the same one: pid and start time) is alive and not a zombie. */
export function isRunning(p: Pick<ProcessInfo, 'pid' | 'startTicks'>): boolean {
  const fields = readStatFields(p.pid);
  if (!fields) return false;
  const state = fields[0];
  return state !== 'Z' && state !== 'X' && Number(fields[19]) === p.startTicks;
}

/** The fields of /proc/<pid>/stat after the command name (state first), or null. */
function readStatFields(pid: number): string[] | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

function readStartTicks(pid: number): number | null {
  const fields = readStatFields(pid);
  return fields ? Number(fields[19]) : null;
}

/** Short description for failure messages. */
export function describeProcess(p: ProcessInfo): string {
  return `${p.pid}: ${p.argv.join(' ').slice(0, 300)}`;
}
