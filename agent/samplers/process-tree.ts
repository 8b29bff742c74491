/**
 * CPU and memory of each running attempt's whole process tree: a command
 * may start helpers (a shell script running ffmpeg, a Python tool with
 * workers), and learned requirements must count them all.
 *
 * The tree is walked through /proc/<pid>/task/<tid>/children, which costs a
 * few reads per process in the tree; kernels built without
 * CONFIG_PROC_CHILDREN lack those files, and then one scan of every
 * /proc/<pid>/stat gives the parent links instead. pidusage samples the
 * pids found. Its CPU figure is the average since its previous call for
 * that pid, so a pid seen for the first time reads 0 cores.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import pidusage from 'pidusage';
import { childrenByParent, collectTree, parseChildren, parsePidStat } from './proc-parse.js';

export interface TreeUsage {
  rootPid: number;
  /** The root and its live descendants; empty when the root has exited. */
  pids: number[];
  /** CPU cores in use by the tree (1.5 = one and a half cores busy). */
  cpuCores: number;
  rssMb: number;
}

export interface ProcessTreeOptions {
  /** @default '/proc' (tests point it elsewhere) */
  procRoot?: string;
  /** @default pidusage */
  usage?: (pids: number[]) => Promise<Record<string, { cpu: number; memory: number } | null | undefined>>;
}

export async function processTreeUsage(rootPids: readonly number[], options: ProcessTreeOptions = {}): Promise<TreeUsage[]> {
  const proc = options.procRoot ?? '/proc';
  const usage = options.usage ?? ((pids: number[]) => pidusage(pids));
  const trees: { rootPid: number; pids: number[] }[] = [];
  for (const root of rootPids) {
    const alive = await exists(path.join(proc, String(root)));
    trees.push({ rootPid: root, pids: alive ? await treeOf(proc, root) : [] });
  }

  const all = [...new Set(trees.flatMap((t) => t.pids))];
  let stats: Awaited<ReturnType<NonNullable<ProcessTreeOptions['usage']>>> = {};
  if (all.length > 0) {
    try {
      stats = await usage(all);
    } catch {
      // A lone pid ended between the walk and the sample; for several,
      // pidusage leaves the ended ones out instead of failing.
    }
  }
  return trees.map(({ rootPid, pids }) => {
    const live = pids.filter((pid) => stats[pid]);
    const cpu = live.reduce((sum, pid) => sum + stats[pid]!.cpu, 0);
    const memory = live.reduce((sum, pid) => sum + stats[pid]!.memory, 0);
    return { rootPid, pids: live, cpuCores: cpu / 100, rssMb: memory / 2 ** 20 };
  });
}

/** The root and its descendants, breadth first, each pid once (pids are reused while the tree is read). */
async function treeOf(proc: string, root: number): Promise<number[]> {
  const seen = new Set([root]);
  const queue = [root];
  for (let i = 0; i < queue.length; i++) {
    const children = await readTaskChildren(proc, queue[i]!);
    if (children === 'unsupported') {
      const byParent = await scanParents(proc);
      return collectTree(root, (pid) => byParent.get(pid) ?? []);
    }
    for (const child of children) {
      if (seen.has(child)) continue;
      seen.add(child);
      queue.push(child);
    }
  }
  return queue;
}

/** Children of every thread of `pid`; [] when it has exited; 'unsupported' without CONFIG_PROC_CHILDREN. */
async function readTaskChildren(proc: string, pid: number): Promise<number[] | 'unsupported'> {
  let tids: string[];
  try {
    tids = await fs.readdir(path.join(proc, String(pid), 'task'));
  } catch {
    return [];
  }
  const children: number[] = [];
  for (const tid of tids) {
    try {
      children.push(...parseChildren(await fs.readFile(path.join(proc, String(pid), 'task', tid, 'children'), 'utf8')));
    } catch {
      // A thread that ended since the listing has no folder; a kernel
      // without the feature has the folder but not the file.
      if (await exists(path.join(proc, String(pid), 'task', tid))) return 'unsupported';
    }
  }
  return children;
}

async function scanParents(proc: string): Promise<Map<number, number[]>> {
  const pairs: { pid: number; ppid: number }[] = [];
  for (const entry of await fs.readdir(proc)) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const pair = parsePidStat(await fs.readFile(path.join(proc, entry, 'stat'), 'utf8'));
      if (pair) pairs.push(pair);
    } catch {
      // Gone since the listing.
    }
  }
  return childrenByParent(pairs);
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}
