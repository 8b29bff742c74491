/**
 * The read side the API needs: pages of jobs, counts, and the per-job
 * details (logs, attempts, follow-ons) fetched for many jobs at once so a
 * page of fifty jobs costs a fixed number of queries.
 */
import type { Db } from '../db/database.js';
import { attemptsOf, countJobs, followOnsOf, lastLogLinesOf, logLinesAfter, logLinesBefore, pageJobs, statusCounts, type JobCursor, type JobFilter, type JobPage } from '../db/job-list.repository.js';
import { getJobs } from '../db/job.repository.js';
import type { Job, JobStatus } from './job.js';

export interface LogLine {
  /** Position in the job's log, for paging on; null on a line streamed live before it is stored. */
  seq: number | null;
  at: number;
  stream: string;
  line: string;
}

export interface Attempt {
  number: number;
  startedAt: number;
  finishedAt: number | null;
  outcome: string | null;
  exitCode: number | null;
  signal: string | null;
  errorKind: string | null;
  error: string | null;
  encoder: string | null;
  gpuIndex: number | null;
  peakRssBytes: number | null;
  cpuSeconds: number | null;
  peakVramMb: number | null;
}

export type JobQueries = ReturnType<typeof createJobQueries>;

export function createJobQueries(db: Db) {
  return {
    page: (filter: JobFilter, first: number, cursor?: JobCursor): Promise<JobPage> => pageJobs(db, filter, first, cursor),
    count: (filter: JobFilter): Promise<number> => countJobs(db, filter),
    counts: (): Promise<Record<JobStatus, number>> => statusCounts(db),

    /** Jobs in the order of `ids`; undefined where a job does not exist. */
    async byIds(ids: readonly string[]): Promise<(Job | undefined)[]> {
      const byId = new Map((await getJobs(db, [...new Set(ids)])).map((j) => [j.id, j]));
      return ids.map((id) => byId.get(id));
    },

    async lastLogLines(jobIds: readonly string[], last: number): Promise<LogLine[][]> {
      const byJob = await lastLogLinesOf(db, jobIds, last);
      return jobIds.map((id) => (byJob.get(id) ?? []).map((r) => ({ seq: r.id, at: r.at, stream: r.stream, line: r.line })));
    },

    async logBefore(jobId: string, beforeSeq: number, limit: number): Promise<LogLine[]> {
      return (await logLinesBefore(db, jobId, beforeSeq, limit)).map((r) => ({ seq: r.id, at: r.at, stream: r.stream, line: r.line }));
    },

    async logAfter(jobId: string, afterSeq: number, limit: number): Promise<LogLine[]> {
      return (await logLinesAfter(db, jobId, afterSeq, limit)).map((r) => ({ seq: r.id, at: r.at, stream: r.stream, line: r.line }));
    },

    async attempts(jobIds: readonly string[]): Promise<Attempt[][]> {
      const byJob = await attemptsOf(db, jobIds);
      return jobIds.map((id) =>
        (byJob.get(id) ?? []).map((a) => ({
          number: a.number,
          startedAt: a.started_at,
          finishedAt: a.finished_at,
          outcome: a.outcome,
          exitCode: a.exit_code,
          signal: a.signal,
          errorKind: a.error_kind,
          error: a.error,
          encoder: a.encoder,
          gpuIndex: a.gpu_index,
          peakRssBytes: a.peak_rss_bytes,
          cpuSeconds: a.cpu_seconds,
          peakVramMb: a.peak_vram_mb,
        })),
      );
    },

    async followOns(jobIds: readonly string[]): Promise<Job[][]> {
      const byJob = await followOnsOf(db, jobIds);
      return jobIds.map((id) => byJob.get(id) ?? []);
    },
  };
}
