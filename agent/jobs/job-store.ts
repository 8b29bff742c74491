/**
 * State changes that touch both the database and the files of a job: the
 * final states (with their settle plan and follow-on jobs) and the creation
 * of a job from a claimed file. The executor, the operator's actions and
 * start-up reconciliation all go through here, so a job ends one way.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Clock } from '../clock.js';
import { profileCategory, type SpoolConfig } from '../config/config.schema.js';
import type { Db } from '../db/database.js';
import { getJob, getJobRowNow, hydrateNow, insertJobNow, listUnsettledRows, replaceOutputsNow, updateJob, updateReadJobNow } from '../db/job.repository.js';
import { rowToJob } from '../db/job.mapper.js';
import { statementsOf } from '../db/statements.js';
import { databaseWriteFault } from '../db/write-fault.js';
import type { JobRow, NewJobRow } from '../db/tables.js';
import { coerceError, SpoolError } from '../errors.js';
import type { EventBus } from '../events.js';
import { newJobId } from '../ids.js';
import type { Logger } from '../logger.js';
import type { FailureKind, Job, JobOutput } from './job.js';
import { INBOX_WORK_FOLDER, resultDir, workRoot } from './paths.js';
import { freeName, runSettlePlan, type SettleStep } from './settle.js';

export interface JobDeps {
  db: Db;
  /** The current config (SIGHUP may replace it). */
  config: () => SpoolConfig;
  events: EventBus;
  logger: Logger;
  clock: Clock;
}

export async function requireJob(deps: JobDeps, id: string): Promise<Job> {
  const job = await getJob(deps.db, id);
  if (!job) throw new SpoolError('NOT_FOUND', `no job with id ${id}`);
  return job;
}

export async function emitUpdated(deps: JobDeps, id: string): Promise<Job | undefined> {
  const job = await getJob(deps.db, id);
  if (job) deps.events.emit('job:updated', { job });
  return job;
}

export interface StagedOutput {
  /** Where the attempt wrote it. */
  staged: string;
  sizeBytes: number;
  mtimeMs: number;
}

export interface FinalOutcome {
  status: 'COMPLETED' | 'FAILED' | 'CANCELLED';
  errorKind?: FailureKind;
  error?: string;
  outputs?: readonly StagedOutput[];
  /** Outputs that already exist in place (a duplicate reusing earlier results). */
  existingOutputs?: readonly JobOutput[];
  result?: unknown;
  /** Folders to remove once settled (work, staging). */
  cleanup?: readonly string[];
}

/** Whether the job's source sits in an agent work area (claimed), rather than used in place or already settled. */
export function sourceIsClaimed(config: SpoolConfig, row: Pick<JobRow, 'inbox_path' | 'source_path'>): boolean {
  if (row.inbox_path === null) return false;
  return row.source_path.startsWith(workRoot(config.dataDir) + path.sep) || row.source_path.startsWith(path.join(row.inbox_path, INBOX_WORK_FOLDER) + path.sep);
}

/**
 * Records a final state and settles the files: outputs renamed from staging
 * into the outbox, the source to done/ (or deleted or kept, per the inbox),
 * failed/ with a readable .error.txt, or cancelled/. The plan is written in
 * the same transaction as the state, then carried out; a job with nothing
 * to move is settled in that transaction. `also` runs in that transaction
 * too, before the state is written (the attempt's own rows and log), and
 * `committed` right after it commits, before any event.
 */
export async function finishJob(deps: JobDeps, id: string, outcome: FinalOutcome, options: FinishOptions = {}): Promise<Job> {
  return (await recordFinal(deps, id, outcome, options, true))!;
}

/**
 * finishJob for a caller that does not use the job afterwards (the executor,
 * the scheduler): the job as written is built only if someone listens to
 * its events.
 */
export async function endJob(deps: JobDeps, id: string, outcome: FinalOutcome, options: FinishOptions = {}): Promise<void> {
  await recordFinal(deps, id, outcome, options, false);
}

export interface FinishOptions {
  also?: () => void;
  committed?: () => void;
}

