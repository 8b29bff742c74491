/** The subscription hub: progress merged into the last known job, and GPU watching switched by appliance subscribers. */
import { describe, expect, it } from 'vitest';
import { createLiveHub } from '../../agent/api/live.js';
import { createEventBus } from '../../agent/events.js';
import type { Job } from '../../agent/jobs/job.js';
import type { JobQueries } from '../../agent/jobs/job-queries.js';
import { silentLogger } from '../../agent/logger.js';
import { createMachine } from '../../agent/scheduler/machine.js';
import type { GpuSampler } from '../../agent/samplers/gpu-sampler.js';
import { createQuietSystemSampler } from '../helpers/fake-system.js';

const job = (over: Partial<Job> = {}): Job => ({ id: 'J1', status: 'RUNNING', progress: 10, fps: null, speed: null, etaSeconds: null, ...over }) as Job;

describe('live hub', () => {
  it('merges progress ticks into the last state of a job and reads the database only for a job it has not seen', async () => {
    const events = createEventBus();
    let reads = 0;
    const queries = { byIds: async (ids: string[]) => ids.map(() => (reads++, job({ progress: 1 }))) } as unknown as JobQueries;
    const hub = createLiveHub({ events, queries, logger: silentLogger, applianceState: () => ({}), intervalMs: 1000 });
    const updates = hub.jobUpdates(null);
    events.emit('job:progress', { jobId: 'J1', progress: { percent: 20, fps: 30, speed: 1.5, etaSeconds: 9 } });
    expect((await updates.next()).value).toMatchObject({ id: 'J1', progress: 1 }); // read once, then merged from here on
    events.emit('job:progress', { jobId: 'J1', progress: { percent: 40, fps: 31, speed: 1.6, etaSeconds: 5 } });
    expect((await updates.next()).value).toMatchObject({ id: 'J1', progress: 40, fps: 31, speed: 1.6, etaSeconds: 5 });
    events.emit('job:updated', { job: job({ status: 'COMPLETED', progress: 100 }) });
    expect((await updates.next()).value).toMatchObject({ status: 'COMPLETED' });
    expect(reads).toBe(1);
    hub.stop();
  });

  it('switches fast GPU sampling on with the first appliance subscriber and off after the last', async () => {
    const calls: boolean[] = [];
    const gpu = { setActive: (active: boolean) => calls.push(active), latest: () => ({ at: 0, takenAt: Number.NEGATIVE_INFINITY, ok: false, stale: true, error: 'none', gpus: [] }) } as unknown as GpuSampler;
    const machine = createMachine({ config: () => ({ resources: { gpu: { nvencSessions: 'auto' } }, inboxes: [] }) as never, gpu, system: createQuietSystemSampler(), ffmpegHasNvenc: false, logger: silentLogger });
    const hub = createLiveHub({ events: createEventBus(), queries: {} as JobQueries, logger: silentLogger, applianceState: () => ({ n: 1 }), intervalMs: 60_000, onWatching: machine.setGpuWatched });
    const a = hub.appliance();
    const b = hub.appliance();
    expect((await a.next()).value).toEqual({ n: 1 }); // the current state first
    machine.setGpuActive(false); // no GPU work queued: still fast while watched
    await a.return!();
    expect(calls.at(-1)).toBe(true);
    await b.return!();
    expect(calls).toEqual([true, true, false]);
    hub.stop();
  });
});
