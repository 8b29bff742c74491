/**
 * Processes a dead agent left running. Every attempt runs in its own process
 * group (so that pause and cancel reach its children), which also means that
 * when the agent dies without a graceful stop (SIGKILL, the OOM killer, a
 * crash outside systemd's cgroup) its ffmpeg or command keeps going: it holds
 * CPU, memory and maybe an NVENC session, and it can still write into the
 * staging folder of the job's next attempt, whose outputs it would then
 * join. Start-up reconciliation therefore kills, before it queues such a job
 * again, every process that names the job's work or staging folder in its
 * argv or works inside one, with its whole group when it leads it.
 *
 * Found through /proc, so Linux only; elsewhere nothing is found. The folders
 * carry the job id, so a process of anyone else is never taken for ours.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface LeftoverProcess {
  pid: number;
  pgid: number;
  /** Its argv, joined, for the log. */
  command: string;
  /** Still alive after the kill (another user's process): left as it is. */
  survived?: boolean;
}

/** Live processes (zombies excluded) whose argv mentions one of `folders` or whose cwd is inside one. */
export function findLeftoverProcesses(folders: readonly string[]): LeftoverProcess[] {
  if (folders.length === 0) return [];
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  const found: LeftoverProcess[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const stat = readStat(pid);
    if (!stat || stat.state === 'Z') continue;
    let argv: string[];
    try {
      argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
    } catch {
      continue; // ended since the listing, or not ours to read
    }
    let cwd: string | null = null;
    try {
      cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      // Another user's process.
    }
    const named = argv.some((arg) => folders.some((folder) => arg.includes(folder)));
    const inside = cwd !== null && folders.some((folder) => cwd === folder || cwd.startsWith(folder + path.sep));
    if (named || inside) found.push({ pid, pgid: stat.pgid, command: argv.join(' ') });
  }
  return found;
}

/**
 * Kills what `findLeftoverProcesses` finds (SIGKILL: there is no attempt left
 * to finish cleanly) and waits up to `timeoutMs` until they are gone, so that
 * none of them writes after the caller removes their folders.
 */
export async function killLeftoverProcesses(folders: readonly string[], timeoutMs = 2000): Promise<LeftoverProcess[]> {
  const leftovers = findLeftoverProcesses(folders);
  if (leftovers.length === 0) return leftovers;
  const ownGroup = readStat(process.pid)?.pgid;
  for (const p of leftovers) {
    // An attempt's process leads its own group; a group whose leader has ended is an attempt's too.
    // Anything else (a process an operator started in a shell) is killed alone.
    const ownsGroup = p.pgid !== ownGroup && p.pgid > 1 && (p.pgid === p.pid || readStat(p.pgid) === null);
    try {
      process.kill(ownsGroup ? -p.pgid : p.pid, 'SIGKILL');
    } catch {
      // Ended meanwhile, or not ours to kill (reported by the wait below).
    }
  }
  const deadline = performance.now() + timeoutMs;
  while (leftovers.some((p) => isAlive(p.pid)) && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return leftovers.map((p) => ({ ...p, survived: isAlive(p.pid) }));
}

function isAlive(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== null && stat.state !== 'Z';
}

/** State and process group from /proc/<pid>/stat; the command name may hold spaces and parentheses. */
function readStat(pid: number): { state: string; pgid: number } | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, , pgrp] = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return state && pgrp ? { state, pgid: Number(pgrp) } : null;
  } catch {
    return null;
  }
}
