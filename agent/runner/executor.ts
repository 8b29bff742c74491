/**
 * The executor runs admitted jobs: one attempt each, from the check that the
 * source is still the file that was claimed, through the kind's processes,
 * to the final state or back to the queue. It also holds the live attempts
 * for pause, resume, cancel and shutdown.
 */
import fs from 'node:fs';
import path from 'node:path';
import { finishAttemptNow, insertUsageNow, openAttemptNow } from '../db/attempt.repository.js';
import { getJobNow, getJobRowNow, hydrateNow, startJobNow, updateJobNow } from '../db/job.repository.js';
import type { DatabaseHealth } from '../db/database-health.js';
import { statementsOf } from '../db/statements.js';
import { databaseWriteFault } from '../db/write-fault.js';
import type { JobRow, JobRowUpdate } from '../db/tables.js';
import { coerceError, errnoCode } from '../errors.js';
import { endJob, sourceIsClaimed, type JobDeps, type StagedOutput } from '../jobs/job-store.js';
import { baseName, stagingDir, workRoot } from '../jobs/paths.js';
import type { MediaTools } from '../media/locate.js';
import type { Admit, Needs, RunningAttempt } from '../scheduler/admission.js';
import type { Machine } from '../scheduler/machine.js';
import { processTreeUsage } from '../samplers/process-tree.js';
import { backoffDelay } from '../scheduler/backoff.js';
import type { ActivityBuffer } from './activity.js';
import type { KindContext, KindRunner } from './kind.js';
import { AttemptError, spawnGroup, type GroupProcess } from './process.js';
import { environmentFaultAt } from './environment-fault.js';
import { verifyOutputs } from './verify-outputs.js';
import { makeLastFolder } from '../jobs/settle.js';
import type { WaitDeadlines } from '../jobs/wait-deadlines.js';

type StopReason = 'cancel' | 'stall' | 'timeout' | 'shutdown';

/** Opens the waiting reason of a job whose file may still be being written. */
export const INCOMPLETE = 'file looks incomplete: ';

function incompleteReason(why: string, graceEnds: number): string {
  return `${INCOMPLETE}${why}; waiting for the writer to finish (until ${new Date(graceEnds).toISOString()}, then it counts as bad input)`;
}

interface LiveAttempt {
  jobId: string;
  profile: string;
  category: RunningAttempt['category'];
  gpuIndex: number | null;
  encoder: 'cpu' | 'nvenc';
  startedAt: number;
  reservation: Needs;
  outboxDevice: string | null;
  /** Every live process of the attempt's trees, from the last watchdog tick. */
  treePids: number[];
  peakVramMb: number;
  /** Made when first asked for (most attempts are never stopped, and an AbortController is not free). */
  controller: AbortController | null;
  stopped: boolean;
  processes: Set<GroupProcess>;
  paused: boolean;
  stopReason: StopReason | null;
  lastActivity: number;
  peakRss: number;
  cpuSeconds: number;
  done: Promise<void>;
}

export interface ExecutorDeps extends JobDeps {
  tools: MediaTools;
  /** Runs one attempt of the profile's kind (tests may pass fakes). */
  runKind: KindRunner;
  activity: ActivityBuffer;
  /** Called when an attempt ends, so the scheduler looks at the queue again and learns from it. */
  onAttemptEnded: (profile: string) => void;
  machine: Pick<Machine, 'observedVramMb' | 'holdOutbox'>;
  /** Waits this executor sets (backoff, rechecks), held on the monotonic clock too. */
  waits: WaitDeadlines;
  /** The database's health: an attempt whose end cannot be recorded waits for it. Without it, such a write fails the attempt. */
  health?: Pick<DatabaseHealth, 'report' | 'writable' | 'whenWritable'>;
}

/** What an attempt needs of its job's row: the columns that do not change while it runs, and its attempt count. */
type AttemptRow = Pick<JobRow, 'id' | 'profile' | 'kind' | 'source_path' | 'inbox_path' | 'outbox' | 'file_name' | 'size_bytes' | 'mtime_ms' | 'attempts' | 'max_attempts'>;

/** What the executor needs of the job admission picked. */
export type AttemptCandidate = Omit<AttemptRow, 'mtime_ms'> & Pick<JobRow, 'waiting_reason'>;

