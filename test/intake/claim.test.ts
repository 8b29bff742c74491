/**
 * A claim whose job row cannot be written (the database's disk is full)
 * must not strand the file in a work folder: it goes back into the inbox,
 * under its own name, to be taken once the database can be written.
 */
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SpoolConfig } from '../../agent/config/config.schema.js';
import { parseConfig } from '../../agent/config/load-config.js';
import { openDatabase, type OpenedDatabase } from '../../agent/db/database.js';
import { statementsOf } from '../../agent/db/statements.js';
import { createEventBus } from '../../agent/events.js';
import { claimFile } from '../../agent/intake/claim.js';
import type { JobDeps } from '../../agent/jobs/job-store.js';
import { silentLogger } from '../../agent/logger.js';
import { createFakeClock } from '../helpers/fake-clock.js';
import { listFiles, makeTempDir } from '../helpers/test-agent.js';

let dir: string;
let config: SpoolConfig;
let opened: OpenedDatabase;
let deps: JobDeps;

beforeEach(async () => {
  dir = makeTempDir();
  config = parseConfig({ dataDir: 'data', profiles: { p: { kind: 'probe' } }, inboxes: [{ path: 'inbox', profile: 'p', outbox: 'outbox' }] }, dir);
  fs.mkdirSync(config.inboxes[0]!.path, { recursive: true });
  opened = await openDatabase(path.join(config.dataDir, 'spool.db'));
  deps = { db: opened.db, config: () => config, events: createEventBus(), logger: silentLogger, clock: createFakeClock() };
});
afterEach(async () => {
  await opened.close();
});

/** Makes every group commit fail as it does on a full disk, until the returned function is called. */
function diskFull(): () => void {
  const st = statementsOf(opened.db);
  const write = st.write;
  st.write = () => Promise.reject(new SQLite.SqliteError('database or disk is full', 'SQLITE_FULL'));
  return () => {
    st.write = write;
  };
}

describe('claiming while the database cannot be written', () => {
  it('puts the file back into the inbox untouched and leaves no work folder', async () => {
    const inbox = config.inboxes[0]!;
    const file = path.join(inbox.path, 'clip.mp4');
    fs.writeFileSync(file, 'the bytes of a clip');
    const stat = fs.statSync(file);
    const restore = diskFull();
    await expect(claimFile(deps, inbox, file, stat)).rejects.toMatchObject({ code: 'SQLITE_FULL' });
    restore();

    expect(fs.readFileSync(file, 'utf8')).toBe('the bytes of a clip');
    expect(fs.statSync(file).mtimeMs).toBe(stat.mtimeMs);
    expect(listFiles(path.join(config.dataDir, 'work'))).toEqual([]);
    expect(listFiles(path.join(inbox.path, '.spool-work'))).toEqual([]);

    // Once it can be written, the same file is claimed as usual.
    const claimed = await claimFile(deps, inbox, file, fs.statSync(file));
    expect(claimed.status).toBe('claimed');
    expect(fs.existsSync(file)).toBe(false);
  });

  it('leaves a file in its work folder when a new file took its name in the inbox meanwhile', async () => {
    const inbox = config.inboxes[0]!;
    const file = path.join(inbox.path, 'clip.mp4');
    fs.writeFileSync(file, 'first');
    const stat = fs.statSync(file);
    const st = statementsOf(opened.db);
    const write = st.write;
    st.write = () => {
      // Someone drops a new file with the same name while the claim's row is being written.
      fs.writeFileSync(file, 'second');
      return Promise.reject(new SQLite.SqliteError('database or disk is full', 'SQLITE_FULL'));
    };
    await expect(claimFile(deps, inbox, file, stat)).rejects.toMatchObject({ code: 'SQLITE_FULL' });
    st.write = write;
    expect(fs.readFileSync(file, 'utf8')).toBe('second');
    // The first one waits in its work folder with its claim record; start-up reconciliation adopts it.
    const kept = listFiles(path.join(config.dataDir, 'work')).filter((f) => f.endsWith('clip.mp4'));
    expect(kept).toHaveLength(1);
    expect(fs.readFileSync(path.join(config.dataDir, 'work', kept[0]!), 'utf8')).toBe('first');
  });
});
