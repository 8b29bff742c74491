/**
 * The pending jobs admission looks at, kept in memory between passes.
 *
 * Reading them for every pass (about 240 full rows, 1–1.5 ms) was most of
 * a pass's cost, and under load a pass runs after every few completions.
 * The window is the page `loadCandidates` reads (the best `limit` by
 * priority and age, plus the oldest fifth as many) and then follows the
 * changes the repositories report after each commit:
 * - a job that stops being PENDING (started, paused, cancelled) leaves it;
 * - a new PENDING job without dependencies joins it when it belongs in the
 *   page (the page held every pending job, or it sorts before the page's
 *   last row); one sorting after the page waits for a later read, as it
 *   would have;
 * - a waiting reason or ETA written to a held job is copied in.
 * When fewer than half of the best-first page's rows are still waiting,
 * the page is topped up with the rows that follow its last one, so a pass
 * always sees at least half a page and no row is read twice.
 * It is read again in full when it cannot follow a change (a job back to
 * PENDING, a new priority, a new job with dependencies, a parent that ended
 * while a held job waits on a dependency, a failed commit), when fewer than
 * half of the oldest page's rows are still waiting and that page is not
 * part of the best-first one, and at least every RELOAD_MS of the agent's
 * clock (aging, and any write that bypassed the repositories).
 */
import type { Db } from '../db/database.js';
import { candidateOf, loadCandidatesAfterNow, loadCandidatesNow, type CandidateRow } from '../db/job.repository.js';
import { statementsOf, type JobChange } from '../db/statements.js';
import type { JobRow } from '../db/tables.js';

/** The window is read again at least this often. */
const RELOAD_MS = 1000;
/** Columns whose change never moves a job in or out of the queue or in its order. */
const COSMETIC = new Set(['waiting_reason', 'eta_seconds', 'updated_at', 'progress', 'fps', 'speed']);
const FINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

export interface CandidateWindow {
  /** The held candidates that are not `busy`, read again first when needed; `now` on the monotonic clock. */
  rows(now: number, busy: (id: string) => boolean): CandidateRow[];
  /** Whether the last read held every pending job (no page limit was hit). */
  complete(): boolean;
  /** Starts following the repositories' changes (the window is read afresh at the next pass). */
  start(): void;
  stop(): void;
}

type Key = readonly [number, number, string];
const keyOf = (row: Pick<JobRow, 'priority' | 'created_at' | 'id'>): Key => [row.priority, row.created_at, row.id];
const before = (a: Key, b: Key) => a[0] - b[0] || a[1] - b[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0);

export function createCandidateWindow(db: Db, limit: number): CandidateWindow {
  const oldestLimit = Math.ceil(limit / 5);
  const held = new Map<string, CandidateRow>();
  const fromBest = new Set<string>();
  const fromOldest = new Set<string>();
  let stale = true;
  let loadedAt = -Infinity;
  let whole = false;
  /** The last row of the best-first page: a new job sorting before it belongs in the window. */
  let lastBest: Key | null = null;
  /** Every row of the oldest page was also in the best page (one order, e.g. equal priorities). */
  let oldestInBest = false;
  /** Held rows waiting on a dependency. */
  let waitingOnParents = 0;

  const add = (row: CandidateRow) => {
    held.set(row.id, row);
    if (row.unmet > 0) waitingOnParents += 1;
  };
  const remove = (id: string) => {
    const row = held.get(id);
    if (!row) return;
    held.delete(id);
    fromBest.delete(id);
    fromOldest.delete(id);
    if (row.unmet > 0) waitingOnParents -= 1;
  };

  const load = (now: number) => {
    const page = loadCandidatesNow(db, limit);
    held.clear();
    fromBest.clear();
    fromOldest.clear();
    waitingOnParents = 0;
    for (const row of page.rows) add(row);
    for (const id of page.bestIds) fromBest.add(id);
    for (const id of page.oldestIds) fromOldest.add(id);
    oldestInBest = page.oldestIds.every((id) => fromBest.has(id));
    whole = page.bestIds.length < limit;
    const last = page.bestIds.length > 0 ? held.get(page.bestIds[page.bestIds.length - 1]!) : undefined;
    lastBest = last ? keyOf(last) : null;
    stale = false;
    loadedAt = now;
  };

  const follow = (change: JobChange) => {
    if (stale) return;
    if (change.type === 'unknown') {
      stale = true;
      return;
    }
    if (change.type === 'inserted') {
      const { row, dependsOn } = change;
      if (row.status !== 'PENDING') return;
      if (dependsOn.length > 0) {
        stale = true;
        return;
      }
      if (whole || (lastBest !== null && before(keyOf(row), lastBest) < 0)) {
        add(candidateOf(row, { unmet: 0, broken: 0, blocker: null }));
        fromBest.add(row.id);
        if (held.size > limit * 2) stale = true;
      }
      return;
    }
    const cosmetic = Object.keys(change.patch).every((k) => COSMETIC.has(k) || (change.patch as Record<string, unknown>)[k] === undefined);
    const row = held.get(change.id);
    if (row) {
      if (cosmetic && change.status === 'PENDING') {
        for (const [k, v] of Object.entries(change.patch)) if (v !== undefined) (row as unknown as Record<string, unknown>)[k] = v;
        return;
      }
      remove(change.id);
      if (change.status === 'PENDING') stale = true;
    } else if (change.status === 'PENDING' && !cosmetic) {
      stale = true;
    }
    // A parent's end (and its settling) changes what its children wait for.
    if (waitingOnParents > 0 && (FINAL.has(change.status) || 'settle_plan' in change.patch)) stale = true;
  };

  let off: (() => void) | null = null;

  return {
    rows(now, busy) {
      if (!stale && now - loadedAt >= RELOAD_MS) stale = true;
      if (!stale && !whole && !oldestInBest) {
        let oldest = 0;
        for (const id of fromOldest) if (!busy(id)) oldest += 1;
        if (oldest < oldestLimit / 2) stale = true;
      }
      if (stale) {
        load(now);
      } else if (!whole && lastBest !== null) {
        let best = 0;
        for (const id of fromBest) if (!busy(id)) best += 1;
        if (best < limit / 2) {
          const wanted = limit - best;
          const more = loadCandidatesAfterNow(db, { priority: lastBest[0], created_at: lastBest[1], id: lastBest[2] }, wanted);
          for (const row of more) {
            if (held.has(row.id)) continue;
            add(row);
            fromBest.add(row.id);
          }
          if (more.length > 0) lastBest = keyOf(more[more.length - 1]!);
          if (more.length < wanted) whole = true;
        }
      }
      const rows: CandidateRow[] = [];
      for (const row of held.values()) if (!busy(row.id)) rows.push(row);
      return rows;
    },
    complete: () => whole,
    start() {
      off ??= statementsOf(db).onJobsChanged(follow);
      stale = true;
    },
    stop() {
      off?.();
      off = null;
      stale = true;
    },
  };
}
