import { describe, expect, it } from 'vitest';
import { EMPTY_FILTER, matches, visibleKeys, type JobFilter, type SortKey } from '../../console/src/state/job-list';
import type { JobRow } from '../../console/src/state/job-store';
import { jobSummary } from './fixtures';

const row = (applianceId: string, id: string, overrides: Partial<JobRow> = {}): JobRow => ({ ...jobSummary({ id, ...overrides }), key: `${applianceId}/${id}`, applianceId, ...overrides });

const rows: Record<string, JobRow> = Object.fromEntries(
  [
    row('a', '1', { fileName: 'Interview.mov', status: 'RUNNING', profile: 'web', priority: 5, progress: 40, createdAt: '2026-11-25T10:00:01.000Z' }),
    row('a', '2', { fileName: 'broll-02.mp4', status: 'FAILED', profile: 'thumb', priority: 2, createdAt: '2026-11-25T10:00:02.000Z' }),
    row('b', '3', { fileName: 'broll-03.mp4', status: 'PENDING', profile: 'web', priority: 2, createdAt: '2026-11-25T10:00:03.000Z' }),
    row('b', '4', { fileName: 'ad.mxf', status: 'COMPLETED', profile: 'web', priority: 9, progress: 100, createdAt: '2026-11-25T10:00:04.000Z' }),
  ].map((r) => [r.key, r]),
);

describe('job list filters', () => {
  const cases: [string, Partial<JobFilter>, string[]][] = [
    ['nothing', {}, ['b/4', 'b/3', 'a/2', 'a/1']],
    ['one appliance', { applianceId: 'a' }, ['a/2', 'a/1']],
    ['statuses', { statuses: ['RUNNING', 'PENDING'] }, ['b/3', 'a/1']],
    ['profile', { profile: 'web' }, ['b/4', 'b/3', 'a/1']],
    ['file name, any case', { text: 'BROLL' }, ['b/3', 'a/2']],
    ['all at once', { applianceId: 'b', statuses: ['PENDING'], profile: 'web', text: '03' }, ['b/3']],
    ['nothing matches', { text: 'nope' }, []],
  ];
  it.each(cases)('%s', (_name, filter, expected) => {
    expect(visibleKeys(rows, { ...EMPTY_FILTER, ...filter }, 'newest')).toEqual(expected);
    expect(Object.values(rows).filter((r) => matches(r, { ...EMPTY_FILTER, ...filter })).length).toBe(expected.length);
  });
});

describe('job list order', () => {
  const cases: [SortKey, string[]][] = [
    ['newest', ['b/4', 'b/3', 'a/2', 'a/1']],
    ['oldest', ['a/1', 'a/2', 'b/3', 'b/4']],
    // Ties (priority 2) go newest first.
    ['priority', ['b/3', 'a/2', 'a/1', 'b/4']],
    ['status', ['a/1', 'b/3', 'a/2', 'b/4']],
    ['progress', ['b/4', 'a/1', 'b/3', 'a/2']],
    ['name', ['b/4', 'a/2', 'b/3', 'a/1']],
  ];
  it.each(cases)('%s', (sort, expected) => {
    expect(visibleKeys(rows, EMPTY_FILTER, sort)).toEqual(expected);
  });
});
