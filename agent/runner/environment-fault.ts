/**
 * Environment faults: a full, read-only or forbidden outbox or work area is
 * the box's trouble, not the job's. Such a failure puts the job back to wait
 * (no attempt used up) with a sentence that names the place and the cause,
 * so an operator knows what to free or remount; the job runs again by
 * itself once it can.
 */
import fs from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../errors.js';
import { AttemptError } from './process.js';

type FaultCode = 'ENOSPC' | 'EDQUOT' | 'EROFS' | 'EACCES' | 'EPERM';
const CODES: ReadonlySet<string> = new Set<FaultCode>(['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM']);
/** How ffmpeg (or a command) words the same errors on stderr (strerror). */
const STDERR: ReadonlyArray<[RegExp, FaultCode]> = [
  [/No space left on device/i, 'ENOSPC'],
  [/Disk quota exceeded/i, 'EDQUOT'],
  [/Read-only file system/i, 'EROFS'],
  [/Permission denied/i, 'EACCES'],
  [/Operation not permitted/i, 'EPERM'],
];

/** Below this much free space a place that reported no space is taken to be the one that ran out. */
const NEARLY_FULL_MB = 64;

export interface Place {
  /** How an operator calls it: "outbox", "work area". */
  label: string;
  path: string;
}

/** The fault's code, from a Node errno error or a child's stderr. */
export function faultCode(error: unknown): FaultCode | null {
  const code = errnoCode(error);
  if (code !== undefined && CODES.has(code)) return code as FaultCode;
  const lines = error instanceof AttemptError ? [...error.stderrTail, error.message] : [error instanceof Error ? error.message : String(error)];
  for (const [pattern, found] of STDERR) if (lines.some((line) => pattern.test(line))) return found;
  return null;
}

/**
 * A sentence naming the place and the cause, or null when `error` is not an
 * environment fault of one of `places` (then it is the job's own failure).
 * A permission or read-only error is confirmed by trying to write there, so
 * an unreadable input is not mistaken for a broken outbox.
 */
export async function environmentFault(error: unknown, places: readonly Place[]): Promise<string | null> {
  return (await environmentFaultAt(error, places))?.message ?? null;
}

/** As environmentFault, with the place it names. */
export async function environmentFaultAt(error: unknown, places: readonly Place[]): Promise<{ place: Place; message: string } | null> {
  const errorPath = (error as { path?: unknown } | null)?.path;
  const named = typeof errorPath === 'string' ? places.find((p) => errorPath === p.path || errorPath.startsWith(p.path + path.sep)) : undefined;
  const code = faultCode(error);
  if (code === null) {
    // Any other errno error on one of our places (mkdir of a staging folder on a read-only mount reports ENOENT): look at the place itself.
    if (named === undefined || errnoCode(error) === undefined) return null;
    const problem = await checkPlace(named.path);
    return problem === null ? null : { place: named, message: describe(named, problem.code, problem.freeMb) };
  }
  const candidates = named ? [named, ...places.filter((p) => p !== named)] : places;
  for (const place of candidates) {
    const problem = await checkPlace(place.path);
    if (problem === null && !(named === place && (code === 'ENOSPC' || code === 'EDQUOT'))) continue;
    return { place, message: describe(place, problem?.code ?? code, problem?.freeMb ?? (await freeMb(place.path))) };
  }
  // ENOSPC names no path on ffmpeg's stderr; the partial output is still there, so the place that ran out is
  // (nearly) full. Space elsewhere (a command's /tmp) is not ours to name: that stays a transient failure.
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    const free = await Promise.all(places.map(async (p) => ({ place: p, mb: await freeMb(p.path) })));
    const fullest = free.filter((f) => f.mb !== null && f.mb < NEARLY_FULL_MB).sort((a, b) => a.mb! - b.mb!)[0];
    if (fullest) return { place: fullest.place, message: describe(fullest.place, code, fullest.mb) };
  }
  return null;
}

/** What keeps a file from being written at `place` now (a sentence as above), or null when a test write works. */
export async function placeProblem(place: Place): Promise<string | null> {
  const problem = await checkPlace(place.path).catch(() => null);
  return problem === null ? null : describe(place, problem.code, problem.freeMb);
}

function describe(place: Place, code: FaultCode | 'ENOENT', free: number | null): string {
  const where = `${place.label} ${place.path}`;
  switch (code) {
    case 'ENOENT':
      return `${where} is missing (unmounted or removed?)`;
    case 'ENOSPC':
      return `${where} is full (${free === null ? 'no' : free.toFixed(1)} MB free)`;
    case 'EDQUOT':
      return `${where} is over its disk quota`;
    case 'EROFS':
      return `${where} is read-only`;
    default:
      return `${where} is not writable (${code === 'EACCES' ? 'permission denied' : 'operation not permitted'})`;
  }
}

/** Whether a file can be made at `dir` now: null when it can, else the code and free space. */
async function checkPlace(dir: string): Promise<{ code: FaultCode | 'ENOENT'; freeMb: number | null } | null> {
  const probe = path.join(dir, `.spool-write-check-${process.pid}-${Date.now()}`);
  try {
    await fs.promises.writeFile(probe, 'x');
    await fs.promises.rm(probe, { force: true });
    return null;
  } catch (error) {
    await fs.promises.rm(probe, { force: true }).catch(() => undefined);
    const code = errnoCode(error);
    if (code !== undefined && CODES.has(code)) return { code: code as FaultCode, freeMb: await freeMb(dir) };
    if (code === 'ENOENT') return { code, freeMb: null };
    throw error;
  }
}

async function freeMb(dir: string): Promise<number | null> {
  try {
    const stats = await fs.promises.statfs(dir);
    return (stats.bavail * stats.bsize) / 2 ** 20;
  } catch {
    return null;
  }
}
