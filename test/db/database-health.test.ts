/**
 * The database's health on a fake clock: one log line when writes stop,
 * probing until the disk has room and a write commits, then one line and
 * every waiter released.
 */
import SQLite from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createDatabaseHealth } from '../../agent/db/database-health.js';
import { createEventBus } from '../../agent/events.js';
import type { Logger } from '../../agent/logger.js';
import { createFakeClock } from '../helpers/fake-clock.js';

function setUp() {
  const clock = createFakeClock();
  const lines: { level: string; message: string }[] = [];
  const log = (level: string) => (message: string) => lines.push({ level, message });
  const logger: Logger = { error: log('error'), warn: log('warn'), info: log('info'), debug: log('debug') };
  const events = createEventBus();
  const seen: string[] = [];
  events.on('database:error', ({ message }) => seen.push(`error: ${message}`));
  events.on('database:ok', () => seen.push('ok'));
  const disk = { freeMb: 0 as number | null, probeError: null as Error | null, probes: 0 };
  const health = createDatabaseHealth({
    file: '/var/lib/spool/spool.db',
    probe: async () => {
      disk.probes += 1;
      if (disk.probeError) throw disk.probeError;
    },
    freeMb: () => disk.freeMb,
    clock,
    logger,
    events,
    probeMs: 1000,
    resumeFreeMb: 8,
  });
  const changes: boolean[] = [];
  health.onChange((writable) => changes.push(writable));
  /** Lets the probe's promise settle after a timer ran it. */
  const tick = async (ms: number) => {
    clock.advance(ms);
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { clock, lines, seen, disk, health, changes, tick };
}

const full = () => new SQLite.SqliteError('database or disk is full', 'SQLITE_FULL');

describe('database health', () => {
  it('ignores failures that are not the database refusing writes', () => {
    const { health, lines } = setUp();
    expect(health.report(new SQLite.SqliteError('UNIQUE constraint failed: jobs.id', 'SQLITE_CONSTRAINT_PRIMARYKEY'))).toBe(false);
    expect(health.report(new Error('no B after all'))).toBe(false);
    expect(health.writable()).toBe(true);
    expect(health.problem()).toBeNull();
    expect(lines).toEqual([]);
  });

  it('says once why writes stopped, waits for room and a committed probe, then says once that they work again', async () => {
    const { health, lines, seen, disk, changes, tick } = setUp();
    expect(health.report(full())).toBe(true);
    for (let i = 0; i < 50; i++) health.report(full());
    health.report(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }));

    expect(health.writable()).toBe(false);
    expect(health.problem()).toBe(
      'database /var/lib/spool/spool.db cannot be written: its disk is full (0.0 MB free); new files stay in their inboxes and no job starts until it can (free at least 8 MB on that disk)',
    );
    expect(lines.filter((l) => l.level === 'error')).toHaveLength(1);
    expect(lines[0]!.message).toContain('database /var/lib/spool/spool.db cannot be written: its disk is full');
    expect(seen).toHaveLength(1);
    expect(changes).toEqual([false]);

    let released = false;
    const waiting = health.whenWritable().then(() => (released = true));

    // Still full: the probe write is not even tried.
    await tick(5000);
    expect(disk.probes).toBe(0);
    // A few MB freed: not enough to resume (it would fill again at once).
    disk.freeMb = 3;
    await tick(1000);
    expect(disk.probes).toBe(0);
    expect(health.problem()).toContain('(3.0 MB free)');
    // Room, but the write still fails (an I/O error): not writable yet, and no new error line.
    disk.freeMb = 500;
    disk.probeError = new SQLite.SqliteError('disk I/O error', 'SQLITE_IOERR_WRITE');
    await tick(1000);
    expect(disk.probes).toBe(1);
    expect(health.writable()).toBe(false);
    expect(released).toBe(false);
    // The write commits: writable, one info line, waiters released, listeners told.
    disk.probeError = null;
    await tick(1000);
    await waiting;
    expect(released).toBe(true);
    expect(health.writable()).toBe(true);
    expect(health.problem()).toBeNull();
    expect(changes).toEqual([false, true]);
    expect(seen).toEqual([expect.stringContaining('error: database /var/lib/spool/spool.db'), 'ok']);
    expect(lines.filter((l) => l.level === 'error')).toHaveLength(1);
    expect(lines.filter((l) => l.level === 'info').map((l) => l.message)).toEqual([expect.stringMatching(/^database \/var\/lib\/spool\/spool.db can be written again \(500.0 MB free\) after \d+ s; taking new files and starting jobs again$/)]);

    // No more probing once writable.
    await tick(10_000);
    expect(disk.probes).toBe(2);
    await expect(health.whenWritable()).resolves.toBeUndefined();
  });

  it('names an I/O error on a disk with room as such, and a waiter can give up', async () => {
    const { health, disk } = setUp();
    disk.freeMb = 2000;
    health.report(new SQLite.SqliteError('disk I/O error', 'SQLITE_IOERR_FSYNC'));
    expect(health.problem()).toBe('database /var/lib/spool/spool.db cannot be written: disk I/O error (SQLITE_IOERR_FSYNC) (2000.0 MB free); new files stay in their inboxes and no job starts until it can');
    const stopping = new AbortController();
    const waiting = health.whenWritable(stopping.signal);
    stopping.abort(new Error('the agent is stopping'));
    await expect(waiting).rejects.toThrow('the agent is stopping');
    health.stop();
  });
});
