/** Which profiles unfinished jobs still run under (a config reload must keep those). */
import type { Db } from './database.js';

/** Unfinished jobs (pending, running, paused) per profile name. */
export async function unfinishedJobsByProfile(db: Db): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('jobs')
    .select((eb) => ['profile', eb.fn.countAll<number>().as('n')])
    .where('status', 'in', ['PENDING', 'RUNNING', 'PAUSED'])
    .groupBy('profile')
    .execute();
  return new Map(rows.map((r) => [r.profile, Number(r.n)]));
}
