/**
 * Turns the agent's event bus into subscription streams. One listener per
 * event for the whole agent; each subscriber gets a bounded channel (see
 * channel.ts), so fan-out to many clients costs one object per delivery and
 * a slow client only ever holds the latest state of each job.
 *
 * Progress events carry only the progress figures; the hub keeps the last
 * full state of every job in flight and merges progress into it, so a
 * progress tick never costs a database read.
 */
import type { EventBus } from '../events.js';
import type { Job } from '../jobs/job.js';
import { isFinal } from '../jobs/job.js';
import type { JobQueries, LogLine } from '../jobs/job-queries.js';
import type { Logger } from '../logger.js';
import { boundedQueue, latestByKey, type Channel } from './channel.js';

/** Jobs a slow all-jobs subscriber may have waiting before the oldest update is dropped. */
const MAX_PENDING_JOBS = 2000;
/** Log lines a slow subscriber may have waiting. */
const MAX_PENDING_LINES = 1000;

export interface LiveHub<A> {
  /** Updates of one job, or of every job when `id` is null. */
  jobUpdates(id: string | null): Channel<Job>;
  jobLog(id: string): Channel<LogLine>;
  /** The appliance's state now, then every `intervalMs`. */
  appliance(): Channel<A>;
  /** How many subscriptions are open (for metrics and tests). */
  subscribers(): number;
  /** Ends every stream (agent stop). */
  stop(): void;
}

export function createLiveHub<A>(deps: {
  events: EventBus;
  queries: JobQueries;
  logger: Logger;
  applianceState: () => A;
  intervalMs: number;
  /** Told when the first appliance subscriber arrives and the last leaves (the GPU is then sampled at the fast rate). */
  onWatching?: (watching: boolean) => void;
}): LiveHub<A> {
  const jobSubs = new Set<{ id: string | null; channel: ReturnType<typeof latestByKey<Job>> }>();
  const logSubs = new Set<{ id: string; channel: ReturnType<typeof boundedQueue<LogLine>> }>();
  const applianceSubs = new Set<ReturnType<typeof latestByKey<A>>>();
  /** Last known state of jobs in flight, for merging progress. */
  const inFlight = new Map<string, Job>();
  const loading = new Set<string>();
  let applianceTimer: NodeJS.Timeout | undefined;

  const publish = (job: Job) => {
    for (const sub of jobSubs) if (sub.id === null || sub.id === job.id) sub.channel.push(job.id, job);
  };
  const wanted = (id: string) => [...jobSubs].some((s) => s.id === null || s.id === id);
  const remember = (job: Job) => {
    if (isFinal(job.status)) inFlight.delete(job.id);
    else inFlight.set(job.id, job);
    publish(job);
  };

  const unsubscribe = [
    deps.events.on('job:created', ({ job }) => remember(job)),
    deps.events.on('job:updated', ({ job }) => remember(job)),
    deps.events.on('job:finished', ({ job }) => remember(job)),
    deps.events.on('job:progress', ({ jobId, progress }) => {
      const known = inFlight.get(jobId);
      if (known) {
        const merged: Job = { ...known, progress: progress.percent ?? known.progress, fps: progress.fps, speed: progress.speed, etaSeconds: progress.etaSeconds };
        inFlight.set(jobId, merged);
        publish(merged);
        return;
      }
      // A job that was running before the hub existed: read it once, later ticks merge.
      if (!wanted(jobId) || loading.has(jobId)) return;
      loading.add(jobId);
      deps.queries
        .byIds([jobId])
        .then(([job]) => {
          if (job && !inFlight.has(jobId) && !isFinal(job.status)) remember(job);
        })
        .catch((error: Error) => deps.logger.warn(`cannot read job ${jobId} for subscribers: ${error.message}`, { job: jobId }))
        .finally(() => loading.delete(jobId));
    }),
    deps.events.on('job:log', ({ jobId, lines }) => {
      for (const sub of logSubs) {
        if (sub.id !== jobId) continue;
        for (const l of lines) sub.channel.push(null, { seq: null, at: l.at, stream: l.stream, line: l.line });
      }
    }),
    deps.events.on('queue:paused', () => {
      if (applianceSubs.size > 0) pushAppliance();
    }),
  ];

  const pushAppliance = () => {
    const state = deps.applianceState();
    for (const channel of applianceSubs) channel.push('appliance', state);
  };
  const stopApplianceTimerIfIdle = () => {
    if (applianceSubs.size === 0) {
      clearInterval(applianceTimer);
      applianceTimer = undefined;
      deps.onWatching?.(false);
    }
  };

  return {
    jobUpdates(id) {
      const sub = { id, channel: latestByKey<Job>(MAX_PENDING_JOBS, () => jobSubs.delete(sub)) };
      jobSubs.add(sub);
      return sub.channel;
    },
    jobLog(id) {
      const sub = {
        id,
        channel: boundedQueue<LogLine>(
          MAX_PENDING_LINES,
          (dropped) => ({ seq: null, at: Date.now(), stream: 'spool', line: `… ${dropped} log lines skipped: this subscriber reads slower than the job writes` }),
          () => logSubs.delete(sub),
        ),
      };
      logSubs.add(sub);
      return sub.channel;
    },
    appliance() {
      const channel = latestByKey<A>(1, () => {
        applianceSubs.delete(channel);
        stopApplianceTimerIfIdle();
      });
      applianceSubs.add(channel);
      if (applianceSubs.size === 1) deps.onWatching?.(true);
      channel.push('appliance', deps.applianceState());
      applianceTimer ??= setInterval(pushAppliance, deps.intervalMs);
      return channel;
    },
    subscribers: () => jobSubs.size + logSubs.size + applianceSubs.size,
    stop() {
      for (const off of unsubscribe) off();
      for (const sub of [...jobSubs]) sub.channel.close();
      for (const sub of [...logSubs]) sub.channel.close();
      for (const channel of [...applianceSubs]) channel.close();
      clearInterval(applianceTimer);
    },
  };
}