async function recordFinal(deps: JobDeps, id: string, outcome: FinalOutcome, options: FinishOptions, wanted: boolean): Promise<Job | undefined> {
  const announce = deps.events.listening('job:updated') || deps.events.listening('job:finished');
  const config = deps.config();
  const now = deps.clock.now();
  // One synchronous unit: the row read, the plan (destination names are
  // chosen against the files there now) and every write commit together.
  const { job, plan, children } = await statementsOf(deps.db).write(() => {
    options.also?.();
    const row = getJobRowNow(deps.db, id);
    if (!row) throw new SpoolError('NOT_FOUND', `no job with id ${id}`);
    const plan: SettleStep[] = [];
    const taken = new Set<string>();
    const outputs: JobOutput[] = [...(outcome.existingOutputs ?? [])];
    /** mtime of each output, so a follow-on job's claim check sees the file it was given. */
    const mtimes = new Map<string, number>();
    for (const output of outcome.outputs ?? []) {
      const finalPath = freeName(row.outbox, path.basename(output.staged), taken);
      taken.add(finalPath);
      plan.push({ op: 'move', from: output.staged, to: finalPath });
      outputs.push({ path: finalPath, sizeBytes: output.sizeBytes });
      mtimes.set(finalPath, output.mtimeMs);
    }

    let sourcePath = row.source_path;
    if (sourceIsClaimed(config, row) && row.inbox_path !== null) {
      const inbox = config.inboxes.find((i) => i.path === row.inbox_path);
      if (outcome.status === 'COMPLETED') {
        const onSuccess = inbox?.onSuccess ?? 'move';
        if (onSuccess === 'delete') {
          plan.push({ op: 'unlink', path: row.source_path });
        } else {
          sourcePath = onSuccess === 'keep' ? freeName(row.inbox_path, row.file_name) : freeName(resultDir(row.inbox_path, 'done'), row.file_name);
          plan.push({ op: 'move', from: row.source_path, to: sourcePath });
        }
      } else {
        const folder = outcome.status === 'FAILED' ? 'failed' : 'cancelled';
        sourcePath = freeName(resultDir(row.inbox_path, folder), row.file_name);
        plan.push({ op: 'move', from: row.source_path, to: sourcePath });
        if (outcome.status === 'FAILED') {
          plan.push({ op: 'write', path: `${sourcePath}.error.txt`, text: errorText(row, outcome, now) });
        }
      }
      plan.push({ op: 'rmdir', path: path.dirname(row.source_path) });
    }
    for (const folder of outcome.cleanup ?? []) plan.push({ op: 'rmdir', path: folder });

    const followOns = outcome.status === 'COMPLETED' ? followOnRows(config, row, outputs, mtimes, now) : [];
    const written = updateReadJobNow(deps.db, row, {
      status: outcome.status,
      error_kind: outcome.errorKind ?? null,
      error: outcome.error ?? null,
      result_json: outcome.result === undefined ? row.result_json : JSON.stringify(outcome.result),
      progress: outcome.status === 'COMPLETED' ? 100 : row.progress,
      eta_seconds: outcome.status === 'COMPLETED' ? 0 : null,
      waiting_reason: null,
      paused_from: null,
      run_after: null,
      source_path: sourcePath,
      settle_plan: plan.length === 0 ? null : JSON.stringify(plan),
      finished_at: now,
      updated_at: now,
    })!;
    if (outcome.status === 'COMPLETED') replaceOutputsNow(deps.db, id, outputs);
    const children = followOns.map((child) => rowToJob(insertJobNow(deps.db, child, [id]), [id], []));
    return { job: wanted || announce ? hydrateNow(deps.db, [written])[0]! : undefined, plan, children };
  });
  options.committed?.();
  if (plan.length > 0) await settle(deps, id, plan);
  if (job) {
    deps.events.emit('job:updated', { job });
    deps.events.emit('job:finished', { job });
  }
  for (const created of children) deps.events.emit('job:created', { job: created });
  return job;
}

/** Jobs whose files are being moved now: one mover per job, never two. */
const settling = new Set<string>();
/** The failure last logged per job: a share that stays away is reported once, not at every pass. */
const settleErrors = new Map<string, string>();

/**
 * Carries out a settle plan and clears it. A failure (an inbox or outbox on
 * a share that is away) is logged and the plan kept: settleUnsettled tries
 * again on a timer and at start-up.
 */
