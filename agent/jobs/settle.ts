/**
 * Settling: the file moves that follow a job's final state. They are planned
 * (destination names chosen) in the same transaction that records the state,
 * stored on the row as `settle_plan`, then carried out step by step. Every
 * step is idempotent, so a process that dies half-way redoes the rest at
 * start-up and nothing is moved twice or lost.
 *
 * A step makes at most the last folder of its destination (`done/` in an
 * inbox, an outbox's own folder). An inbox or outbox on a share that is not
 * mounted right now is then an error, and the plan is tried again later;
 * never is the path made again on the local disk, where the file would
 * disappear under the share once it is mounted again.
 */
import fs from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../errors.js';

export type SettleStep =
  /** Rename `from` to `to` (copy then unlink across filesystems). Done when `from` is gone. */
  | { op: 'move'; from: string; to: string }
  /** Write a small text file completely (temp name, then rename). */
  | { op: 'write'; path: string; text: string }
  | { op: 'unlink'; path: string }
  /** Remove a folder and what is left in it (work and staging folders only). */
  | { op: 'rmdir'; path: string };

export async function runSettlePlan(steps: readonly SettleStep[]): Promise<void> {
  for (const step of steps) {
    switch (step.op) {
      case 'move':
        await moveFile(step.from, step.to);
        break;
      case 'write': {
        const temp = path.join(path.dirname(step.path), `.${path.basename(step.path)}.spool-tmp`);
        await makeLastFolder(path.dirname(step.path));
        await fs.promises.writeFile(temp, step.text);
        await fs.promises.rename(temp, step.path);
        break;
      }
      case 'unlink':
        await fs.promises.rm(step.path, { force: true });
        break;
      case 'rmdir':
        await fs.promises.rm(step.path, { recursive: true, force: true });
        break;
    }
  }
}

/**
 * Moves a file without ever overwriting one: a `to` that exists while `from`
 * still exists is someone else's file, so the move takes the next free name.
 */
export async function moveFile(from: string, to: string): Promise<string> {
  try {
    await fs.promises.lstat(from);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return to; // already moved by an earlier run of this plan
    throw error;
  }
  await makeLastFolder(path.dirname(to));
  const target = fs.existsSync(to) ? freeName(path.dirname(to), path.basename(to)) : to;
  try {
    await fs.promises.rename(from, target);
  } catch (error) {
    if (errnoCode(error) !== 'EXDEV') throw error;
    // Another filesystem: copy under a hidden name, rename complete, then drop the original.
    const temp = path.join(path.dirname(target), `.${path.basename(target)}.spool-tmp`);
    await fs.promises.copyFile(from, temp);
    await fs.promises.rename(temp, target);
    await fs.promises.unlink(from);
  }
  return target;
}

/** Makes `dir` if its parent exists; a missing parent is an error that names it. */
export async function makeLastFolder(dir: string): Promise<void> {
  try {
    await fs.promises.mkdir(dir);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'EEXIST') return;
    if (code === 'ENOENT') {
      throw Object.assign(new Error(`${path.dirname(dir)} is missing (unmounted or removed?); not making it again here`), { code: 'ENOENT', path: path.dirname(dir) });
    }
    throw error;
  }
}

/**
 * A name in `dir` that no file has and `taken` does not hold:
 * "clip.mp4", then "clip (2).mp4", "clip (3).mp4", …
 */
export function freeName(dir: string, name: string, taken: ReadonlySet<string> = new Set()): string {
  const ext = path.extname(name);
  const stem = name.slice(0, name.length - ext.length);
  for (let n = 1; ; n++) {
    const candidate = path.join(dir, n === 1 ? name : `${stem} (${n})${ext}`);
    if (!taken.has(candidate) && !fs.existsSync(candidate)) return candidate;
  }
}
