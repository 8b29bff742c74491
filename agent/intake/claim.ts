/**
 * Claiming: a complete file in an inbox becomes the agent's.
 *
 * Why this order: the work folder and its claim record are written first,
 * then one atomic rename() moves the file in, then one transaction records
 * the job. After the rename no second watcher event, restart or second agent
 * on the same folder can take the file again (it is no longer in the inbox).
 * If the process dies before the row is written, start-up reconciliation
 * finds the work folder with its claim record and creates the job from it;
 * if it dies before the rename, the folder holds no file and is removed.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { InboxConfig } from '../config/config.schema.js';
import { createJob, findDuplicate, findKeptSource, getJobRowNow } from '../db/job.repository.js';
import { databaseWriteFault } from '../db/write-fault.js';
import { coerceError, errnoCode } from '../errors.js';
import { newJobId } from '../ids.js';
import type { Job } from '../jobs/job.js';
import { finishJob, newJobRow, type JobDeps } from '../jobs/job-store.js';
import { CLAIM_FILE, INBOX_WORK_FOLDER, workDir, workRoot } from '../jobs/paths.js';

/** What the work folder records about the file before it moves in. */
export interface ClaimRecord {
  jobId: string;
  inboxPath: string;
  profile: string;
  outbox: string;
  /** The absolute path the file had in the inbox. */
  inputPath: string;
  claimedAt: number;
}

export type ClaimResult =
  | { status: 'claimed'; job: Job }
  | { status: 'gone' }
  | { status: 'refused'; reason: string }
  /** The file is a source this agent already finished and left in place (onSuccess: keep). */
  | { status: 'known' };

/** What a submitted file may set beyond its inbox's defaults. */
export interface ClaimOptions {
  priority?: number;
  runAt?: number | null;
  dependsOn?: readonly string[];
}

export async function claimFile(deps: JobDeps, inbox: InboxConfig, filePath: string, seen: fs.Stats, options: ClaimOptions = {}): Promise<ClaimResult> {
  if ((await findKeptSource(deps.db, filePath, seen.size, Math.trunc(seen.mtimeMs))) !== undefined) return { status: 'known' };
  const now = deps.clock.now();
  const jobId = newJobId(now);
  const record: ClaimRecord = { jobId, inboxPath: inbox.path, profile: inbox.profile, outbox: inbox.outbox, inputPath: filePath, claimedAt: now };
  const fileName = path.basename(filePath);

  let folder = workDir(deps.config().dataDir, jobId);
  try {
    prepareLocalFolder(folder, record);
  } catch (error) {
    // A full data directory: nothing moved, the file stays in the inbox.
    fs.rmSync(folder, { recursive: true, force: true });
    throw error;
  }
  try {
    await fs.promises.rename(filePath, path.join(folder, fileName));
  } catch (error) {
    await fs.promises.rm(folder, { recursive: true, force: true });
    const code = errnoCode(error);
    if (code === 'ENOENT') return { status: 'gone' };
    if (code !== 'EXDEV') throw error;
    // The inbox is on another filesystem than the data directory: claim into
    // a hidden work folder inside the inbox, where rename() stays atomic.
    folder = path.join(inbox.path, INBOX_WORK_FOLDER, jobId);
    await prepareFolder(folder, record);
    try {
      await fs.promises.rename(filePath, path.join(folder, fileName));
    } catch (inner) {
      await fs.promises.rm(folder, { recursive: true, force: true });
      if (errnoCode(inner) === 'ENOENT') return { status: 'gone' };
      throw inner;
    }
  }

  const claimed = path.join(folder, fileName);
  const stat = folder.startsWith(workRoot(deps.config().dataDir) + path.sep) ? fs.lstatSync(claimed) : await fs.promises.lstat(claimed);
  if (!stat.isFile()) {
    // Swapped for a directory or link between the stability check and the rename: put it back untouched.
    await fs.promises.rename(claimed, filePath).catch(() => undefined);
    await fs.promises.rm(folder, { recursive: true, force: true });
    return { status: 'refused', reason: 'it is not a regular file' };
  }
  let job: Job;
  try {
    job = await createJobFromClaim(deps, record, claimed, stat, options);
  } catch (error) {
    await putBack(deps, claimed, filePath, jobId, error);
    throw error;
  }
  deps.events.emit('intake:claimed', { inbox: inbox.path, path: filePath, jobId: job.id });
  return { status: 'claimed', job };
}

