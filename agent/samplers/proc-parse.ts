/**
 * Pure parsers for the /proc files the system samplers read (Linux). They
 * take the file's text and never touch the disk, so they are tested on
 * captured text; the samplers around them do the reading.
 */

/** Cumulative CPU time of the whole machine, in clock ticks, from the `cpu ` line of /proc/stat. */
export interface CpuTimes {
  busy: number;
  total: number;
}

export interface MemInfo {
  memTotalMb: number;
  /** The kernel's estimate of memory available for new work without swapping. */
  memAvailableMb: number;
}

/**
 * The aggregate `cpu` line: user nice system idle iowait irq softirq steal
 * guest guest_nice. Idle and iowait are idle time; guest time is already
 * counted in user and nice, so it is left out of the total.
 */
export function parseProcStat(text: string): CpuTimes | null {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return null;
  const values = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (values.length < 4 || values.some((v) => !Number.isFinite(v))) return null;
  const total = values.reduce((sum, v) => sum + v, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

/** Share of the machine's CPU time that was busy between two reads (0–1); null when no time passed. */
export function cpuBusyShare(before: CpuTimes, after: CpuTimes): number | null {
  const total = after.total - before.total;
  if (total <= 0) return null;
  return Math.min(1, Math.max(0, (after.busy - before.busy) / total));
}

/**
 * MemTotal and MemAvailable, in MiB. Kernels before 3.14 have no
 * MemAvailable; MemFree + Buffers + Cached is the estimate `free` used then.
 */
export function parseMeminfo(text: string): MemInfo | null {
  const kb = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(\w+):\s+(\d+)\s*kB/.exec(line);
    if (match) kb.set(match[1]!, Number(match[2]));
  }
  const total = kb.get('MemTotal');
  if (total === undefined) return null;
  const available = kb.get('MemAvailable') ?? (kb.get('MemFree') ?? 0) + (kb.get('Buffers') ?? 0) + (kb.get('Cached') ?? 0);
  return { memTotalMb: Math.floor(total / 1024), memAvailableMb: Math.floor(available / 1024) };
}

/**
 * pid and parent pid from /proc/<pid>/stat. The command name sits in
 * parentheses and may itself hold spaces and `)`, so the fields are read
 * after the last `)`.
 */
export function parsePidStat(text: string): { pid: number; ppid: number } | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const pid = Number(text.slice(0, text.indexOf(' ')));
  const ppid = Number(text.slice(close + 2).split(' ')[1]);
  return Number.isInteger(pid) && Number.isInteger(ppid) ? { pid, ppid } : null;
}

/** The pids in a /proc/<pid>/task/<tid>/children file ("123 456 "). */
export function parseChildren(text: string): number[] {
  return text
    .trim()
    .split(/\s+/)
    .filter((s) => /^\d+$/.test(s))
    .map(Number);
}

/**
 * A root and all its descendants, breadth first. `childrenOf` may list a
 * pid twice or loop (pids are reused while the tree is read); each pid is
 * taken once.
 */
export function collectTree(root: number, childrenOf: (pid: number) => readonly number[]): number[] {
  const seen = new Set<number>([root]);
  const queue = [root];
  for (let i = 0; i < queue.length; i++) {
    for (const child of childrenOf(queue[i]!)) {
      if (seen.has(child)) continue;
      seen.add(child);
      queue.push(child);
    }
  }
  return queue;
}

/** parent → children, from the (pid, ppid) pairs of every /proc/<pid>/stat. */
export function childrenByParent(pairs: readonly { pid: number; ppid: number }[]): Map<number, number[]> {
  const map = new Map<number, number[]>();
  for (const { pid, ppid } of pairs) {
    const list = map.get(ppid);
    if (list) list.push(pid);
    else map.set(ppid, [pid]);
  }
  return map;
}
