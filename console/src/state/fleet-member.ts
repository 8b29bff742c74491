/**
 * One appliance as the console sees it: its link, its latest state and
 * sample history (from applianceUpdated), queue counts and profiles, and its
 * jobs in the shared job store (a first load, then jobUpdated).
 *
 * After every (re)connection the jobs are loaded again: what happened while
 * the appliance was out of reach never came through the subscription.
 */
import { createSignal, type Accessor } from 'solid-js';
import type { ApplianceLink } from '../lib/appliance-link';
import { describeError } from '../lib/errors';
import { APPLIANCE_UPDATED, JOBS_PAGE, JOBS_UPDATED, OVERVIEW, QUEUE_STATS } from '../lib/operations';
import type { ApplianceState, JobSummary, Profile, QueueStats } from '../lib/types';
import type { JobStore } from './job-store';
import { appendSample, sampleOf, type Sample } from './sample-history';
import type { SavedAppliance } from './saved-appliances';

/** The newest jobs loaded per appliance; older ones are reached through their job page. */
export const MAX_LOADED_JOBS = 5000;
const PAGE_SIZE = 500;
/** Rows put into the store per task while loading. */
const MERGE_SLICE = 100;
/** Queue counts are re-read this long after a job changed state, once for a burst. */
const STATS_DEBOUNCE_MS = 500;

export interface FleetMember {
  readonly id: string;
  readonly saved: SavedAppliance;
  readonly link: ApplianceLink;
  /** The appliance's name as it reports it, else as saved. */
  name: Accessor<string>;
  state: Accessor<ApplianceState | null>;
  history: Accessor<readonly Sample[]>;
  /** When the last applianceUpdated arrived (ms). */
  lastSeen: Accessor<number | null>;
  stats: Accessor<QueueStats | null>;
  profiles: Accessor<Profile[]>;
  /** Jobs on the appliance in all (the list holds at most MAX_LOADED_JOBS of them). */
  totalJobs: Accessor<number | null>;
  loadError: Accessor<string | null>;
  /** Takes a mutation's answer for the appliance itself (queue paused or not) at once. */
  setState(state: ApplianceState): void;
  refreshStats(): void;
  dispose(): void;
}

interface JobsPage {
  jobs: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: JobSummary }[] };
}

export function createFleetMember(saved: SavedAppliance, link: ApplianceLink, jobs: JobStore, now: () => number = Date.now): FleetMember {
  const [state, setState] = createSignal<ApplianceState | null>(null);
  const [history, setHistory] = createSignal<readonly Sample[]>([]);
  const [lastSeen, setLastSeen] = createSignal<number | null>(null);
  const [stats, setStats] = createSignal<QueueStats | null>(null);
  const [profiles, setProfiles] = createSignal<Profile[]>([]);
  const [totalJobs, setTotalJobs] = createSignal<number | null>(null);
  const [loadError, setLoadError] = createSignal<string | null>(null);
  let statsTimer: ReturnType<typeof setTimeout> | undefined;
  let disposed = false;
  /** Which load is current: a reconnect during a load makes the older one's pages stale. */
  let loadGeneration = 0;

  const refreshStats = () => {
    clearTimeout(statsTimer);
    statsTimer = setTimeout(() => {
      link
        .request<{ queueStats: QueueStats }>(QUEUE_STATS)
        .then((data) => !disposed && setStats(data.queueStats))
        .catch(() => undefined); // an offline appliance keeps its last counts; the status dot says why
    }, STATS_DEBOUNCE_MS);
  };

  const loadJobs = async (generation: number) => {
    const loaded: JobSummary[] = [];
    let after: string | null = null;
    do {
      const page: JobsPage = await link.request<JobsPage>(JOBS_PAGE, { first: Math.min(PAGE_SIZE, MAX_LOADED_JOBS - loaded.length), after });
      if (generation !== loadGeneration || disposed) return;
      const nodes = page.jobs.edges.map((e) => e.node);
      loaded.push(...nodes);
      // Shown page by page, in slices with a pause between them: the newest
      // jobs appear first, and no slice holds the main thread long enough
      // to make the page stutter.
      for (let i = 0; i < nodes.length; i += MERGE_SLICE) {
        jobs.merge(saved.id, nodes.slice(i, i + MERGE_SLICE));
        await new Promise((resolve) => setTimeout(resolve, 0));
        if (generation !== loadGeneration || disposed) return;
      }
      setTotalJobs(page.jobs.totalCount);
      after = page.jobs.pageInfo.hasNextPage ? page.jobs.pageInfo.endCursor : null;
    } while (after && loaded.length < MAX_LOADED_JOBS);
    jobs.prune(saved.id, loaded);
  };

  const reload = async () => {
    const generation = ++loadGeneration;
    try {
      const overview = await link.request<{ queueStats: QueueStats; profiles: Profile[] }>(OVERVIEW);
      if (disposed) return;
      setStats(overview.queueStats);
      setProfiles(overview.profiles);
      await loadJobs(generation);
      setLoadError(null);
    } catch (error) {
      if (!disposed) setLoadError(describeError(error));
    }
  };

  const takeState = (next: ApplianceState) => {
    const at = now();
    setState(next);
    setLastSeen(at);
    setHistory((h) => appendSample(h, sampleOf(next, at)));
  };

  const stops = [
    link.subscribe<{ applianceUpdated: ApplianceState }>(APPLIANCE_UPDATED, undefined, (data) => takeState(data.applianceUpdated)),
    link.subscribe<{ jobUpdated: JobSummary }>(JOBS_UPDATED, undefined, (data) => {
      const before = jobs.raw[`${saved.id}/${data.jobUpdated.id}`]?.status;
      jobs.update(saved.id, data.jobUpdated);
      if (before !== data.jobUpdated.status) refreshStats();
    }),
    link.onConnected(() => void reload()),
  ];

  return {
    id: saved.id,
    saved,
    link,
    name: () => state()?.name ?? saved.name,
    state,
    history,
    lastSeen,
    stats,
    profiles,
    totalJobs,
    loadError,
    setState: takeState,
    refreshStats,
    dispose() {
      disposed = true;
      clearTimeout(statsTimer);
      for (const stop of stops) stop();
      link.close();
      jobs.removeAppliance(saved.id);
    },
  };
}
