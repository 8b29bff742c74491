/**
 * `spool doctor`: checks the machine against a config before the agent runs
 * on it, and says in one line per check what is fine, what will hold jobs
 * back (warn) and what stops the agent from working (fail). A failing check
 * is data, never an exception: the operator wants the whole list at once.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { SpoolConfig } from '../config/config.schema.js';
import { coerceError, errnoCode } from '../errors.js';
import { findOnPath, locateMediaTools, type MediaTools } from '../media/locate.js';

const execFileAsync = promisify(execFile);

export type DoctorStatus = 'ok' | 'warn' | 'fail';

export interface DoctorCheck {
  name: string;
  status: DoctorStatus;
  detail: string;
}

export interface DoctorOptions {
  /** The environment the agent will run with (PATH decides which tools are found). @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Receives each printed line. @default a line on stdout */
  write?: (line: string) => void;
}

/** Encoders the profiles can use; the CPU ones are what every transcode falls back to. */
const CPU_ENCODERS = ['libx264', 'libx265', 'libwebp', 'aac', 'libopus'];
const GPU_ENCODERS = ['h264_nvenc', 'hevc_nvenc'];
const LOW_DISK_BYTES = 1024 ** 3;
/** Below this, a few busy inboxes (chokidar watches every subfolder) can exhaust inotify. */
const MIN_INOTIFY_WATCHES = 8192;

type Step = [name: string, run: () => Promise<DoctorCheck[]>];

export async function runDoctor(config: SpoolConfig, options: DoctorOptions = {}): Promise<{ ok: boolean; checks: DoctorCheck[] }> {
  const env = options.env ?? process.env;
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const checks: DoctorCheck[] = [];
  const report = (found: DoctorCheck[]) => {
    for (const check of found) {
      checks.push(check);
      write(`${check.status.padEnd(6)}${check.name}  ${check.detail}`);
    }
  };
  const outboxes = [...new Set(config.inboxes.map((inbox) => inbox.outbox))];
  // Each step is named so that one breaking unexpectedly still reports under its name.
  const steps: Step[] = [
    ['ffmpeg', () => checkMediaTools(env)],
    ['nvidia-smi', () => checkGpu(env)],
    ...config.inboxes.map((inbox): Step => [`inbox ${inbox.profile}`, () => checkInbox(`inbox ${inbox.profile}`, inbox.path)]),
    ...outboxes.map((outbox): Step => ['outbox', () => checkWritable('outbox', outbox)]),
    ['dataDir', () => checkWritable('dataDir', config.dataDir)],
    ['disk', () => checkDisk([config.dataDir, ...outboxes])],
    ['inotify', () => checkInotify()],
  ];
  for (const [name, step] of steps) {
    try {
      report(await step());
    } catch (thrown) {
      report([{ name, status: 'fail', detail: coerceError(thrown).message }]);
    }
  }
  const count = (status: DoctorStatus) => checks.filter((check) => check.status === status).length;
  const ok = count('fail') === 0;
  write(`${ok ? 'ready' : 'not ready'}: ${count('ok')} ok, ${count('warn')} warn, ${count('fail')} fail`);
  return { ok, checks };
}

async function checkMediaTools(env: NodeJS.ProcessEnv): Promise<DoctorCheck[]> {
  let tools: MediaTools;
  try {
    tools = await locateMediaTools(env);
  } catch (thrown) {
    return [{ name: 'ffmpeg', status: 'fail', detail: coerceError(thrown).message }];
  }
  const checks: DoctorCheck[] = (['ffmpeg', 'ffprobe'] as const).map((name) => ({
    name,
    status: 'ok',
    // "ffmpeg version 5.1.9-0+deb12u1": the rest of the line is copyright and build notes.
    detail: `${tools[name].path} (${tools[name].source}) ${tools[name].version.split(/\s+/).slice(0, 3).join(' ')}`,
  }));
  const has = [...CPU_ENCODERS, ...GPU_ENCODERS].filter((name) => tools.encoders.has(name));
  const lacking = (names: string[]) => names.filter((name) => !tools.encoders.has(name));
  const notes: string[] = [];
  if (lacking(CPU_ENCODERS).length > 0) notes.push(`missing ${lacking(CPU_ENCODERS).join(' ')}: profiles that need them fail`);
  if (lacking(GPU_ENCODERS).length > 0) notes.push(`no ${lacking(GPU_ENCODERS).join(' ')}: transcodes use the CPU encoders`);
  // Without libx264 or aac the default web profile cannot run at all on the CPU.
  const essential = !tools.encoders.has('libx264') || !tools.encoders.has('aac');
  checks.push({
    name: 'encoders',
    status: essential ? 'warn' : 'ok',
    detail: [has.join(' ') || 'none of the useful ones', ...notes].join('; '),
  });
  return checks;
}

