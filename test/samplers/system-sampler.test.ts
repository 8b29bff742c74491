/**
 * System samplers: the /proc parsers on captured text (pure), the sampler
 * over a /proc copy whose files the test rewrites, and the process-tree and
 * disk figures on this machine's real processes and filesystems.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { childrenByParent, collectTree, cpuBusyShare, parseChildren, parseMeminfo, parsePidStat, parseProcStat } from '../../agent/samplers/proc-parse.js';
import { processTreeUsage } from '../../agent/samplers/process-tree.js';
import { createSystemSampler, freeDiskMb } from '../../agent/samplers/system-sampler.js';

/** Captured from a 2-core Debian 12 box (Linux 6.x). */
const PROC_STAT = `cpu  408283 595 42500 230535 1577 0 728 797 0 0
cpu0 195320 287 20925 124527 625 0 301 412 0 0
cpu1 212962 307 21574 106008 951 0 427 385 0 0
intr 1234 0 0
ctxt 99
`;
const PROC_STAT_LATER = PROC_STAT.replace('cpu  408283 595 42500 230535 1577', 'cpu  408433 595 42550 231235 1677');
const MEMINFO = `MemTotal:       24683656 kB
MemFree:        23568816 kB
MemAvailable:   24053108 kB
Buffers:           19824 kB
Cached:           640964 kB
SwapCached:            0 kB
`;

const temps: string[] = [];
const children: { kill(signal: NodeJS.Signals): boolean }[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const dir of temps.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-system-sampler-'));
  temps.push(dir);
  return dir;
}

/** Writes `files` (relative path → text; a trailing / makes a folder) under a new folder standing in for /proc. */
function fakeProc(files: Record<string, string>): string {
  const root = tempDir();
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(root, name);
    fs.mkdirSync(name.endsWith('/') ? file : path.dirname(file), { recursive: true });
    if (!name.endsWith('/')) fs.writeFileSync(file, text);
  }
  return root;
}

describe('/proc parsers', () => {
  test('cpu line: idle and iowait are idle, guest time is not counted twice', () => {
    expect(parseProcStat(PROC_STAT)).toEqual({ busy: 452903, total: 685015 });
    // +150 user, +50 system, +700 idle, +100 iowait: 200 busy of 1000.
    expect(cpuBusyShare(parseProcStat(PROC_STAT)!, parseProcStat(PROC_STAT_LATER)!)).toBeCloseTo(0.2, 10);
  });

  test.each([
    ['no time passed', PROC_STAT, PROC_STAT, null],
    ['counters went back (a new boot)', PROC_STAT_LATER, PROC_STAT, null],
  ])('busy share is null when %s', (_, before, after, expected) => {
    expect(cpuBusyShare(parseProcStat(before)!, parseProcStat(after)!)).toBe(expected);
  });

  test.each(['', 'cpu0 1 2 3 4', 'cpu  a b c d', 'garbage'])('unreadable /proc/stat %j gives null', (text) => {
    expect(parseProcStat(text)).toBeNull();
  });

  test('meminfo, with MemAvailable and without (kernels before 3.14)', () => {
    expect(parseMeminfo(MEMINFO)).toEqual({ memTotalMb: 24105, memAvailableMb: 23489 });
    const old = MEMINFO.split('\n').filter((l) => !l.startsWith('MemAvailable')).join('\n');
    expect(parseMeminfo(old)).toEqual({ memTotalMb: 24105, memAvailableMb: Math.floor((23568816 + 19824 + 640964) / 1024) });
    expect(parseMeminfo('nonsense')).toBeNull();
  });

  test.each([
    ['11824 (cat) R 11819 11819 26188 0 -1 4194304 98 0 0 0 0', { pid: 11824, ppid: 11819 }],
    ['42 (my (odd) name) S 7 42 42 0 -1', { pid: 42, ppid: 7 }],
    ['43 (a b) c) Z 1 43', { pid: 43, ppid: 1 }],
    ['garbage', null],
  ])('pid stat %j', (text, expected) => {
    expect(parsePidStat(text)).toEqual(expected);
  });

  test('children files, trees with pid reuse loops, parent maps', () => {
    expect(parseChildren('123 456 \n')).toEqual([123, 456]);
    expect(parseChildren('')).toEqual([]);
    const kids: Record<number, number[]> = { 1: [2, 3], 2: [4], 4: [1, 2], 3: [] };
    expect(collectTree(1, (pid) => kids[pid] ?? [])).toEqual([1, 2, 3, 4]);
    expect(childrenByParent([{ pid: 2, ppid: 1 }, { pid: 3, ppid: 1 }, { pid: 4, ppid: 2 }])).toEqual(new Map([[1, [2, 3]], [2, [4]]]));
  });
});

