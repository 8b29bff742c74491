/** Group commit on a fresh migrated SQLite file per test. */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../agent/config/load-config.js';
import { getJobRow, insertJobNow } from '../../agent/db/job.repository.js';
import { statementsOf } from '../../agent/db/statements.js';
import { newJobRow } from '../../agent/jobs/job-store.js';
import { useTempDatabase } from '../helpers/temp-database.js';

const config = parseConfig({ profiles: { p: { kind: 'probe' } } }, '/tmp');
const row = (id: string) => newJobRow(config, 'p', { inputPath: `/in/${id}`, sourcePath: `/in/${id}`, inboxPath: null, outbox: '/out', sizeBytes: 1, mtimeMs: 1 }, 1, { id });
const database = useTempDatabase();

describe('group commit', () => {
  it('commits the writes of one turn together; one that throws rolls back alone', async () => {
    const st = statementsOf(database().db);
    const writes = [
      st.write(() => insertJobNow(database().db, row('A'))),
      st.write(() => {
        insertJobNow(database().db, row('B'));
        throw new Error('no B after all');
      }),
      st.write(() => insertJobNow(database().db, row('C'))),
    ];
    const outcomes = await Promise.allSettled(writes);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ message: 'no B after all' });
    expect(await getJobRow(database().db, 'A')).toBeDefined();
    expect(await getJobRow(database().db, 'B')).toBeUndefined();
    expect(await getJobRow(database().db, 'C')).toBeDefined();
  });

  it('settles a write only once another connection can read it', async () => {
    const other = new Database(database().sqlite.name, { readonly: true });
    try {
      const seen = await statementsOf(database().db)
        .write(() => insertJobNow(database().db, row('D')))
        .then(() => other.prepare('select id from jobs where id = ?').get('D'));
      expect(seen).toEqual({ id: 'D' });
    } finally {
      other.close();
    }
  });

  it('waits for a Kysely transaction between its statements instead of landing inside it', async () => {
    let queued: Promise<unknown> | undefined;
    await expect(
      database().db.transaction().execute(async (trx) => {
        await trx.insertInto('agent_state').values({ key: 'inside', value: 'x' }).execute();
        queued = statementsOf(database().db).write(() => insertJobNow(database().db, row('E')));
        await new Promise((resolve) => setTimeout(resolve, 20));
        throw new Error('roll this transaction back');
      }),
    ).rejects.toThrow('roll this transaction back');
    await queued;
    expect(database().sqlite.prepare('select key from agent_state where key = ?').get('inside')).toBeUndefined();
    expect(await getJobRow(database().db, 'E')).toBeDefined();
  });
});
