/**
 * What an operator or a script can do to jobs and the queue. The CLI and the
 * GraphQL API call these; each checks the job's state and answers
 * INVALID_STATE in words when the action does not apply.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createJob, existingIds, getJobRow, listJobs, updateJob } from '../db/job.repository.js';
import { statusCounts } from '../db/job-list.repository.js';
import { SpoolError } from '../errors.js';
import type { Executor } from '../runner/executor.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import { claimFile } from '../intake/claim.js';
import type { Job, JobStatus } from './job.js';
import { emitUpdated, finishJob, newJobRow, requireJob, type JobDeps } from './job-store.js';
import { CLAIM_FILE, workDir } from './paths.js';
import { moveFile } from './settle.js';

export interface SubmitJobInput {
  profile: string;
  inputPath: string;
  priority?: number | null;
  dependsOn?: readonly string[] | null;
  /** Epoch ms; the job waits until then. */
  runAt?: number | null;
}

export type JobService = ReturnType<typeof createJobService>;

export function createJobService(deps: JobDeps & { executor: Executor; scheduler: Scheduler }) {
  const notAllowed = (job: Job, action: string) =>
    new SpoolError('INVALID_STATE', `cannot ${action} job ${job.id}: it is ${job.status}${job.status === 'PAUSED' ? ` (paused while ${job.pausedFrom})` : ''}`);

  const changed = async (id: string) => {
    deps.scheduler.poke();
    return (await emitUpdated(deps, id)) ?? requireJob(deps, id);
  };

  return {
    get: (id: string) => requireJob(deps, id).catch(() => undefined),
    list: (options: { status?: readonly JobStatus[]; limit?: number } = {}) => listJobs(deps.db, options),
    counts: () => statusCounts(deps.db),

    /**
     * A job on a file given by path. A file inside an inbox is claimed like a
     * dropped one; a file elsewhere is read in place and never moved.
     */
    async submit(input: SubmitJobInput): Promise<Job> {
      const config = deps.config();
      if (!config.profiles[input.profile]) {
        throw new SpoolError('BAD_USER_INPUT', `no profile named "${input.profile}"; known: ${Object.keys(config.profiles).join(', ')}`);
      }
      if (input.priority != null && (!Number.isInteger(input.priority) || input.priority < 1 || input.priority > 10)) {
        throw new SpoolError('BAD_USER_INPUT', `priority must be a whole number from 1 to 10, got ${input.priority}`);
      }
      const inputPath = path.resolve(input.inputPath);
      const stat = await fs.promises.lstat(inputPath).catch(() => null);
      if (!stat?.isFile()) throw new SpoolError('BAD_USER_INPUT', `${inputPath} is not a regular file`);
      const dependsOn = [...new Set(input.dependsOn ?? [])];
      const found = new Set(await existingIds(deps.db, dependsOn));
      const unknown = dependsOn.filter((id) => !found.has(id));
      if (unknown.length > 0) throw new SpoolError('BAD_USER_INPUT', `dependsOn names jobs that do not exist: ${unknown.join(', ')}`);
      const now = deps.clock.now();

      const options = { priority: input.priority ?? undefined, runAt: input.runAt ?? null, dependsOn };
      const inbox = config.inboxes.find((i) => path.dirname(inputPath) === i.path);
      if (inbox) {
        // In an inbox: claimed like a dropped file, so the watcher cannot take it too.
        const result = await claimFile(deps, { ...inbox, profile: input.profile }, inputPath, stat, options);
        if (result.status !== 'claimed') throw new SpoolError('BAD_USER_INPUT', `${inputPath} could not be claimed (${result.status === 'refused' ? result.reason : result.status})`);
        deps.scheduler.poke();
        return result.job;
      }
      const row = newJobRow(
        config,
        input.profile,
        { inputPath, sourcePath: inputPath, inboxPath: null, outbox: config.inboxes.find((i) => i.profile === input.profile)?.outbox ?? path.join(config.dataDir, 'outbox', input.profile), sizeBytes: stat.size, mtimeMs: stat.mtimeMs },
        now,
        options,
      );
      const job = await createJob(deps.db, row, dependsOn);
      deps.events.emit('job:created', { job });
      deps.scheduler.poke();
      return job;
    },

    async cancel(id: string): Promise<Job> {
      const job = await requireJob(deps, id);
      if (deps.executor.isLive(id)) {
        await deps.executor.cancel(id);
        return requireJob(deps, id);
      }
      if (job.status !== 'PENDING' && job.status !== 'PAUSED') throw notAllowed(job, 'cancel');
      return finishJob(deps, id, { status: 'CANCELLED', errorKind: 'cancelled', error: 'cancelled by an operator' });
    },

    async retry(id: string): Promise<Job> {
      const job = await requireJob(deps, id);
      if (job.status !== 'FAILED' && job.status !== 'CANCELLED') throw notAllowed(job, 'retry');
      const row = await getJobRow(deps.db, id);
      if (!row || row.settle_plan !== null) throw new SpoolError('INVALID_STATE', `job ${id} is still moving its files; try again in a moment`);
      let sourcePath = row.source_path;
      if (row.inbox_path !== null && path.dirname(path.dirname(sourcePath)) === row.inbox_path) {
        // Back from failed/ or cancelled/ into a work folder, so the inbox watcher does not take it as new.
        const folder = workDir(deps.config().dataDir, id);
        await fs.promises.mkdir(folder, { recursive: true });
        await fs.promises.writeFile(path.join(folder, CLAIM_FILE), JSON.stringify({ jobId: id, inboxPath: row.inbox_path, profile: row.profile, outbox: row.outbox, inputPath: row.input_path, claimedAt: row.created_at }));
        sourcePath = await moveFile(sourcePath, path.join(folder, row.file_name));
        await fs.promises.rm(`${row.source_path}.error.txt`, { force: true });
      }
      const stat = await fs.promises.stat(sourcePath).catch(() => null);
      if (!stat) throw new SpoolError('INVALID_STATE', `the source of job ${id} is gone (${sourcePath}); submit the file again`);
      const maxAttempts = deps.config().profiles[row.profile]?.maxAttempts ?? row.max_attempts;
      await updateJob(deps.db, id, {
        status: 'PENDING',
        source_path: sourcePath,
        size_bytes: stat.size,
        mtime_ms: Math.trunc(stat.mtimeMs),
        max_attempts: row.attempts + maxAttempts,
        run_after: null,
        error: null,
        error_kind: null,
        finished_at: null,
        progress: null,
        waiting_reason: 'retried by an operator',
        updated_at: deps.clock.now(),
      });
      return changed(id);
    },

    async pause(id: string): Promise<Job> {
      const job = await requireJob(deps, id);
      if (job.status === 'PENDING') {
        if (!(await updateJob(deps.db, id, { status: 'PAUSED', paused_from: 'pending', waiting_reason: 'paused by an operator', updated_at: deps.clock.now() }, ['PENDING']))) return this.pause(id);
        return changed(id);
      }
      if (job.status === 'RUNNING' && deps.executor.pause(id)) {
        await updateJob(deps.db, id, { status: 'PAUSED', paused_from: 'running', updated_at: deps.clock.now() }, ['RUNNING']);
        return changed(id);
      }
      throw notAllowed(job, 'pause');
    },

    async resume(id: string): Promise<Job> {
      const job = await requireJob(deps, id);
      if (job.status !== 'PAUSED') throw notAllowed(job, 'resume');
      if (job.pausedFrom === 'running' && deps.executor.resume(id)) {
        await updateJob(deps.db, id, { status: 'RUNNING', paused_from: null, updated_at: deps.clock.now() }, ['PAUSED']);
      } else {
        await updateJob(deps.db, id, { status: 'PENDING', paused_from: null, waiting_reason: 'resumed', updated_at: deps.clock.now() }, ['PAUSED']);
      }
      return changed(id);
    },

    async setPriority(id: string, priority: number): Promise<Job> {
      if (!Number.isInteger(priority) || priority < 1 || priority > 10) {
        throw new SpoolError('BAD_USER_INPUT', `priority must be a whole number from 1 (highest) to 10, got ${priority}`);
      }
      const job = await requireJob(deps, id);
      if (job.status === 'COMPLETED' || job.status === 'FAILED' || job.status === 'CANCELLED') throw notAllowed(job, 'change the priority of');
      await updateJob(deps.db, id, { priority, updated_at: deps.clock.now() });
      return changed(id);
    },

    pauseQueue: () => deps.scheduler.setQueuePaused(true),
    resumeQueue: () => deps.scheduler.setQueuePaused(false),
    isQueuePaused: () => deps.scheduler.isQueuePaused(),
  };
}