describe('system sampler', () => {
  test('busy share from two reads of /proc/stat, memory from /proc/meminfo', async () => {
    const proc = fakeProc({ stat: PROC_STAT, meminfo: MEMINFO });
    const sampler = createSystemSampler({ procRoot: proc, firstSpanMs: 0 });
    // The first call reads twice; the file did not change, so no share yet.
    expect(await sampler.sampleNow()).toMatchObject({ cpuBusyShare: null, memTotalMb: 24105, memAvailableMb: 23489, cores: os.availableParallelism(), error: null });
    fs.writeFileSync(path.join(proc, 'stat'), PROC_STAT_LATER);
    expect((await sampler.sampleNow()).cpuBusyShare).toBeCloseTo(0.2, 10);
    expect(sampler.latest().cpuBusyShare).toBeCloseTo(0.2, 10);
  });

  test('an unreadable /proc is an error in the snapshot, not a throw', async () => {
    const sampler = createSystemSampler({ procRoot: path.join(tempDir(), 'missing'), firstSpanMs: 0 });
    expect((await sampler.sampleNow()).error).toMatch(/^cannot read /);
  });

  test('on this machine: a share between 0 and 1, and the loop keeps sampling', async () => {
    const sampler = createSystemSampler({ intervalMs: 20, firstSpanMs: 20 });
    sampler.start();
    const first = await sampler.sampleNow();
    expect(first.cpuBusyShare).toBeGreaterThanOrEqual(0);
    expect(first.cpuBusyShare).toBeLessThanOrEqual(1);
    expect(first.memAvailableMb).toBeGreaterThan(0);
    while (sampler.latest().at === first.at) await sampler.sampleNow();
    await sampler.stop();
  });
});

describe('process tree usage', () => {
  test('walks task/*/children through grandchildren and pid-reuse loops', async () => {
    const proc = fakeProc({ '20/task/20/children': '21 22 ', '20/task/25/children': '23', '21/task/21/children': '', '22/task/22/children': '', '23/task/23/children': '20 ' });
    const usage = async (pids: number[]) => Object.fromEntries(pids.map((pid) => [pid, { cpu: 50, memory: 2 ** 20 }]));
    expect(await processTreeUsage([20, 99], { procRoot: proc, usage })).toEqual([
      { rootPid: 20, pids: [20, 21, 22, 23], cpuCores: 2, rssMb: 4 },
      { rootPid: 99, pids: [], cpuCores: 0, rssMb: 0 },
    ]);
  });

  test('without CONFIG_PROC_CHILDREN it scans every /proc/<pid>/stat', async () => {
    const proc = fakeProc({
      '10/task/10/': '',
      '10/stat': '10 (agent) S 1 10 10',
      '11/stat': '11 (sh -c (x)) S 10 11 11',
      '12/stat': '12 (ffmpeg) R 11 12 12',
      '13/stat': '13 (other) S 1 13 13',
    });
    const usage = async () => ({ 10: { cpu: 0, memory: 0 }, 11: { cpu: 0, memory: 2 ** 20 }, 12: { cpu: 150, memory: 3 * 2 ** 20 } });
    expect(await processTreeUsage([10], { procRoot: proc, usage })).toEqual([{ rootPid: 10, pids: [10, 11, 12], cpuCores: 1.5, rssMb: 4 }]);
  });

  test('a real tree: a shell running a busy child and a sleeping one', async () => {
    const busy = `${JSON.stringify(process.execPath)} -e "for(;;){}"`;
    const root = spawn('/bin/sh', ['-c', `${busy} & sleep 60 & wait`], { stdio: 'ignore', detached: true });
    children.push({ kill: (s) => process.kill(-root.pid!, s) }, root);
    let tree = (await processTreeUsage([root.pid!]))[0]!;
    while (tree.pids.length < 3) tree = (await processTreeUsage([root.pid!]))[0]!;
    // pidusage reports the average since its previous call for each pid.
    await new Promise((resolve) => setTimeout(resolve, 500));
    tree = (await processTreeUsage([root.pid!]))[0]!;
    expect(tree.pids[0]).toBe(root.pid);
    expect(tree.pids).toHaveLength(3);
    expect(tree.cpuCores).toBeGreaterThan(0.3);
    expect(tree.rssMb).toBeGreaterThan(10);
  });
});

describe('free disk', () => {
  test('per path, with the device so paths on one filesystem are counted once', async () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'a'));
    const [a, parent, missing] = await freeDiskMb([path.join(dir, 'a'), dir, path.join(dir, 'missing')]);
    expect(a!.freeMb).toBeGreaterThan(0);
    expect(a!.device).toBe(parent!.device);
    expect(missing).toMatchObject({ freeMb: null, device: null, error: expect.stringMatching(/ENOENT/) });
  });
});