export interface Executor {
  /** Starts an attempt of a job admission picked (the row as admission read it; the RUNNING write checks it still holds). */
  start(row: AttemptCandidate, admit: Admit, reservation: Needs, outboxDevice: string | null): void;
  /** Live attempts as admission sees them, less what the estimator knows of their profile (the scheduler adds it). */
  running(): Omit<RunningAttempt, 'profileCompleted'>[];
  isLive(jobId: string): boolean;
  pause(jobId: string): boolean;
  resume(jobId: string): boolean;
  /** Stops the attempt; it ends CANCELLED. Resolves once the job is settled. */
  cancel(jobId: string): Promise<void>;
  /** Shutdown: stops every attempt (SIGTERM, SIGKILL after `graceMs`) and puts its job back to PENDING. */
  interruptAll(graceMs: number): Promise<void>;
  /** Resolves when no attempt is running (or after `timeoutMs`). */
  drain(timeoutMs: number): Promise<boolean>;
}

/** What a waiting write carries along: the attempt's end in the same transaction, and what runs once it committed. */
type Alongside = { also?: () => void; committed?: () => void };

export function createExecutor(deps: ExecutorDeps): Executor {
  const live = new Map<string, LiveAttempt>();
  /** When each source that looked incomplete was last seen to change, on the monotonic clock (see graceLeftMs). */
  const lastChange = new Map<string, { size: number; mtimeMs: number; at: number }>();
  const killGraceMs = () => deps.config().jobs.killGraceSeconds * 1000;
  /** Aborted at shutdown: attempts waiting to record their end give up (start-up reconciliation runs them again). */
  const stopping = new AbortController();

  /**
   * Runs the write that records how an attempt ended until it commits. While
   * the database cannot be written the attempt stays live (its reservation
   * held, its outputs in staging, its source in the work area): nothing is
   * published and no source moved before a committed row says so. At
   * shutdown it gives up; the row still says RUNNING, and start-up
   * reconciliation removes the staged outputs and runs the job again.
   */
  async function recorded<T>(jobId: string, write: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await write();
      } catch (error) {
        const health = deps.health;
        if (!health || databaseWriteFault(error) === null || stopping.signal.aborted) throw error;
        health.report(error);
        if (health.writable()) throw error;
        deps.logger.debug(`job ${jobId}: its attempt ended; waiting for the database to record it`, { job: jobId });
        await health.whenWritable(stopping.signal);
      }
    }
  }

  const stop = async (attempt: LiveAttempt, reason: StopReason, graceMs: number) => {
    attempt.stopReason ??= reason;
    attempt.stopped = true;
    attempt.controller?.abort();
    await Promise.all([...attempt.processes].map((p) => p.terminate(graceMs)));
  };

  const start = (row: AttemptCandidate, admit: Admit, reservation: Needs, outboxDevice: string | null) => {
    const attempt: LiveAttempt = {
      jobId: row.id,
      profile: row.profile,
      category: admit.category,
      gpuIndex: admit.placement.gpuIndex,
      encoder: admit.placement.encoder,
      startedAt: deps.clock.monotonic(),
      reservation,
      outboxDevice,
      treePids: [],
      peakVramMb: 0,
      controller: null,
      stopped: false,
      processes: new Set(),
      paused: false,
      stopReason: null,
      lastActivity: deps.clock.monotonic(),
      peakRss: 0,
      cpuSeconds: 0,
      done: Promise.resolve(),
    };
    live.set(row.id, attempt);
    attempt.done = runAttempt(row, admit, attempt)
      .catch((error) => {
        if (databaseWriteFault(error) !== null) deps.logger.warn(`job ${row.id}: how its attempt ended could not be recorded (the database cannot be written); it runs again at the next start`, { job: row.id });
        else deps.logger.error(`attempt of job ${row.id} broke: ${coerceError(error).stack ?? String(error)}`, { job: row.id });
      })
      .finally(() => {
        live.delete(row.id);
        deps.onAttemptEnded(row.profile);
      });
  };

  async function runAttempt(candidate: AttemptCandidate, admit: Admit, attempt: LiveAttempt): Promise<void> {
    const config = deps.config();
    const profile = config.profiles[candidate.profile];
    const now = deps.clock.now();
    const startedMono = deps.clock.monotonic();
    if (!profile) {
      await recorded(candidate.id, () => endJob(deps, candidate.id, { status: 'FAILED', errorKind: 'internal', error: `profile "${candidate.profile}" is no longer in the config` }));
      return;
    }
    // A writer that paused longer than the stability window may still be filling the file.
    const seen = await statSource(candidate.source_path);
    // The RUNNING write and the attempt row go in one transaction, and only
    // if the job is still PENDING on the file as claimed.
    const starting = statementsOf(deps.db).write(() => {
      // Only a job admission saw waiting as incomplete needs its row read first (the window follows every change of that reason).
      const waiting = candidate.waiting_reason?.startsWith(INCOMPLETE) ? getJobRowNow(deps.db, candidate.id) : undefined;
      const grace = waiting ? incompleteGraceOf(waiting) : null;
      if (waiting?.status === 'PENDING' && grace !== null && waiting.waiting_reason?.startsWith(INCOMPLETE) && !(seen instanceof Error) && sourceChangeOf(waiting, seen) === null) {
        // Still the same bytes as when it looked incomplete: wait on, unless the grace is over (then run and decide).
        const graceLeft = graceLeftMs(waiting.id, seen, grace);
        if (graceLeft > 0) {
          updateJobNow(deps.db, waiting.id, { run_after: deps.waits.after(waiting.id, Math.min(graceLeft, recheckMs(waiting))), updated_at: now });
          return { skip: true as const };
        }
      }
      const patch = {
        started_at: now,
        updated_at: now,
        gpu_index: admit.placement.gpuIndex,
        encoder: candidate.kind === 'transcode' ? admit.placement.encoder : null,
        waiting_reason: null,
        progress: 0,
        fps: null,
        speed: null,
        eta_seconds: null,
        error: null,
        error_kind: null,
      };
      /**
       * RUNNING if the row still holds what `known` says (the columns the
       * update matches on); the attempt then runs on `known` with the new
       * count, since the columns it reads do not change while it waits.
       */
      const tryStart = (known: Omit<AttemptRow, 'mtime_ms'>, stat: fs.Stats) => {
        const expected = { path: known.source_path, sizeBytes: stat.size, mtimeMs: Math.trunc(stat.mtimeMs), attempts: known.attempts };
        if (!startJobNow(deps.db, known.id, expected, patch)) return undefined;
        const row: AttemptRow = {
          id: known.id,
          profile: known.profile,
          kind: known.kind,
          source_path: expected.path,
          inbox_path: known.inbox_path,
          outbox: known.outbox,
          file_name: known.file_name,
          size_bytes: expected.sizeBytes,
          mtime_ms: expected.mtimeMs,
          attempts: expected.attempts + 1,
          max_attempts: known.max_attempts,
        };
        const attemptRow = openAttemptNow(deps.db, { job_id: row.id, started_at: now, encoder: admit.placement.encoder, gpu_index: admit.placement.gpuIndex });
        // The job as written is read for its event only if someone listens.
        return { skip: false as const, row, changed: null, attemptRow, job: deps.events.listening('job:updated') ? getJobNow(deps.db, row.id) : undefined };
      };
      const begun = seen instanceof Error ? undefined : tryStart(candidate, seen);
      if (begun) return begun;
      const row = getJobRowNow(deps.db, candidate.id);
      if (!row || row.status !== 'PENDING') return { skip: true as const }; // cancelled or paused between admission and start
      if (row.source_path !== candidate.source_path) return { skip: false as const, row, changed: 'recheck' as const }; // moved since admission read it: admission looks again when this ends
      const changed = sourceChangeOf(row, seen);
      if (changed !== null) return { skip: false as const, row, changed };
      // Only its attempt count differed from what admission saw (a stale window would offer it again and again): start on the row as read.
      return (seen instanceof Error ? undefined : tryStart(row, seen)) ?? { skip: false as const, row, changed: 'recheck' as const };
    });
    let started: Awaited<typeof starting>;
    try {
      started = await starting;
    } catch (error) {
      // Nothing ran and the job is still PENDING; admission starts it again once the database can be written.
      if (databaseWriteFault(error) !== null) return;
      throw error;
    }
    if (started.skip || started.changed === 'recheck') return;
    if (started.changed !== null) {
      await requeueChanged(started.row, started.changed, false);
      return;
    }
    const { row, attemptRow } = started;
    const number = row.attempts;
    if (started.job) deps.events.emit('job:updated', { job: started.job });

    const staging = stagingDir(row.outbox, row.id);
    /** Made on the first spawn: a kind that runs nothing (or fails before) leaves no folder to clean. */
    const folder: { made: Promise<void> | null } = { made: null };
    const watchdog = startWatchdog(attempt, profile.stallTimeoutSeconds * 1000, profile.timeoutSeconds * 1000);
    deps.activity.log(row.id, 'agent', `attempt ${number} of ${row.max_attempts} started (${admit.placement.encoder}${admit.placement.gpuIndex === null ? '' : ` on GPU ${admit.placement.gpuIndex}`})`);

    const ctx: KindContext = {
      jobId: row.id,
      inputPath: row.source_path,
      fileName: row.file_name,
      outputBase: baseName(row.file_name),
      profile,
      stagingDir: staging,
      tools: deps.tools,
      placement: admit.placement,
      get signal() {
        if (!attempt.controller) {
          attempt.controller = new AbortController();
          if (attempt.stopped) attempt.controller.abort();
        }
        return attempt.controller.signal;
      },
      exec: async (file, args, options = {}) => {
        if (attempt.stopped) throw new AttemptError('transient', 'the attempt was stopped', { isCanceled: true });
        await (folder.made ??= makeEmptyDir(staging));
        if (attempt.stopped) throw new AttemptError('transient', 'the attempt was stopped', { isCanceled: true });
        const child = spawnGroup(file, args, {
          cwd: options.cwd,
          env: { ...process.env, ...options.env, ...(admit.placement.gpuIndex === null ? {} : { CUDA_DEVICE_ORDER: 'PCI_BUS_ID', CUDA_VISIBLE_DEVICES: String(admit.placement.gpuIndex) }) },
          rawStdout: true,
          onStdout: (chunk) => {
            attempt.lastActivity = deps.clock.monotonic();
            options.onStdout?.(chunk);
          },
          onStderrLine: (line) => {
            attempt.lastActivity = deps.clock.monotonic();
            deps.activity.log(row.id, 'stderr', line);
            options.onStderrLine?.(line);
          },
        });
        attempt.processes.add(child);
        deps.events.emit('job:spawned', { jobId: row.id, pid: child.pid, file });
        if (attempt.paused) child.pause();
        return child.exited.finally(() => attempt.processes.delete(child));
      },
      progress: (p) => {
        attempt.lastActivity = deps.clock.monotonic();
        deps.activity.progress(row.id, p);
      },
      log: (line) => deps.activity.log(row.id, 'agent', line),
    };

    let failure: AttemptError | undefined;
    /** What the kind threw, before wrapping: a Node errno error keeps its code and path for the environment check. */
    let thrown: unknown;
    let result: Awaited<ReturnType<KindRunner>> = {};
    try {
      result = await deps.runKind(ctx);
    } catch (error) {
      thrown = error;
      failure = error instanceof AttemptError ? error : new AttemptError('internal', coerceError(error).message);
    } finally {
      watchdog();
    }
    // A spawn still making its folder when the kind gave up: let it finish, so the cleanup below sees the folder.
    await folder.made?.catch(() => undefined);
    const made = folder.made !== null;
    // The attempt's last lines and progress go in the transaction of the state it ends in.
    const held = deps.activity.take(row.id);
    const ended = deps.clock.now();
    const ranMs = deps.clock.monotonic() - startedMono;
    const removeStaging = () => (made ? fs.promises.rm(staging, { recursive: true, force: true }) : Promise.resolve());
    const cleanup = made ? [staging] : [];
    /** Writes the held activity and closes the attempt's row; runs inside the transaction of the state it ends in. */
    const attemptEnd = (outcome: string, error?: AttemptError) => () => {
      deps.activity.writeNow(held);
      finishAttemptNow(deps.db, row.id, attemptRow, {
        finished_at: ended,
        outcome,
        exit_code: error?.exitCode ?? null,
        signal: error?.signal ?? null,
        error_kind: error?.kind ?? null,
        error: error?.message ?? null,
        peak_rss_bytes: attempt.peakRss || null,
        cpu_seconds: attempt.cpuSeconds || null,
      });
    };
    const committed = () => deps.activity.written(held);

    switch (attempt.stopReason) {
      case 'cancel':
        await recorded(row.id, () => endJob(deps, row.id, { status: 'CANCELLED', errorKind: 'cancelled', error: 'cancelled by an operator', cleanup }, { also: attemptEnd('cancelled'), committed }));
        return;
      case 'shutdown':
        await removeStaging();
        // The agent stopped, not the job: this attempt does not count.
        await recorded(row.id, () =>
          statementsOf(deps.db).write(() => {
            attemptEnd('interrupted')();
            updateJobNow(deps.db, row.id, { status: 'PENDING', attempts: number - 1, paused_from: null, waiting_reason: 'interrupted by an agent stop; runs again at start', progress: null, updated_at: ended });
          }),
        );
        committed();
        return;
      case 'stall':
        failure = new AttemptError('transient', `no progress for ${profile.stallTimeoutSeconds} s (stalled); the process was stopped`, { timedOut: true });
        break;
      case 'timeout':
        failure = new AttemptError('transient', `took longer than the profile's limit of ${profile.timeoutSeconds} s; the process was stopped`, { timedOut: true });
        break;
    }

    // ffmpeg exits 0 on half a file: outputs must open and, for full-length kinds, last as long as the input says.
    const outputs = !failure && made ? await stagedOutputs(staging) : [];
    if (!failure) {
      try {
        await verifyOutputs({ kind: row.kind, tools: deps.tools, outputs: outputs.map((o) => o.staged), inputSeconds: result.mediaSeconds });
      } catch (error) {
        failure = error instanceof AttemptError ? error : new AttemptError('internal', coerceError(error).message);
        // Some muxers drop a write error and exit 0: a broken output on an outbox with no room left is a full disk, not bad input.
        if (await outboxIsFull(staging)) thrown = Object.assign(new Error(`no space left on ${row.outbox}`), { code: 'ENOSPC', path: row.outbox });
      }
    }

    const sourceChanged = await sourceChange(row);
    if (sourceChanged) {
      await removeStaging();
      await requeueChanged(row, sourceChanged, true, { also: attemptEnd('requeued', new AttemptError('transient', sourceChanged)), committed });
      return;
    }

    if (failure && !failure.isCanceled) {
      const places = [
        { label: 'outbox', path: row.outbox },
        { label: 'work area', path: path.dirname(row.source_path) },
      ];
      const fault = await environmentFaultAt(thrown ?? failure, places).catch(() => null);
      if (fault) {
        // Partial outputs go; on a read-only outbox there may be nothing to remove, or no way to.
        await removeStaging().catch((error) => deps.logger.warn(`job ${row.id}: cannot remove ${staging}: ${coerceError(error).message}`, { job: row.id }));
        // The other jobs for that outbox need not each find out by trying.
        if (fault.place.label === 'outbox') deps.machine.holdOutbox(row.outbox, fault.message);
        await waitEnvironment(row, fault.message, { also: attemptEnd('environment', failure), committed });
        return;
      }
    }

    if (failure?.kind === 'bad_input') {
      const grace = incompleteGraceOf(row);
      const stat = grace === null ? null : await statSource(row.source_path);
      const graceLeft = grace !== null && stat !== null && !(stat instanceof Error) ? graceLeftMs(row.id, stat, grace) : 0;
      if (graceLeft > 0) {
        await removeStaging();
        await waitIncomplete(row, failure.message, graceLeft, { also: attemptEnd('incomplete', failure), committed });
        return;
      }
    }

    /** What this attempt used, for the profile's estimates; on the caller's transaction. */
    const recordUsage = (outcome: 'completed' | 'failed', outputBytes: number, mediaSeconds: number | null) =>
      insertUsageNow(deps.db, {
        profile: row.profile,
        job_id: row.id,
        recorded_at: ended,
        wall_seconds: ranMs / 1000,
        cpu_seconds: attempt.cpuSeconds || null,
        peak_rss_bytes: attempt.peakRss || null,
        peak_vram_mb: attempt.peakVramMb || null,
        input_bytes: row.size_bytes,
        output_bytes: outputBytes,
        media_seconds: mediaSeconds,
        encoder: admit.placement.encoder,
        outcome,
      });

    if (failure) {
      // What a dying attempt was seen holding on the GPU is a floor on what its profile needs (estimates.ts).
      const died = () => {
        if (attempt.peakVramMb > 0) recordUsage('failed', 0, null);
      };
      const retry = failure.kind === 'transient' && number < row.max_attempts;
      deps.logger.warn(`job ${row.id} attempt ${number} failed: ${failure.message}${retry ? '; will retry' : ''}`, { job: row.id, inbox: row.inbox_path });
      // The job's own log says it too, with the signal, so the console and `spool job` show why an attempt ended.
      const killedBy = failure.signal && !failure.message.includes(failure.signal) ? ` (killed by ${failure.signal})` : '';
      deps.activity.log(row.id, 'agent', `attempt ${number} failed: ${failure.message}${killedBy}${retry ? '; retrying after a pause' : ''}`);
      if (retry) {
        await removeStaging();
        const jobs = deps.config().jobs;
        const runAfter = deps.waits.after(row.id, backoffDelay(number, jobs.backoffBaseSeconds * 1000, jobs.backoffMaxSeconds * 1000));
        const end = attemptEnd('failed', failure);
        const message = failure.message;
        const kind = failure.kind;
        const job = await recorded(row.id, () =>
          statementsOf(deps.db).write(() => {
            end();
            died();
            const written = updateJobNow(deps.db, row.id, { status: 'PENDING', run_after: runAfter, error: message, error_kind: kind, progress: null, updated_at: ended, waiting_reason: `attempt ${number} failed; retrying at ${new Date(runAfter).toISOString()}` });
            return written ? hydrateNow(deps.db, [written])[0] : undefined;
          }),
        );
        committed();
        if (job) deps.events.emit('job:updated', { job });
        return;
      }
      const error = failure.kind === 'transient' ? `${failure.message} (after ${number} attempts)` : failure.message;
      const end = attemptEnd('failed', failure);
      await recorded(row.id, () =>
        endJob(deps, row.id, { status: 'FAILED', errorKind: failure.kind, error, cleanup }, {
          also: () => {
            end();
            died();
          },
          committed,
        }),
      );
      return;
    }

    const end = attemptEnd('completed');
    await recorded(row.id, () => endJob(deps, row.id, { status: 'COMPLETED', outputs, result: result.result, cleanup }, {
      also: () => {
        end();
        recordUsage('completed', outputs.reduce((sum, o) => sum + o.sizeBytes, 0), result.mediaSeconds ?? null);
      },
      committed,
    }));
    deps.logger.info(`job ${row.id} completed: ${outputs.map((o) => path.basename(o.staged)).join(', ') || 'no output files'}`, { job: row.id, inbox: row.inbox_path });
  }

  /**
   * The source's size and mtime now, or the error that says why they cannot
   * be read. A claimed file in the agent's own work area (local, like the
   * database) is looked at synchronously; anything else (a file used in
   * place, maybe on a network mount) through the thread pool.
   */
  function statSource(file: string): Promise<fs.Stats | Error> {
    if (file.startsWith(workRoot(deps.config().dataDir) + path.sep)) {
      try {
        return Promise.resolve(fs.statSync(file));
      } catch (error) {
        return Promise.resolve(coerceError(error));
      }
    }
    return new Promise((resolve) => fs.stat(file, (error, stat) => resolve(error ? coerceError(error) : stat)));
  }

  /** A sentence if the claimed file's size or mtime moved since the claim. */
  function sourceChangeOf(row: Pick<JobRow, 'size_bytes' | 'mtime_ms'>, stat: fs.Stats | Error): string | null {
    if (stat instanceof Error) return `the source file is missing (${stat.message})`;
    if (stat.size === row.size_bytes && Math.trunc(stat.mtimeMs) === row.mtime_ms) return null;
    return `the file changed since it was claimed (${row.size_bytes} → ${stat.size} bytes); it is still being written`;
  }

  async function sourceChange(row: Pick<JobRow, 'source_path' | 'size_bytes' | 'mtime_ms'>): Promise<string | null> {
    return sourceChangeOf(row, await statSource(row.source_path));
  }

  /** The inbox's incompleteGraceSeconds in ms, or null for a job not taken from an inbox (a follow-on's input is our own output). */
  function incompleteGraceOf(row: Pick<JobRow, 'inbox_path'>): number | null {
    if (row.inbox_path === null) return null;
    const inbox = deps.config().inboxes.find((i) => i.path === row.inbox_path);
    return inbox ? inbox.incompleteGraceSeconds * 1000 : null;
  }

  /**
   * How much of the incomplete-file grace is left for a source as it is now.
   * The grace counts from the file's last change. The first look takes the
   * file's age from its mtime, a wall-clock time, so the age is clamped to
   * [0, grace]: an mtime in the future or a clock step gives at most the
   * whole grace, never an hour more. From then on the age is measured on the
   * monotonic clock, and a change seen since starts it again.
   */
  function graceLeftMs(jobId: string, stat: fs.Stats, graceMs: number): number {
    const now = deps.clock.monotonic();
    const mtimeMs = Math.trunc(stat.mtimeMs);
    let seen = lastChange.get(jobId);
    if (!seen || seen.size !== stat.size || seen.mtimeMs !== mtimeMs) {
      const age = seen ? 0 : Math.min(graceMs, Math.max(0, deps.clock.now() - mtimeMs));
      lastChange.delete(jobId);
      if (lastChange.size >= 10_000) lastChange.delete(lastChange.keys().next().value!);
      seen = { size: stat.size, mtimeMs, at: now - age };
      lastChange.set(jobId, seen);
    }
    return seen.at + graceMs - now;
  }

  /**
   * Unreadable input, or a short output, from a file that changed within the
   * grace: a writer may only have paused (a stalled network copy). The job
   * waits without using up an attempt; each recheck at start is one stat, and
   * it runs again when the file changes or the grace runs out (then, still
   * unreadable, it is bad input).
   */
  async function waitIncomplete(row: AttemptRow, why: string, graceLeftMs: number, alongside: Alongside): Promise<void> {
    const graceEnds = deps.clock.now() + graceLeftMs;
    await waitWithoutAttempt(row, Math.min(graceLeftMs, recheckMs(row)), incompleteReason(why, graceEnds), alongside);
    deps.logger.warn(`job ${row.id}: file looks incomplete (${why}); waiting for the writer`, { job: row.id, inbox: row.inbox_path });
    deps.activity.log(row.id, 'agent', `file looks incomplete: ${why}; waiting for the file to change (until ${new Date(graceEnds).toISOString()})`);
  }

  /**
   * The box, not the job, failed (a full or read-only outbox, a forbidden
   * work area): back to PENDING without using up an attempt, looked at
   * again after the backoff base; admission also holds work for an outbox
   * below minFreeDiskMb, so a full disk is not hammered.
   */
  async function waitEnvironment(row: AttemptRow, fault: string, alongside: Alongside): Promise<void> {
    const retryAt = deps.clock.now() + environmentWaitMs();
    await backToPending(row, environmentWaitMs(), `${fault}; runs again by itself when it can write there (next try ${new Date(retryAt).toISOString()})`, true, alongside);
    deps.logger.warn(`job ${row.id}: ${fault}; the job waits (no attempt used up)`, { job: row.id, inbox: row.inbox_path });
    deps.activity.log(row.id, 'agent', `${fault}; waiting, no attempt used up`);
  }

  /** Back to PENDING without using up the attempt this run took. */
  function waitWithoutAttempt(row: AttemptRow, waitMs: number, reason: string, alongside: Alongside): Promise<void> {
    return backToPending(row, waitMs, reason, true, alongside);
  }

  /**
   * Back to PENDING for `waitMs` with `reason` (and `patch`); `givesBack`:
   * the attempt this run took does not count.
   */
  async function backToPending(row: AttemptRow, waitMs: number, reason: string, givesBack: boolean, alongside: Alongside, patch: JobRowUpdate = {}): Promise<void> {
    const now = deps.clock.now();
    const runAfter = deps.waits.after(row.id, waitMs);
    const job = await recorded(row.id, () =>
      statementsOf(deps.db).write(() => {
        alongside.also?.();
        const attempts = getJobRowNow(deps.db, row.id)?.attempts ?? row.attempts;
        const written = updateJobNow(deps.db, row.id, {
          ...patch,
          status: 'PENDING',
          attempts: givesBack ? Math.max(0, attempts - 1) : attempts,
          run_after: runAfter,
          progress: null,
          waiting_reason: reason,
          updated_at: now,
        });
        return written ? hydrateNow(deps.db, [written])[0] : undefined;
      }),
    );
    alongside.committed?.();
    if (job) deps.events.emit('job:updated', { job });
  }

  /** How long a job waits on the box (a place it cannot write, a folder that is away) before it is tried again. */
  function environmentWaitMs(): number {
    return Math.max(1000, deps.config().jobs.backoffBaseSeconds * 1000);
  }

  function recheckMs(row: Pick<JobRow, 'inbox_path'>): number {
    const inbox = deps.config().inboxes.find((i) => i.path === row.inbox_path);
    return Math.max(1000, (inbox?.stableSeconds ?? 2) * 1000);
  }

  /** Back to waiting for a file that is still being written: it runs again on the whole file once it has settled. */
  async function requeueChanged(row: AttemptRow, reason: string, attemptStarted: boolean, alongside: Alongside = {}): Promise<void> {
    const stat = await statSource(row.source_path);
    if (stat instanceof Error) {
      // A file read in place whose whole folder is gone sits on a share that is away: wait for it, do not fail it.
      const folder = path.dirname(row.source_path);
      if (!sourceIsClaimed(deps.config(), row) && !(await fs.promises.stat(folder).then(() => true, () => false))) {
        await backToPending(row, environmentWaitMs(), `the folder of its source, ${folder}, is missing (unmounted or removed?); it runs once the folder is back`, attemptStarted, alongside);
        deps.logger.warn(`job ${row.id}: the folder of its source, ${folder}, is missing; waiting for it`, { job: row.id });
        return;
      }
      await recorded(row.id, () => endJob(deps, row.id, { status: 'FAILED', errorKind: 'internal', error: reason }, alongside));
      return;
    }
    const patch = { size_bytes: stat.size, mtime_ms: Math.trunc(stat.mtimeMs) };
    await backToPending(row, recheckMs(row), `${reason}; waiting for it to settle`, attemptStarted, alongside, patch);
    deps.logger.info(`job ${row.id}: ${reason}; waiting for it to settle`, { job: row.id, inbox: row.inbox_path });
  }

  /** Stall and timeout checks, plus CPU and RSS samples of the attempt's processes. Returns its stopper. */
  function startWatchdog(attempt: LiveAttempt, stallMs: number, timeoutMs: number): () => void {
    const startedAt = deps.clock.monotonic();
    const tickMs = Math.min(1000, Math.max(250, stallMs / 4));
    const tick = async () => {
      const now = deps.clock.monotonic();
      if (attempt.paused) attempt.lastActivity = now;
      if (now - attempt.lastActivity > stallMs) void stop(attempt, 'stall', killGraceMs());
      else if (timeoutMs > 0 && now - startedAt > timeoutMs) void stop(attempt, 'timeout', killGraceMs());
      const roots = [...attempt.processes].map((p) => p.pid).filter((pid) => pid > 0);
      if (roots.length === 0) return;
      try {
        // The whole tree: a command may start helpers that hold the CPU, memory or GPU.
        const trees = await processTreeUsage(roots);
        attempt.treePids = trees.flatMap((t) => t.pids);
        attempt.peakRss = Math.max(attempt.peakRss, trees.reduce((sum, t) => sum + t.rssMb, 0) * 2 ** 20);
        attempt.cpuSeconds += trees.reduce((sum, t) => sum + t.cpuCores, 0) * (tickMs / 1000);
        attempt.peakVramMb = Math.max(attempt.peakVramMb, deps.machine.observedVramMb(attempt.treePids));
      } catch {
        // The process ended between listing and sampling.
      }
    };
    const interval = setInterval(() => void tick(), tickMs);
    interval.unref();
    return () => {
      clearInterval(interval);
    };
  }

  return {
    start,
    running: () =>
      [...live.values()].map((a) => ({
        jobId: a.jobId,
        profile: a.profile,
        category: a.category,
        gpuIndex: a.gpuIndex,
        encoder: a.encoder,
        startedAt: a.startedAt,
        reservation: a.reservation,
        observedVramMb: a.gpuIndex === null ? 0 : deps.machine.observedVramMb(a.treePids.length > 0 ? a.treePids : [...a.processes].map((p) => p.pid)),
        outboxDevice: a.outboxDevice,
      })),
    isLive: (jobId) => live.has(jobId),
    pause(jobId) {
      const attempt = live.get(jobId);
      if (!attempt) return false;
      attempt.paused = true;
      for (const p of attempt.processes) p.pause();
      return true;
    },
    resume(jobId) {
      const attempt = live.get(jobId);
      if (!attempt) return false;
      attempt.paused = false;
      attempt.lastActivity = deps.clock.monotonic();
      for (const p of attempt.processes) p.resume();
      return true;
    },
    async cancel(jobId) {
      const attempt = live.get(jobId);
      if (!attempt) return;
      await stop(attempt, 'cancel', killGraceMs());
      await attempt.done;
    },
    async interruptAll(graceMs) {
      stopping.abort(new Error('the agent is stopping'));
      const attempts = [...live.values()];
      await Promise.all(attempts.map((a) => stop(a, 'shutdown', graceMs)));
      await Promise.all(attempts.map((a) => a.done));
    },
    async drain(timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      while (live.size > 0 && performance.now() < deadline) {
        await Promise.race([Promise.all([...live.values()].map((a) => a.done)), new Promise((r) => setTimeout(r, Math.max(0, Math.min(250, deadline - performance.now()))))]);
      }
      return live.size === 0;
    },
  };
}

