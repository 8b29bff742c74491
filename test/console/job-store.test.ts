import { createRoot } from 'solid-js';
import { describe, expect, it } from 'vitest';
import { createJobStore, FLUSH_MS, type JobRow } from '../../console/src/state/job-store';
import { jobSummary } from './fixtures';

const inRoot = () => createRoot(() => createJobStore());

describe('job store', () => {
  it('holds live updates for one flush and keeps the latest state of each job', async () => {
    const store = inRoot();
    store.update('a', jobSummary({ id: '1', progress: 10, updatedAt: '2026-11-25T10:00:01.000Z' }));
    store.update('a', jobSummary({ id: '1', progress: 20, updatedAt: '2026-11-25T10:00:02.000Z' }));
    expect(store.jobs['a/1']).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, FLUSH_MS + 20));
    expect(store.jobs['a/1']).toMatchObject({ progress: 20, applianceId: 'a', key: 'a/1' });
  });

  it('never turns a job back to an older state (a mutation answer overtaken by the subscription)', () => {
    const store = inRoot();
    store.update('a', jobSummary({ id: '1', status: 'CANCELLED', updatedAt: '2026-11-25T10:00:05.000Z' }));
    store.flush();
    store.update('a', jobSummary({ id: '1', status: 'RUNNING', updatedAt: '2026-11-25T10:00:04.000Z' }));
    store.flush();
    expect(store.jobs['a/1']!.status).toBe('CANCELLED');
  });

  it('on the same timestamp the subscription wins over a mutation answer, whichever arrives last', () => {
    const store = inRoot();
    const at = '2026-11-25T10:00:05.000Z';
    // The retried job was admitted in the same millisecond: RUNNING came first, the answer (PENDING) after.
    store.update('a', jobSummary({ id: '1', status: 'RUNNING', updatedAt: at }));
    store.update('a', jobSummary({ id: '1', status: 'PENDING', updatedAt: at }), 'answer');
    store.flush();
    expect(store.jobs['a/1']!.status).toBe('RUNNING');
    store.update('a', jobSummary({ id: '1', status: 'PENDING', updatedAt: at }), 'answer');
    store.flush();
    expect(store.jobs['a/1']!.status).toBe('RUNNING');
    // The other order: the answer first, then the subscription's event.
    store.update('a', jobSummary({ id: '2', status: 'PENDING', updatedAt: at }), 'answer');
    store.flush();
    store.update('a', jobSummary({ id: '2', status: 'RUNNING', updatedAt: at }));
    store.flush();
    expect(store.jobs['a/2']!.status).toBe('RUNNING');
  });

  it('tells listeners once when a watched job completes or fails, not for jobs loaded finished', () => {
    const store = inRoot();
    const finished: JobRow[] = [];
    store.onFinished((row) => finished.push(row));
    store.replace('a', [jobSummary({ id: 'old', status: 'COMPLETED' })]);
    store.update('a', jobSummary({ id: '1', status: 'RUNNING', updatedAt: '2026-11-25T10:00:01.000Z' }));
    store.flush();
    store.update('a', jobSummary({ id: '1', status: 'COMPLETED', updatedAt: '2026-11-25T10:00:02.000Z' }));
    store.flush();
    store.update('a', jobSummary({ id: '1', status: 'COMPLETED', updatedAt: '2026-11-25T10:00:03.000Z' }));
    store.update('a', jobSummary({ id: 'old', status: 'COMPLETED', updatedAt: '2026-11-25T10:00:03.000Z' }));
    store.flush();
    expect(finished.map((r) => r.key)).toEqual(['a/1']);
  });

  it('replace: drops jobs the appliance no longer lists, keeps newer ones and other appliances', () => {
    const store = inRoot();
    store.replace('a', [jobSummary({ id: 'gone', createdAt: '2026-11-25T09:00:00.000Z' }), jobSummary({ id: 'kept', createdAt: '2026-11-25T09:30:00.000Z' })]);
    store.replace('b', [jobSummary({ id: 'other' })]);
    // Created after the reload read its page: arrived through the subscription.
    store.update('a', jobSummary({ id: 'new', createdAt: '2026-11-25T11:00:00.000Z', updatedAt: '2026-11-25T11:00:00.000Z' }));
    store.flush();
    store.replace('a', [jobSummary({ id: 'kept', createdAt: '2026-11-25T09:30:00.000Z', status: 'RUNNING', updatedAt: '2026-11-25T10:00:01.000Z' })]);
    expect(Object.keys(store.jobs).sort()).toEqual(['a/kept', 'a/new', 'b/other']);
    expect(store.jobs['a/kept']!.status).toBe('RUNNING');
    store.removeAppliance('a');
    expect(Object.keys(store.jobs)).toEqual(['b/other']);
  });

  it('moves `version` when the list must re-sort, `progressVersion` when only progress changed', () => {
    const store = inRoot();
    store.merge('a', [jobSummary({ id: '1', status: 'RUNNING', progress: 1 }), jobSummary({ id: '2' })]);
    const before = [store.version(), store.progressVersion(), store.size()];
    expect(before[2]).toBe(2);
    store.update('a', jobSummary({ id: '1', status: 'RUNNING', progress: 50 }));
    store.flush();
    expect([store.version(), store.progressVersion()]).toEqual([before[0], before[1]! + 1]);
    store.update('a', jobSummary({ id: '1', status: 'COMPLETED', progress: 50 }));
    store.flush();
    expect(store.version()).toBe(before[0]! + 1);
    store.prune('a', [jobSummary({ id: '1' })]);
    expect([store.size(), store.version()]).toEqual([1, before[0]! + 2]);
    // `raw` is the same data without tracking.
    expect(store.raw['a/1']!.status).toBe('COMPLETED');
  });
});