/**
 * The job's row could not be written (the database's disk is full): the
 * file goes back to the inbox under its own name, so it is taken again once
 * the database can be written and is never stranded in a work folder nobody
 * looks at. A row that was written keeps its file; so does a name taken in
 * the inbox meanwhile (start-up reconciliation then adopts the work folder).
 */
async function putBack(deps: JobDeps, claimed: string, filePath: string, jobId: string, error: unknown): Promise<void> {
  if (databaseWriteFault(error) === null || getJobRowNow(deps.db, jobId) !== undefined) return;
  try {
    await fs.promises.lstat(filePath);
    return;
  } catch {
    // The name is free.
  }
  try {
    await fs.promises.rename(claimed, filePath);
    await fs.promises.rm(path.dirname(claimed), { recursive: true, force: true });
  } catch (inner) {
    deps.logger.warn(`cannot put ${claimed} back as ${filePath}: ${coerceError(inner).message}; it is taken from its work folder at the next start`);
  }
}

/**
 * The work folder and its claim record in the agent's own data directory,
 * made synchronously: it is local like the database beside it, and under a
 * burst of drops the claims' async calls queued behind the watcher's in
 * libuv's four-thread pool, which made claiming the slowest step (the
 * fallback folder inside an inbox, maybe on a network mount, stays async).
 */
function prepareLocalFolder(folder: string, record: ClaimRecord): void {
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(folder, CLAIM_FILE), JSON.stringify(record));
}

async function prepareFolder(folder: string, record: ClaimRecord): Promise<void> {
  await fs.promises.mkdir(folder, { recursive: true });
  await fs.promises.writeFile(path.join(folder, CLAIM_FILE), JSON.stringify(record));
}

/**
 * Records the job of a claimed file, applying the profile's duplicate policy.
 * Also used at start-up for work folders whose job row was never written.
 */
export async function createJobFromClaim(deps: JobDeps, record: ClaimRecord, claimed: string, stat: fs.Stats, options: ClaimOptions = {}): Promise<Job> {
  const config = deps.config();
  const profile = config.profiles[record.profile];
  const now = deps.clock.now();
  const hash = profile && profile.onDuplicate !== 'run' ? await sha256File(claimed) : null;
  const row = newJobRow(
    config,
    record.profile,
    { inputPath: record.inputPath, sourcePath: claimed, inboxPath: record.inboxPath, outbox: record.outbox, sizeBytes: stat.size, mtimeMs: stat.mtimeMs, contentHash: hash },
    now,
    { id: record.jobId, priority: options.priority, runAt: options.runAt },
  );
  const job = await createJob(deps.db, row, options.dependsOn);
  deps.logger.info(`claimed ${record.inputPath} as job ${row.id} (${record.profile})`, { job: row.id, inbox: record.inboxPath });

  const earlier = hash !== null ? await findDuplicate(deps.db, record.profile, stat.size, hash) : undefined;
  if (earlier && earlier.id !== row.id && profile) {
    const work = path.dirname(claimed);
    if (profile.onDuplicate === 'skip') {
      return finishJob(deps, row.id, {
        status: 'COMPLETED',
        existingOutputs: earlier.outputs,
        result: { duplicateOf: earlier.id },
        cleanup: [work],
      });
    }
    return finishJob(deps, row.id, {
      status: 'FAILED',
      errorKind: 'bad_input',
      error: `the same content (size and SHA-256) was already processed by job ${earlier.id}; this profile fails duplicates`,
      cleanup: [work],
    });
  }
  deps.events.emit('job:created', { job });
  return job;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  } catch (error) {
    throw new Error(`cannot read ${file} to hash it: ${coerceError(error).message}`);
  }
  return hash.digest('hex');
}