export async function settle(deps: JobDeps, id: string, plan: readonly SettleStep[]): Promise<boolean> {
  if (settling.has(id)) return false;
  settling.add(id);
  try {
    try {
      await runSettlePlan(plan);
    } catch (error) {
      const message = coerceError(error).message;
      if (settleErrors.get(id) !== message) {
        if (settleErrors.size >= 10_000) settleErrors.clear();
        settleErrors.set(id, message);
        deps.logger.error(`cannot move the files of job ${id} into place: ${message}; the job's files stay where they are and Spool tries again by itself`, { job: id });
      }
      return false;
    }
    if (settleErrors.delete(id)) deps.logger.info(`job ${id}: its files are in place now`, { job: id });
    try {
      await updateJob(deps.db, id, { settle_plan: null });
    } catch (error) {
      // The files are settled; a plan left on the row is carried out again later, and finds nothing left to do.
      if (databaseWriteFault(error) === null) throw error;
    }
    return true;
  } finally {
    settling.delete(id);
  }
}

/** Tries every kept settle plan again; returns how many are done now. */
export async function settleUnsettled(deps: JobDeps): Promise<number> {
  let settled = 0;
  for (const row of await listUnsettledRows(deps.db)) {
    if (await settle(deps, row.id, JSON.parse(row.settle_plan ?? '[]') as SettleStep[])) settled += 1;
  }
  return settled;
}

function errorText(row: JobRow, outcome: FinalOutcome, now: number): string {
  return [
    `Spool could not process this file.`,
    ``,
    `File:     ${row.input_path}`,
    `Job:      ${row.id} (profile ${row.profile}, ${row.kind})`,
    `When:     ${new Date(now).toISOString()}`,
    `Attempts: ${row.attempts} of ${row.max_attempts}`,
    `Why:      ${outcome.error ?? 'unknown error'}`,
    `Kind:     ${describeKind(outcome.errorKind)}`,
    ``,
    `To try again, move the file back into the inbox, or retry job ${row.id}.`,
    ``,
  ].join('\n');
}

function describeKind(kind: FailureKind | undefined): string {
  switch (kind) {
    case 'bad_input':
      return 'the file itself cannot be processed (not retried)';
    case 'transient':
      return 'an error that may pass; every attempt failed';
    case 'dependency':
      return 'a job it depended on did not complete';
    default:
      return 'an error inside the agent or its configuration';
  }
}

/** One job per follow-on profile and output, depending on the finished job. */
function followOnRows(config: SpoolConfig, parent: JobRow, outputs: readonly JobOutput[], mtimes: ReadonlyMap<string, number>, now: number): NewJobRow[] {
  const profile = config.profiles[parent.profile];
  if (!profile) return [];
  const rows: NewJobRow[] = [];
  for (const next of profile.then) {
    const nextProfile = config.profiles[next];
    if (!nextProfile) continue;
    for (const output of outputs) {
      rows.push({
        ...newJobRow(config, next, { inputPath: output.path, sourcePath: output.path, inboxPath: null, outbox: parent.outbox, sizeBytes: output.sizeBytes, mtimeMs: mtimes.get(output.path) ?? statMtime(output.path) }, now),
        parent_id: parent.id,
      });
    }
  }
  return rows;
}

export interface JobFile {
  inputPath: string;
  sourcePath: string;
  inboxPath: string | null;
  outbox: string;
  sizeBytes: number;
  mtimeMs: number;
  contentHash?: string | null;
}

/** The row of a new PENDING job of `profileName` on `file`. */
export function newJobRow(config: SpoolConfig, profileName: string, file: JobFile, now: number, options: { id?: string; priority?: number; runAt?: number | null } = {}): NewJobRow {
  const profile = config.profiles[profileName];
  if (!profile) throw new SpoolError('BAD_USER_INPUT', `no profile named "${profileName}"`);
  return {
    id: options.id ?? newJobId(now),
    profile: profileName,
    kind: profile.kind,
    category: profileCategory(profile),
    status: 'PENDING',
    priority: options.priority ?? profile.priority,
    input_path: file.inputPath,
    source_path: file.sourcePath,
    inbox_path: file.inboxPath,
    outbox: file.outbox,
    file_name: path.basename(file.inputPath),
    size_bytes: file.sizeBytes,
    mtime_ms: Math.trunc(file.mtimeMs),
    content_hash: file.contentHash ?? null,
    max_attempts: profile.maxAttempts,
    run_after: options.runAt ?? null,
    waiting_reason: 'queued',
    encoder: profile.kind === 'transcode' ? profile.encoder : null,
    created_at: now,
    updated_at: now,
  };
}

/** Whether a path exists (lstat; a dangling symlink exists). */
export function exists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function statMtime(p: string): number {
  try {
    return fs.statSync(p).mtimeMs;
  } catch {
    return 0;
  }
}
