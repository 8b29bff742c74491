/**
 * The in-memory side of running attempts: progress ticks and log lines are
 * held here and written to the database throttled (progress once a second,
 * logs in batches twice a second), so a chatty ffmpeg costs a few writes a
 * second, not one per line.
 */
import type { Db } from '../db/database.js';
import { updateJob } from '../db/job.repository.js';
import { appendLogLines, type NewLogLine } from '../db/log.repository.js';
import { coerceError } from '../errors.js';
import type { EventBus } from '../events.js';
import type { JobProgress } from '../jobs/job.js';
import type { Logger } from '../logger.js';

export interface ActivityBuffer {
  progress(jobId: string, progress: JobProgress): void;
  log(jobId: string, stream: string, line: string): void;
  /** Writes everything held for `jobId` (or for all jobs) now. */
  flush(jobId?: string): Promise<void>;
  stop(): Promise<void>;
}

export function createActivityBuffer(deps: { db: Db; events: EventBus; logger: Logger; now: () => number; maxLogLines: number; flushMs?: number }): ActivityBuffer {
  const flushMs = deps.flushMs ?? 500;
  const progressOf = new Map<string, JobProgress>();
  let lines: NewLogLine[] = [];
  let lastProgressWrite = 0;
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();

  const arm = () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void flush();
    }, flushMs);
    timer.unref();
  };

  const write = async (jobId?: string) => {
    const batch = jobId === undefined ? lines : lines.filter((l) => l.jobId === jobId);
    lines = jobId === undefined ? [] : lines.filter((l) => l.jobId !== jobId);
    const progress = jobId === undefined ? [...progressOf] : progressOf.has(jobId) ? [[jobId, progressOf.get(jobId)!] as const] : [];
    const writeProgress = jobId !== undefined || deps.now() - lastProgressWrite >= 1000;
    try {
      if (batch.length > 0) {
        await appendLogLines(deps.db, batch, deps.maxLogLines);
        const byJob = new Map<string, NewLogLine[]>();
        for (const l of batch) byJob.set(l.jobId, [...(byJob.get(l.jobId) ?? []), l]);
        for (const [id, jobLines] of byJob) deps.events.emit('job:log', { jobId: id, lines: jobLines });
      }
      if (writeProgress) {
        if (jobId === undefined) lastProgressWrite = deps.now();
        for (const [id, p] of progress) {
          progressOf.delete(id);
          await updateJob(deps.db, id, { progress: p.percent, fps: p.fps, speed: p.speed, eta_seconds: p.etaSeconds }, ['RUNNING', 'PAUSED']);
        }
      }
    } catch (error) {
      deps.logger.error(`cannot write job activity: ${coerceError(error).message}`);
    }
    if (lines.length > 0 || progressOf.size > 0) arm();
  };

  const flush = (jobId?: string) => {
    flushing = flushing.then(() => write(jobId));
    return flushing;
  };

  return {
    progress(jobId, progress) {
      progressOf.set(jobId, progress);
      deps.events.emit('job:progress', { jobId, progress });
      arm();
    },
    log(jobId, stream, line) {
      lines.push({ jobId, at: deps.now(), stream, line: line.length > 4000 ? `${line.slice(0, 4000)}…` : line });
      arm();
    },
    flush,
    async stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      await flush();
    },
  };
}