/** Whether the filesystem of `dir` has less than 1 MiB left for us (statfs; false when it cannot say). */
async function outboxIsFull(dir: string): Promise<boolean> {
  try {
    const stats = await fs.promises.statfs(dir);
    return stats.bavail * stats.bsize < 2 ** 20;
  } catch {
    return false;
  }
}

/**
 * An empty folder at `dir`: one mkdir when it is new (the usual case); a
 * leftover of an earlier attempt is emptied first.
 */
/**
 * A fresh staging folder `<outbox>/.spool-tmp/<jobId>`. The outbox itself is
 * never made here: missing, it is an unmounted share or a removed folder
 * (an environment fault the job waits out), not a place to fill the local disk.
 */
async function makeEmptyDir(dir: string): Promise<void> {
  try {
    await fs.promises.mkdir(dir);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'EEXIST') await fs.promises.rm(dir, { recursive: true, force: true });
    else if (code !== 'ENOENT') throw error;
    await makeLastFolder(path.dirname(dir));
    await fs.promises.mkdir(dir);
  }
}

async function stagedOutputs(staging: string): Promise<StagedOutput[]> {
  const entries = await fs.promises.readdir(staging, { withFileTypes: true });
  const outputs: StagedOutput[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isFile()) continue;
    const full = path.join(staging, entry.name);
    const stat = await fs.promises.stat(full);
    outputs.push({ staged: full, sizeBytes: stat.size, mtimeMs: stat.mtimeMs });
  }
  return outputs;
}
