/** Group commit on a fresh migrated SQLite file per test. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../agent/config/load-config.js';
import { openDatabase, type OpenedDatabase } from '../../agent/db/database.js';
import { getJobRow, insertJobNow } from '../../agent/db/job.repository.js';
import { statementsOf } from '../../agent/db/statements.js';
import { newJobRow } from '../../agent/jobs/job-store.js';

const config = parseConfig({ profiles: { p: { kind: 'probe' } } }, '/tmp');
const row = (id: string) => newJobRow(config, 'p', { inputPath: `/in/${id}`, sourcePath: `/in/${id}`, inboxPath: null, outbox: '/out', sizeBytes: 1, mtimeMs: 1 }, 1, { id });
let opened: OpenedDatabase;
let dir: string;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-statements-'));
  opened = await openDatabase(path.join(dir, 'spool.db'));
});
afterEach(async () => {
  await opened.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('group commit', () => {
  it('commits the writes of one turn together; one that throws rolls back alone', async () => {
    const st = statementsOf(opened.db);
    const writes = [
      st.write(() => insertJobNow(opened.db, row('A'))),
      st.write(() => {
        insertJobNow(opened.db, row('B'));
        throw new Error('no B after all');
      }),
      st.write(() => insertJobNow(opened.db, row('C'))),
    ];
    const outcomes = await Promise.allSettled(writes);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ message: 'no B after all' });
    expect(await getJobRow(opened.db, 'A')).toBeDefined();
    expect(await getJobRow(opened.db, 'B')).toBeUndefined();
    expect(await getJobRow(opened.db, 'C')).toBeDefined();
  });

  it('settles a write only once another connection can read it', async () => {
    const other = new Database(path.join(dir, 'spool.db'), { readonly: true });
    try {
      const seen = await statementsOf(opened.db)
        .write(() => insertJobNow(opened.db, row('D')))
        .then(() => other.prepare('select id from jobs where id = ?').get('D'));
      expect(seen).toEqual({ id: 'D' });
    } finally {
      other.close();
    }
  });

  it('waits for a Kysely transaction between its statements instead of landing inside it', async () => {
    let queued: Promise<unknown> | undefined;
    await expect(
      opened.db.transaction().execute(async (trx) => {
        await trx.insertInto('agent_state').values({ key: 'inside', value: 'x' }).execute();
        queued = statementsOf(opened.db).write(() => insertJobNow(opened.db, row('E')));
        await new Promise((resolve) => setTimeout(resolve, 20));
        throw new Error('roll this transaction back');
      }),
    ).rejects.toThrow('roll this transaction back');
    await queued;
    expect(opened.sqlite.prepare('select key from agent_state where key = ?').get('inside')).toBeUndefined();
    expect(await getJobRow(opened.db, 'E')).toBeDefined();
  });
});
