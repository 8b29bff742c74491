/** Small persistent agent settings (queue paused, first-start markers). */
import type { Db } from './database.js';

export async function getState(db: Db, key: string): Promise<string | undefined> {
  return (await db.selectFrom('agent_state').select('value').where('key', '=', key).executeTakeFirst())?.value;
}

export async function setState(db: Db, key: string, value: string): Promise<void> {
  await db.insertInto('agent_state').values({ key, value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
}
