/**
 * The in-memory side of running attempts: progress ticks and log lines are
 * held here and written to the database throttled (progress once a second,
 * logs in batches twice a second), so a chatty ffmpeg costs a few writes a
 * second, not one per line. What is left of an attempt when it ends is
 * taken by the executor and written in the transaction of the job's next
 * state, so its log is complete before that state is seen.
 */
import type { Db } from '../db/database.js';
import { updateJobNow } from '../db/job.repository.js';
import { appendLogLinesNow, type NewLogLine } from '../db/log.repository.js';
import { statementsOf } from '../db/statements.js';
import { databaseWriteFault } from '../db/write-fault.js';
import { coerceError } from '../errors.js';
import type { EventBus } from '../events.js';
import type { JobProgress } from '../jobs/job.js';
import type { Logger } from '../logger.js';

/** Lines and progress taken from the buffer, to be written together. */
export interface HeldActivity {
  lines: NewLogLine[];
  progress: Array<readonly [string, JobProgress]>;
}

export interface ActivityBuffer {
  progress(jobId: string, progress: JobProgress): void;
  log(jobId: string, stream: string, line: string): void;
  /** Writes everything held for `jobId` (or for all jobs) now. */
  flush(jobId?: string): Promise<void>;
  /** Takes everything held for `jobId`, to be written with `writeNow` inside the caller's transaction. */
  take(jobId: string): HeldActivity;
  /** Writes taken activity on the caller's transaction. */
  writeNow(held: HeldActivity): void;
  /** Announces taken activity once its transaction committed (`job:log`). */
  written(held: HeldActivity): void;
  stop(): Promise<void>;
}

export function createActivityBuffer(deps: { db: Db; events: EventBus; logger: Logger; now: () => number; maxLogLines: number; flushMs?: number }): ActivityBuffer {
  const flushMs = deps.flushMs ?? 500;
  const progressOf = new Map<string, JobProgress>();
  /** Held lines per job, in arrival order. */
  const linesOf = new Map<string, NewLogLine[]>();
  let lastProgressWrite = 0;
  let timer: NodeJS.Timeout | undefined;

  const arm = () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void flush();
    }, flushMs);
    timer.unref();
  };
  const rearm = () => {
    if (linesOf.size > 0 || progressOf.size > 0) arm();
  };

  const take = (jobId: string): HeldActivity => {
    const lines = linesOf.get(jobId) ?? [];
    linesOf.delete(jobId);
    const progress = progressOf.get(jobId);
    progressOf.delete(jobId);
    return { lines, progress: progress ? [[jobId, progress] as const] : [] };
  };

  const writeNow = (held: HeldActivity) => {
    appendLogLinesNow(deps.db, held.lines, deps.maxLogLines);
    for (const [id, p] of held.progress) updateJobNow(deps.db, id, { progress: p.percent, fps: p.fps, speed: p.speed, eta_seconds: p.etaSeconds }, ['RUNNING', 'PAUSED']);
  };

  const written = (held: HeldActivity) => {
    for (const [id, jobLines] of byJob(held.lines)) deps.events.emit('job:log', { jobId: id, lines: jobLines });
  };

  // What is held is taken at once and written in the next group commit, so
  // flushes of many jobs share one transaction, and the lines of one job
  // still reach the database in the order they came.
  const flush = (jobId?: string): Promise<void> => {
    let held: HeldActivity;
    if (jobId !== undefined) {
      held = take(jobId);
    } else {
      const writeProgress = deps.now() - lastProgressWrite >= 1000;
      held = { lines: [...linesOf.values()].flat(), progress: writeProgress ? [...progressOf] : [] };
      linesOf.clear();
      if (writeProgress) {
        lastProgressWrite = deps.now();
        progressOf.clear();
      }
    }
    if (held.lines.length === 0 && held.progress.length === 0) {
      rearm();
      return Promise.resolve();
    }
    return statementsOf(deps.db)
      .write(() => writeNow(held))
      .then(
        () => written(held),
        (error) => {
          // The database cannot be written (its health logs that once): hold on to it for the next flush.
          if (databaseWriteFault(error) !== null) putBack(held);
          else deps.logger.error(`cannot write job activity: ${coerceError(error).message}`);
        },
      )
      .finally(rearm);
  };

  /**
   * A tool printing faster than the flushes write (thousands of lines in
   * half a second) would otherwise grow the agent by every line in between,
   * though the log keeps only the newest `maxLogLines`: the held list is cut
   * to those, behind one line that says how many went (live readers see it).
   * Cut in halves, so a flood costs one splice per `maxLogLines` lines.
   */
  const markers = new Map<string, { line: NewLogLine; count: number }>();
  const keepNewest = (jobId: string, list: NewLogLine[]) => {
    const previous = markers.get(jobId);
    const hasMarker = previous !== undefined && list[0] === previous.line;
    const cut = list.length - deps.maxLogLines;
    const count = (hasMarker ? previous.count - 1 : 0) + cut;
    const line: NewLogLine = { jobId, at: list[cut]!.at, stream: 'agent', line: `… ${count} lines not kept: more than ${deps.maxLogLines} lines came between two writes of the job's log (jobs.maxLogLines keeps the newest)` };
    list.splice(0, cut, line);
    if (markers.size >= 1000 && !markers.has(jobId)) markers.clear();
    markers.set(jobId, { line, count });
  };

  /** Puts activity that could not be written back in front of what came since, at most `maxLogLines` per job. */
  const putBack = (held: HeldActivity) => {
    for (const [id, older] of byJob(held.lines)) {
      const lines = [...older, ...(linesOf.get(id) ?? [])];
      linesOf.set(id, lines.length > deps.maxLogLines ? lines.slice(-deps.maxLogLines) : lines);
    }
    for (const [id, progress] of held.progress) if (!progressOf.has(id)) progressOf.set(id, progress);
  };

  return {
    progress(jobId, progress) {
      progressOf.set(jobId, progress);
      deps.events.emit('job:progress', { jobId, progress });
      arm();
    },
    log(jobId, stream, line) {
      const entry = { jobId, at: deps.now(), stream, line: line.length > 4000 ? `${line.slice(0, 4000)}…` : line };
      const list = linesOf.get(jobId);
      if (!list) linesOf.set(jobId, [entry]);
      else if (list.push(entry) >= 2 * deps.maxLogLines) keepNewest(jobId, list);
      arm();
    },
    flush,
    take,
    writeNow,
    written,
    async stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      await flush();
    },
  };
}

/** Lines grouped by job, each group in arrival order. */
function byJob(lines: readonly NewLogLine[]): Map<string, NewLogLine[]> {
  const groups = new Map<string, NewLogLine[]>();
  for (const line of lines) {
    const list = groups.get(line.jobId);
    if (list) list.push(line);
    else groups.set(line.jobId, [line]);
  }
  return groups;
}