async function checkGpu(env: NodeJS.ProcessEnv): Promise<DoctorCheck[]> {
  const nvidiaSmi = findOnPath('nvidia-smi', env);
  if (!nvidiaSmi) return [{ name: 'nvidia-smi', status: 'warn', detail: 'not on PATH; no GPU: GPU jobs will wait' }];
  try {
    const { stdout } = await execFileAsync(nvidiaSmi, ['-L'], { timeout: 5_000, env });
    const gpus = stdout.split('\n').map((line) => line.trim()).filter(Boolean);
    if (gpus.length === 0) return [{ name: 'nvidia-smi', status: 'warn', detail: `${nvidiaSmi} lists no GPU; no GPU: GPU jobs will wait` }];
    return [{ name: 'nvidia-smi', status: 'ok', detail: `${nvidiaSmi} ${gpus.join('; ')}` }];
  } catch (thrown) {
    // The agent treats a failing nvidia-smi like a missing one, so this is a warning too.
    const error = coerceError(thrown) as Error & { killed?: boolean };
    const why = error.killed ? 'did not answer within 5 s' : error.message.split('\n')[0];
    return [{ name: 'nvidia-smi', status: 'warn', detail: `${nvidiaSmi} -L failed (${why}); no GPU: GPU jobs will wait` }];
  }
}

async function checkInbox(name: string, dir: string): Promise<DoctorCheck[]> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(dir);
  } catch (thrown) {
    const why = errnoCode(thrown) === 'ENOENT' ? 'does not exist' : coerceError(thrown).message;
    return [{ name, status: 'fail', detail: `${dir} ${why}` }];
  }
  if (!stat.isDirectory()) return [{ name, status: 'fail', detail: `${dir} is not a directory` }];
  // The agent lists the folder, renames files out of it and creates done/ and failed/ in it.
  if (!(await accessible(dir, fs.constants.R_OK | fs.constants.W_OK | fs.constants.X_OK))) {
    return [{ name, status: 'fail', detail: `${dir} is not readable and writable by ${whoAmI()}` }];
  }
  return [{ name, status: 'ok', detail: `${dir} readable and writable` }];
}

/** A folder the agent writes into: it must be writable, or creatable under its nearest existing parent. */
async function checkWritable(name: string, dir: string): Promise<DoctorCheck[]> {
  const existing = await nearestExisting(dir);
  const stat = await fs.promises.stat(existing);
  if (!stat.isDirectory()) return [{ name, status: 'fail', detail: `${dir}: ${existing} is not a directory` }];
  const writable = await accessible(existing, fs.constants.W_OK | fs.constants.X_OK);
  if (existing === dir) {
    return [writable ? { name, status: 'ok', detail: `${dir} writable` } : { name, status: 'fail', detail: `${dir} is not writable by ${whoAmI()}` }];
  }
  return [
    writable
      ? { name, status: 'ok', detail: `${dir} does not exist yet; it can be created in ${existing}` }
      : { name, status: 'fail', detail: `${dir} does not exist and ${existing} is not writable by ${whoAmI()}` },
  ];
}

/** One line per filesystem: the work area and the outboxes often share one, and a repeated figure is noise. */
async function checkDisk(dirs: string[]): Promise<DoctorCheck[]> {
  const byDevice = new Map<number, { existing: string; dirs: string[] }>();
  for (const dir of dirs) {
    const existing = await nearestExisting(dir);
    const { dev } = await fs.promises.stat(existing);
    const group = byDevice.get(dev) ?? { existing, dirs: [] };
    group.dirs.push(dir);
    byDevice.set(dev, group);
  }
  const checks: DoctorCheck[] = [];
  for (const group of byDevice.values()) {
    const stats = await fs.promises.statfs(group.existing);
    const free = stats.bavail * stats.bsize;
    const detail = `${(free / LOW_DISK_BYTES).toFixed(1)} GiB free for ${group.dirs.join(', ')}`;
    checks.push(free < LOW_DISK_BYTES ? { name: 'disk', status: 'warn', detail: `${detail}; jobs may fail with disk full` } : { name: 'disk', status: 'ok', detail });
  }
  return checks;
}

async function checkInotify(): Promise<DoctorCheck[]> {
  const read = async (key: string) => Number((await fs.promises.readFile(`/proc/sys/fs/inotify/${key}`, 'utf8')).trim());
  let watches: number;
  let instances: number;
  try {
    [watches, instances] = await Promise.all([read('max_user_watches'), read('max_user_instances')]);
  } catch (thrown) {
    return [{ name: 'inotify', status: 'warn', detail: `cannot read the inotify limits (${coerceError(thrown).message}); use poll: true if new files go unnoticed` }];
  }
  const detail = `max_user_watches ${watches}, max_user_instances ${instances}`;
  if (watches < MIN_INOTIFY_WATCHES) {
    return [{ name: 'inotify', status: 'warn', detail: `${detail}; raise it: sysctl fs.inotify.max_user_watches=524288` }];
  }
  return [{ name: 'inotify', status: 'ok', detail }];
}

async function accessible(file: string, mode: number): Promise<boolean> {
  try {
    await fs.promises.access(file, mode);
    return true;
  } catch {
    return false;
  }
}

async function nearestExisting(dir: string): Promise<string> {
  let current = path.resolve(dir);
  while (!(await accessible(current, fs.constants.F_OK))) {
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  return current;
}

function whoAmI(): string {
  return process.getuid ? `uid ${process.getuid()}` : 'this user';
}
