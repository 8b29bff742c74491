/**
 * A fresh SQLite file per test, opened (and migrated) by the agent's own
 * openDatabase before each test and closed and removed after it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { openDatabase, type OpenedDatabase } from '../../agent/db/database.js';

/** Registers the hooks; call the returned function inside a test for the database it runs on. */
export function useTempDatabase(): () => OpenedDatabase {
  let opened: OpenedDatabase | undefined;
  let dir = '';
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-db-'));
    opened = await openDatabase(path.join(dir, 'spool.db'));
  });
  afterEach(async () => {
    await opened?.close();
    opened = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    if (!opened) throw new Error('useTempDatabase: the database is open only while a test runs');
    return opened;
  };
}
