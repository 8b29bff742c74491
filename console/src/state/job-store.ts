/**
 * Every job the console knows, across the fleet, in one Solid store keyed
 * "<appliance id>/<job id>". Rows are read field by field, so a progress
 * tick re-renders one progress bar, not the list.
 *
 * Live updates arrive at several per second per appliance; they are held
 * for FLUSH_MS and applied in one batch, the latest state of each job
 * winning, so a burst costs one render.
 */
import { batch } from 'solid-js';
import { createStore, produce } from 'solid-js/store';
import type { JobStatus, JobSummary } from '../lib/types';

export interface JobRow extends JobSummary {
  key: string;
  applianceId: string;
}

export const FLUSH_MS = 100;

const FINAL: ReadonlySet<JobStatus> = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

export const jobKey = (applianceId: string, jobId: string) => `${applianceId}/${jobId}`;

export interface JobStore {
  readonly jobs: Readonly<Record<string, JobRow>>;
  /** A live update (subscription or mutation answer); applied with the next flush. */
  update(applianceId: string, job: JobSummary): void;
  /** What an appliance has now, from a fresh load: its rows are replaced, jobs it no longer lists drop out. */
  replace(applianceId: string, jobs: JobSummary[]): void;
  removeAppliance(applianceId: string): void;
  /** Called once per job that reaches COMPLETED or FAILED while the console watches (not for jobs loaded finished). */
  onFinished(listener: (row: JobRow) => void): () => void;
  /** Applies waiting updates now (tests; the timer does it otherwise). */
  flush(): void;
}

export function createJobStore(): JobStore {
  const [jobs, setJobs] = createStore<Record<string, JobRow>>({});
  const waiting = new Map<string, JobRow>();
  const finishedListeners = new Set<(row: JobRow) => void>();
  let timer: ReturnType<typeof setTimeout> | undefined;

  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (waiting.size === 0) return;
    const rows = [...waiting.values()];
    waiting.clear();
    const finished: JobRow[] = [];
    batch(() => {
      for (const row of rows) {
        const known = jobs[row.key];
        // An answer that left the appliance before the state we hold must not turn the clock back.
        if (known && known.updatedAt > row.updatedAt) continue;
        if (known && !FINAL.has(known.status) && (row.status === 'COMPLETED' || row.status === 'FAILED')) finished.push(row);
        setJobs(row.key, known ? { ...row } : row);
      }
    });
    for (const row of finished) for (const listener of finishedListeners) listener(row);
  };

  return {
    jobs,
    update(applianceId, job) {
      const key = jobKey(applianceId, job.id);
      waiting.set(key, { ...job, key, applianceId });
      timer ??= setTimeout(flush, FLUSH_MS);
    },
    replace(applianceId, list) {
      const fresh = new Map(list.map((job) => [jobKey(applianceId, job.id), job]));
      // A job created after the load read its first page came through the
      // subscription and is newer than anything loaded: it stays.
      const newestLoaded = list.reduce((newest, job) => (job.createdAt > newest ? job.createdAt : newest), '');
      const gone = (row: JobRow) => row.applianceId === applianceId && !fresh.has(row.key) && (newestLoaded === '' || row.createdAt <= newestLoaded);
      batch(() => {
        setJobs(
          produce((draft) => {
            for (const key of Object.keys(draft)) if (gone(draft[key]!)) delete draft[key];
          }),
        );
        for (const [key, job] of fresh) {
          const known = jobs[key];
          if (!known || known.updatedAt <= job.updatedAt) setJobs(key, { ...job, key, applianceId });
        }
      });
    },
    removeAppliance(applianceId) {
      for (const key of waiting.keys()) if (key.startsWith(`${applianceId}/`)) waiting.delete(key);
      setJobs(
        produce((draft) => {
          for (const key of Object.keys(draft)) if (draft[key]!.applianceId === applianceId) delete draft[key];
        }),
      );
    },
    onFinished(listener) {
      finishedListeners.add(listener);
      return () => finishedListeners.delete(listener);
    },
    flush,
  };
}
