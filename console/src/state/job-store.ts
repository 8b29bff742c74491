/**
 * Every job the console knows, across the fleet, in one Solid store keyed
 * "<appliance id>/<job id>". Rows are read field by field, so a progress
 * tick re-renders one progress bar, not the list.
 *
 * Live updates arrive at several per second per appliance; they are held
 * for FLUSH_MS and applied in one batch, the latest state of each job
 * winning, so a burst costs one render.
 *
 * Filtering and sorting thousands of rows through the store's proxies
 * would cost more than the rendering (a tracked read per field per row), so
 * the list reads `raw` and depends on two counters instead: `version` moves
 * when rows come or go or a field the list filters or sorts by changes,
 * `progressVersion` when only progress does (the list watches it only when
 * it sorts by progress).
 */
import { batch, createSignal, type Accessor } from 'solid-js';
import { createStore, unwrap } from 'solid-js/store';
import type { JobStatus, JobSummary } from '../lib/types';

export interface JobRow extends JobSummary {
  key: string;
  applianceId: string;
}

export const FLUSH_MS = 100;

const FINAL: ReadonlySet<JobStatus> = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/** Fields the job list filters or sorts by (besides progress). */
const LISTED: readonly (keyof JobSummary)[] = ['status', 'priority', 'profile', 'fileName', 'createdAt'];

export const jobKey = (applianceId: string, jobId: string) => `${applianceId}/${jobId}`;

/**
 * Where an update came from: `live` (the subscription, in the appliance's
 * order) or `answer` (a mutation's answer over HTTP, which may arrive
 * before or after the subscription's events about the same change).
 */
export type UpdateSource = 'live' | 'answer';

/**
 * Whether `incoming` may replace `held`. Never an older state; on the same
 * timestamp (states a millisecond apart share one) the subscription wins,
 * since it delivers in order, and a mutation's answer does not: a retried
 * job admitted in the same millisecond must not fall back to PENDING.
 */
export function supersedes(incoming: { updatedAt: string }, held: { updatedAt: string } | undefined, source: UpdateSource): boolean {
  if (!held || incoming.updatedAt > held.updatedAt) return true;
  return incoming.updatedAt === held.updatedAt && source === 'live';
}

export interface JobStore {
  /** Rows for rendering: reactive field by field. */
  readonly jobs: Readonly<Record<string, JobRow>>;
  /** The same rows without tracking, for whole-list passes that depend on `version`. */
  readonly raw: Readonly<Record<string, JobRow>>;
  version: Accessor<number>;
  progressVersion: Accessor<number>;
  /** How many rows the store holds. */
  size: Accessor<number>;
  /** A live update (subscription or mutation answer); applied with the next flush. */
  update(applianceId: string, job: JobSummary, source?: UpdateSource): void;
  /** Rows from a page of a load: added, or updated where they are newer than what the store holds. */
  merge(applianceId: string, jobs: JobSummary[]): void;
  /**
   * After a fresh load of an appliance (merged page by page): its rows that
   * the load did not list drop out, except jobs newer than anything loaded
   * (created meanwhile, they came through the subscription).
   */
  prune(applianceId: string, loaded: readonly JobSummary[]): void;
  /** merge() then prune(): what an appliance has now, in one step. */
  replace(applianceId: string, jobs: JobSummary[]): void;
  removeAppliance(applianceId: string): void;
  /** Called once per job that reaches COMPLETED or FAILED while the console watches (not for jobs loaded finished). */
  onFinished(listener: (row: JobRow) => void): () => void;
  /** Applies waiting updates now (tests; the timer does it otherwise). */
  flush(): void;
}

export function createJobStore(): JobStore {
  const [jobs, setJobs] = createStore<Record<string, JobRow>>({});
  const raw = unwrap(jobs);
  const [version, setVersion] = createSignal(0);
  const [progressVersion, setProgressVersion] = createSignal(0);
  const [size, setSize] = createSignal(0);
  const waiting = new Map<string, { row: JobRow; source: UpdateSource }>();
  const finishedListeners = new Set<(row: JobRow) => void>();
  let timer: ReturnType<typeof setTimeout> | undefined;

  /** Writes one row unless the one held is newer (see supersedes); says what changed for the list. */
  const put = (row: JobRow, source: UpdateSource): { listed: boolean; progress: boolean; finished: boolean } | null => {
    const known = raw[row.key];
    if (!supersedes(row, known, source)) return null;
    const change = {
      listed: !known || LISTED.some((field) => known[field] !== row[field]),
      progress: !!known && known.progress !== row.progress,
      finished: !!known && !FINAL.has(known.status) && (row.status === 'COMPLETED' || row.status === 'FAILED'),
    };
    setJobs(row.key, known ? { ...row } : row);
    return change;
  };

  const changed = (listed: boolean, progress: boolean) => {
    if (listed) {
      setVersion((v) => v + 1);
      setSize(Object.keys(raw).length);
    }
    if (progress) setProgressVersion((v) => v + 1);
  };

  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (waiting.size === 0) return;
    const rows = [...waiting.values()];
    waiting.clear();
    const finished: JobRow[] = [];
    batch(() => {
      let listed = false;
      let progress = false;
      for (const { row, source } of rows) {
        const change = put(row, source);
        listed ||= !!change?.listed;
        progress ||= !!change?.progress;
        if (change?.finished) finished.push(row);
      }
      changed(listed, progress);
    });
    for (const row of finished) for (const listener of finishedListeners) listener(row);
  };

  const merge = (applianceId: string, list: JobSummary[]) =>
    batch(() => {
      // A page of a load is read like an answer: it never overrides what the subscription said at the same moment.
      for (const job of list) put({ ...job, key: jobKey(applianceId, job.id), applianceId }, 'answer');
      changed(true, true);
    });

  /** Deletes rows (found through `raw`: no proxy per row). */
  const removeWhere = (gone: (row: JobRow) => boolean) =>
    batch(() => {
      const keys = Object.keys(raw).filter((key) => gone(raw[key]!));
      for (const key of keys) setJobs(key, undefined!);
      if (keys.length > 0) changed(true, false);
    });

  const prune = (applianceId: string, loaded: readonly JobSummary[]) => {
    const fresh = new Set(loaded.map((job) => jobKey(applianceId, job.id)));
    const newestLoaded = loaded.reduce((newest, job) => (job.createdAt > newest ? job.createdAt : newest), '');
    removeWhere((row) => row.applianceId === applianceId && !fresh.has(row.key) && (newestLoaded === '' || row.createdAt <= newestLoaded));
  };

  return {
    jobs,
    raw,
    version,
    progressVersion,
    size,
    merge,
    update(applianceId, job, source = 'live') {
      const key = jobKey(applianceId, job.id);
      const pending = waiting.get(key);
      if (pending && !supersedes(job, pending.row, source)) return;
      waiting.set(key, { row: { ...job, key, applianceId }, source });
      timer ??= setTimeout(flush, FLUSH_MS);
    },
    prune,
    replace(applianceId, list) {
      batch(() => {
        merge(applianceId, list);
        prune(applianceId, list);
      });
    },
    removeAppliance(applianceId) {
      for (const key of waiting.keys()) if (key.startsWith(`${applianceId}/`)) waiting.delete(key);
      removeWhere((row) => row.applianceId === applianceId);
    },
    onFinished(listener) {
      finishedListeners.add(listener);
      return () => finishedListeners.delete(listener);
    },
    flush,
  };
}
