/**
 * SIGHUP: profiles and inboxes are read again from the config file while
 * jobs keep running.
 *
 * These two sections reload, and from `server` the keys the API reads per
 * request (tokens, allowedOrigins, inputRoots, maxPageSize), so a new token
 * works after `systemctl reload`. The others (dataDir, the listening address, resources,
 * jobs, intake, appliance) are taken at start by parts that are built once
 * (the database file, the listening socket, the samplers' timers), so a
 * change there is reported as needing a restart instead of being applied
 * half-way.
 *
 * A new file is refused whole, and the running config kept, when it does not
 * parse (the same messages as at start: key, value, expected) or when it
 * drops a profile that unfinished jobs still need; those jobs would otherwise
 * fail with "profile no longer in the config".
 */
import fs from 'node:fs';
import type { InboxConfig, SpoolConfig } from '../config/config.schema.js';
import { loadConfigFile } from '../config/load-config.js';
import { coerceError, SpoolError } from '../errors.js';
import type { Logger } from '../logger.js';

/** Sections a reload applies; every other top-level key needs a restart. */
const RELOADED = ['profiles', 'inboxes'] as const;

export interface ReloadPlan {
  /** What the agent runs with once the plan is taken: the running config with the new profiles and inboxes. */
  config: SpoolConfig;
  /** Why the new config is refused (key, value, expected); empty when it can be taken. */
  problems: string[];
  /** Top-level keys that differ but apply only at the next start. */
  restartNeeded: string[];
  addedInboxes: InboxConfig[];
  removedInboxes: InboxConfig[];
  /** One line for the log, e.g. "inboxes: +1 -0 changed 1; profiles: +1 -0 changed 0". */
  summary: string;
}

/** Pure: what a reload from `current` to `next` would do, given the unfinished jobs per profile. */
export function planReload(current: SpoolConfig, next: SpoolConfig, unfinished: ReadonlyMap<string, number>): ReloadPlan {
  const problems: string[] = [];
  for (const [profile, count] of unfinished) {
    if (current.profiles[profile] && !next.profiles[profile]) {
      problems.push(
        `profiles.${profile}: got nothing, expected the profile kept while ${count} unfinished job${count === 1 ? '' : 's'} use${count === 1 ? 's' : ''} it (let them finish or cancel them, then remove it)`,
      );
    }
  }
  const server = { ...current.server, ...pick(next.server, SERVER_RELOADED) };
  const restartNeeded = (Object.keys(current) as (keyof SpoolConfig)[]).filter((key) =>
    key === 'server' ? !sameValue(server, next.server) : !(RELOADED as readonly string[]).includes(key) && !sameValue(current[key], next[key]),
  );
  const config: SpoolConfig = { ...current, profiles: next.profiles, inboxes: next.inboxes, server };
  const inboxes = diff(
    new Map(current.inboxes.map((i) => [i.path, i])),
    new Map(next.inboxes.map((i) => [i.path, i])),
  );
  const profiles = diff(new Map(Object.entries(current.profiles)), new Map(Object.entries(next.profiles)));
  return {
    config,
    problems,
    restartNeeded,
    addedInboxes: inboxes.added,
    removedInboxes: inboxes.removed,
    summary: `inboxes: +${inboxes.added.length} -${inboxes.removed.length} changed ${inboxes.changed}; profiles: +${profiles.added.length} -${profiles.removed.length} changed ${profiles.changed}`,
  };
}

/** Keys of `server` read per request, so they reload; the rest (host, port, size limits) are fixed at start. */
const SERVER_RELOADED = ['tokens', 'allowedOrigins', 'inputRoots', 'maxPageSize'] as const;

function pick<T extends object, K extends keyof T>(value: T, keys: readonly K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((k) => [k, value[k]])) as Pick<T, K>;
}

/** The part of the agent a reload drives. */
export interface Reloadable {
  reload(next: SpoolConfig): Promise<ReloadPlan>;
}

/**
 * Reads `file` and hands it to the agent. Every outcome is logged; a refusal
 * is one error line per problem, then a line saying the running config stays.
 * Resolves true when the new config was taken.
 */
export async function reloadConfigFile(file: string, agent: Reloadable, logger: Logger): Promise<boolean> {
  logger.info(`reloading profiles and inboxes from ${file}`);
  try {
    const plan = await agent.reload(loadConfigFile(file));
    logger.info(`config reloaded (${plan.summary}); running jobs were not touched`);
    if (plan.restartNeeded.length > 0) {
      logger.warn(`config reload: ${plan.restartNeeded.join(', ')} changed in ${file} but apply only at the next start (a reload takes profiles and inboxes)`);
    }
    return true;
  } catch (error) {
    const message = error instanceof SpoolError && error.code === 'CONFIG_INVALID' ? error.message : coerceError(error).message;
    for (const line of message.split('\n')) if (line.trim()) logger.error(`config reload refused: ${line}`);
    logger.error(`config reload refused; the running config stays in force (fix ${file} and send SIGHUP again)`);
    return false;
  }
}

/** Creates each inbox's outbox (and the inbox itself when `createInboxes`), logging what cannot be made. */
export function prepareInboxFolders(inboxes: readonly InboxConfig[], createInboxes: boolean, logger: Logger): void {
  for (const inbox of inboxes) {
    if (createInboxes) fs.mkdirSync(inbox.path, { recursive: true });
    try {
      fs.mkdirSync(inbox.outbox, { recursive: true });
    } catch (error) {
      logger.error(`cannot create outbox ${inbox.outbox}: ${coerceError(error).message}`, { inbox: inbox.path });
    }
  }
}

function diff<T>(before: Map<string, T>, after: Map<string, T>): { added: T[]; removed: T[]; changed: number } {
  const added = [...after].filter(([key]) => !before.has(key)).map(([, value]) => value);
  const removed = [...before].filter(([key]) => !after.has(key)).map(([, value]) => value);
  const changed = [...after].filter(([key, value]) => before.has(key) && !sameValue(before.get(key), value)).length;
  return { added, removed, changed };
}

/** Parsed config is plain data (objects, arrays, strings, numbers, booleans). */
function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
