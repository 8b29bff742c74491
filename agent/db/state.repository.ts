/** Small persistent agent settings (queue paused, first-start markers). */
import type { Db } from './database.js';
import { statementsOf } from './statements.js';

export async function getState(db: Db, key: string): Promise<string | undefined> {
  return (await db.selectFrom('agent_state').select('value').where('key', '=', key).executeTakeFirst())?.value;
}

export async function setState(db: Db, key: string, value: string): Promise<void> {
  await db.insertInto('agent_state').values({ key, value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
}

/** One small write through group commit: it commits only if the database can be written (the health probe). */
export function probeWrite(db: Db, now: number): Promise<void> {
  return statementsOf(db).write(() => {
    statementsOf(db).prepare("insert into agent_state (key, value) values ('write_probe', ?) on conflict (key) do update set value = excluded.value").run(String(now));
  });
}
