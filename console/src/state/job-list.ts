/**
 * Which jobs the list shows, in which order: pure functions over plain rows,
 * tested with tables. The list runs them over the store's untracked rows
 * when the store's version says something they read has changed.
 */
import type { JobStatus } from '../lib/types';
import type { JobRow } from './job-store';

export interface JobFilter {
  applianceId: string | null;
  statuses: JobStatus[];
  profile: string | null;
  /** Text in the file name (case-insensitive). */
  text: string;
}

export const EMPTY_FILTER: JobFilter = { applianceId: null, statuses: [], profile: null, text: '' };

export const SORTS = {
  newest: 'Newest first',
  oldest: 'Oldest first',
  priority: 'Priority (1 first)',
  status: 'Active first',
  progress: 'Progress',
  name: 'File name',
} as const;
export type SortKey = keyof typeof SORTS;

/** Active work first, then what needs attention, then the rest. */
const STATUS_RANK: Record<JobStatus, number> = { RUNNING: 0, PAUSED: 1, PENDING: 2, FAILED: 3, CANCELLED: 4, COMPLETED: 5 };

export function matches(row: JobRow, filter: JobFilter): boolean {
  if (filter.applianceId !== null && row.applianceId !== filter.applianceId) return false;
  if (filter.statuses.length > 0 && !filter.statuses.includes(row.status)) return false;
  if (filter.profile !== null && row.profile !== filter.profile) return false;
  if (filter.text !== '' && !row.fileName.toLowerCase().includes(filter.text.toLowerCase())) return false;
  return true;
}

type Entry = { key: string; createdAt: string; value: number | string };

/** The value a sort orders by, read once per row. */
function sortValue(row: JobRow, sort: SortKey): number | string {
  switch (sort) {
    case 'priority':
      return row.priority;
    case 'status':
      return STATUS_RANK[row.status];
    case 'progress':
      return -(row.progress ?? -1);
    case 'name':
      return row.fileName.toLowerCase();
    default:
      return 0;
  }
}

/** Keys of the rows that match, in order; ties go newest first. */
export function visibleKeys(rows: Readonly<Record<string, JobRow>>, filter: JobFilter, sort: SortKey): string[] {
  const entries: Entry[] = [];
  for (const key of Object.keys(rows)) {
    const row = rows[key]!;
    if (matches(row, filter)) entries.push({ key, createdAt: row.createdAt, value: sortValue(row, sort) });
  }
  const newest = (a: Entry, b: Entry) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.key < b.key ? 1 : -1);
  entries.sort((a, b) => {
    if (sort === 'oldest') return -newest(a, b);
    if (a.value < b.value) return -1;
    if (a.value > b.value) return 1;
    return newest(a, b);
  });
  return entries.map((e) => e.key);
}
