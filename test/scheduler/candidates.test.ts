/**
 * The candidate window on a fresh migrated SQLite file per test: what a pass
 * sees must be what loadCandidates would read at that moment, whether the
 * window followed a change or read the table again.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../agent/config/load-config.js';
import { openDatabase, type OpenedDatabase } from '../../agent/db/database.js';
import { insertJob, updateJob } from '../../agent/db/job.repository.js';
import { newJobRow } from '../../agent/jobs/job-store.js';
import { createCandidateWindow, type CandidateWindow } from '../../agent/scheduler/candidates.js';

const config = parseConfig({ profiles: { p: { kind: 'probe' } } }, '/tmp');
const file = (id: string) => ({ inputPath: `/in/${id}`, sourcePath: `/in/${id}`, inboxPath: null, outbox: '/out', sizeBytes: 1, mtimeMs: 1 });
const add = (id: string, createdAt: number, options: { priority?: number; dependsOn?: string[] } = {}) =>
  insertJob(opened.db, newJobRow(config, 'p', file(id), createdAt, { id, priority: options.priority ?? 5 }), options.dependsOn);
const none = () => false;
const ids = (w: CandidateWindow, now = 0, busy: (id: string) => boolean = none) =>
  w
    .rows(now, busy)
    .map((r) => r.id)
    .sort();

let opened: OpenedDatabase;
let dir: string;
let window: CandidateWindow;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-candidates-'));
  opened = await openDatabase(path.join(dir, 'spool.db'));
});
afterEach(async () => {
  window?.stop();
  await opened.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('candidate window', () => {
  it('follows new jobs, jobs that start, and jobs that come back to PENDING', async () => {
    window = createCandidateWindow(opened.db, 10);
    window.start();
    await add('A', 1);
    expect(ids(window)).toEqual(['A']);
    await add('B', 2);
    expect(ids(window)).toEqual(['A', 'B']);
    await updateJob(opened.db, 'A', { status: 'RUNNING' }, ['PENDING']);
    expect(ids(window)).toEqual(['B']);
    await updateJob(opened.db, 'A', { status: 'PENDING', run_after: 50 });
    const a = window.rows(0, none).find((r) => r.id === 'A');
    expect(a?.run_after).toBe(50);
    await updateJob(opened.db, 'B', { waiting_reason: 'waiting for a cpu slot' }, ['PENDING']);
    expect(window.rows(0, none).find((r) => r.id === 'B')?.waiting_reason).toBe('waiting for a cpu slot');
  });

  it('leaves out busy jobs and tops the page up past its last row as jobs start', async () => {
    for (let i = 0; i < 12; i++) await add(`J${String(i).padStart(2, '0')}`, 100 + i);
    window = createCandidateWindow(opened.db, 4);
    window.start();
    expect(ids(window)).toEqual(['J00', 'J01', 'J02', 'J03']);
    expect(window.complete()).toBe(false);
    // Admitted, not yet RUNNING in the database: left out, and the page continues after J03.
    const busy = new Set(['J00', 'J01', 'J02']);
    expect(ids(window, 0, (id) => busy.has(id))).toEqual(['J03', 'J04', 'J05', 'J06']);
    for (const id of busy) await updateJob(opened.db, id, { status: 'RUNNING' }, ['PENDING']);
    expect(ids(window)).toEqual(['J03', 'J04', 'J05', 'J06']);
    // A new job that sorts into the page joins it; one that sorts after it waits for a later read.
    await add('HIGH', 500, { priority: 1 });
    await add('LOW', 600, { priority: 9 });
    expect(ids(window)).toEqual(['HIGH', 'J03', 'J04', 'J05', 'J06']);
  });

  it('reads again when a parent ends while a held job waits on it', async () => {
    await add('PARENT', 1);
    await add('CHILD', 2, { dependsOn: ['PARENT'] });
    window = createCandidateWindow(opened.db, 10);
    window.start();
    await updateJob(opened.db, 'PARENT', { status: 'RUNNING' }, ['PENDING']);
    expect(window.rows(0, none).map((r) => [r.id, r.unmet])).toEqual([['CHILD', 1]]);
    await updateJob(opened.db, 'PARENT', { status: 'COMPLETED', settle_plan: null });
    expect(window.rows(0, none).map((r) => [r.id, r.unmet])).toEqual([['CHILD', 0]]);
  });

  it('reads again at least once a second of the agent clock', async () => {
    await add('A', 1);
    window = createCandidateWindow(opened.db, 10);
    window.start();
    expect(ids(window, 0)).toEqual(['A']);
    // A write that bypassed the repositories.
    opened.sqlite.prepare("update jobs set status = 'PAUSED' where id = 'A'").run();
    expect(ids(window, 500)).toEqual(['A']);
    expect(ids(window, 1000)).toEqual([]);
  });
});
