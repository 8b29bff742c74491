/**
 * A damaged database file stops the agent at start with a message that says
 * which file, what is wrong and what to do, instead of a raw SQLite error
 * (or, worse, running on it).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../agent/config/load-config.js';
import { openDatabase } from '../../agent/db/database.js';
import { insertJobNow } from '../../agent/db/job.repository.js';
import { statementsOf } from '../../agent/db/statements.js';
import { newJobRow } from '../../agent/jobs/job-store.js';
import { SpoolError } from '../../agent/errors.js';

const config = parseConfig({ profiles: { p: { kind: 'probe' } } }, '/tmp');
let dir: string;
let file: string;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-integrity-'));
  file = path.join(dir, 'spool.db');
  // A database with some history, closed cleanly (the WAL folded into the file).
  const opened = await openDatabase(file);
  await statementsOf(opened.db).write(() => {
    for (let i = 0; i < 400; i++) {
      const id = `job-${String(i).padStart(4, '0')}`;
      insertJobNow(opened.db, newJobRow(config, 'p', { inputPath: `/in/${id}-${'x'.repeat(200)}`, sourcePath: `/in/${id}`, inboxPath: null, outbox: '/out', sizeBytes: i, mtimeMs: 1 }, 1, { id }));
    }
  });
  await opened.close();
  expect(fs.existsSync(`${file}-wal`)).toBe(false);
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Overwrites `pages` whole pages from page number `first` (1-based) with garbage. */
function scribble(first: number, pages: number): void {
  const pageSize = fs.readFileSync(file).readUInt16BE(16);
  const fd = fs.openSync(file, 'r+');
  try {
    fs.writeSync(fd, Buffer.alloc(pageSize * pages, 0xa5), 0, pageSize * pages, (first - 1) * pageSize);
  } finally {
    fs.closeSync(fd);
  }
}

describe('integrity check at start', () => {
  it('refuses a database whose table pages are damaged, naming the file and the way out', async () => {
    const pages = fs.statSync(file).size / fs.readFileSync(file).readUInt16BE(16);
    expect(pages).toBeGreaterThan(20);
    // The second half of the file: job rows and index pages, past the schema on page 1.
    scribble(Math.floor(pages / 2), 4);
    const opening = openDatabase(file);
    await expect(opening).rejects.toBeInstanceOf(SpoolError);
    await expect(opening).rejects.toThrow(`database ${file} failed its integrity check`);
    await expect(opening).rejects.toThrow(/restore the file from a backup made with "spool backup", or move it aside/);
  });

  it('refuses a file whose header is damaged with the same message, not a raw SQLite error', async () => {
    scribble(1, 1);
    const opening = openDatabase(file);
    await expect(opening).rejects.toBeInstanceOf(SpoolError);
    await expect(opening).rejects.toThrow(`database ${file} failed its integrity check (file is not a database)`);
  });

  it('opens an intact database', async () => {
    const opened = await openDatabase(file);
    expect(opened.sqlite.pragma('quick_check', { simple: true })).toBe('ok');
    await opened.close();
  });
});
