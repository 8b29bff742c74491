/**
 * Intake: chokidar on every inbox, a stability check per file, and claiming.
 *
 * A file is taken when two looks `stableSeconds` apart see the same size and
 * mtime and no process holds it open for writing. Temporary names and
 * dotfiles are ignored; directories, symlinks, FIFOs and the like are refused
 * with a logged reason and left untouched.
 * A periodic rescan takes files whose events were missed (network mounts,
 * an overflowed inotify queue) and notices inboxes that vanish or return.
 */
import fs from 'node:fs';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { InboxConfig } from '../config/config.schema.js';
import { coerceError, errnoCode } from '../errors.js';
import type { JobDeps } from '../jobs/job-store.js';
import { INBOX_WORK_FOLDER, RESULT_FOLDERS, STAGING_FOLDER } from '../jobs/paths.js';
import { claimFile } from './claim.js';
import { createLimiter } from './limiter.js';
import { createOpenWriters, type OpenWriters } from './open-writers.js';
import { watchResultFolder, type ResultWatch } from './result-watch.js';

/** Result folders whose files a writer may still be filling (a cancelled job's source was taken whole). */
const LATE_WRITE_FOLDERS: readonly string[] = ['done', 'failed'];
const UNWATCHED_RESULT_FOLDERS = RESULT_FOLDERS.filter((f) => !LATE_WRITE_FOLDERS.includes(f));

function closeResults(inbox: WatchedInbox): void {
  for (const watch of inbox.results.values()) watch.close();
  inbox.results.clear();
}

/** Names a writer uses while a file is incomplete, and lock files. */
const TEMP_NAME = /(\.(part|partial|tmp|temp|crdownload|download|filepart|swp)|~)$|^\.~lock|^~\$/i;

export function isIgnoredName(name: string): boolean {
  return name.startsWith('.') || TEMP_NAME.test(name);
}

export interface InboxStatus {
  path: string;
  ok: boolean;
  error: string | null;
}

export interface Intake {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Per inbox: watched fine, or the reason it is not (for /readyz). */
  status(): InboxStatus[];
  /** Re-reads every inbox now (also runs on a timer). */
  rescan(): Promise<void>;
  /**
   * Brings the watched inboxes in line with `config().inboxes` after a
   * reload: new ones are opened, removed ones closed (files already claimed
   * from them carry on), kept ones take their new settings.
   */
  sync(): Promise<void>;
}

interface Tracked {
  size: number;
  mtimeMs: number;
  cancel: () => void;
}

interface WatchedInbox {
  config: InboxConfig;
  watcher: FSWatcher | null;
  tracked: Map<string, Tracked>;
  /** Paths refused, with the reason, so each is logged once. */
  refused: Map<string, string>;
  /** Complete files left in the inbox while files cannot be taken, so each is announced once. */
  held: Set<string>;
  error: string | null;
  /** done/ and failed/, watched for files that change after their job (see result-watch.ts). */
  results: Map<string, ResultWatch>;
}

/**
 * Claims in flight at once. A claim holds no file open but for hashing (a
 * profile that checks duplicates), and spends most of its time waiting for
 * its rename and its commit; with 8, a 200-file burst drained at one claim
 * every 8 ms while the agent's thread sat idle half the time.
 */
const CLAIMS_AT_ONCE = 32;

export interface IntakeDeps extends JobDeps {
  onClaimed: () => void;
  /**
   * Why files cannot be taken now (the database cannot be written), or
   * null. While it says why, complete files stay in their inboxes; the
   * agent calls `rescan()` once they can be taken.
   */
  holdReason?: () => string | null;
  /** Shows a failed claim to the database's health; true when it was the data directory refusing writes. */
  writeFailed?: (error: unknown) => boolean;
}

export function createIntake(deps: IntakeDeps): Intake {
  const inboxes = new Map<string, WatchedInbox>();
  const claims = createLimiter(CLAIMS_AT_ONCE);
  let rescanTimer: (() => void) | undefined;
  let earlyRescan: (() => void) | undefined;
  let stopped = true;
  let openWriters: OpenWriters = { holder: () => null };

  const setError = (inbox: WatchedInbox, message: string | null) => {
    if (inbox.error === message) return;
    inbox.error = message;
    if (message) {
      deps.logger.error(`inbox ${inbox.config.path}: ${message}`, { inbox: inbox.config.path });
      deps.events.emit('intake:error', { inbox: inbox.config.path, message });
    } else {
      deps.logger.info(`watching inbox ${inbox.config.path} (profile ${inbox.config.profile})`, { inbox: inbox.config.path });
      deps.events.emit('intake:ok', { inbox: inbox.config.path });
    }
  };

  const refuse = (inbox: WatchedInbox, file: string, reason: string) => {
    if (inbox.refused.get(file) === reason) return;
    inbox.refused.set(file, reason);
    deps.logger.warn(`refused ${file}: ${reason}; left untouched`, { inbox: inbox.config.path });
    deps.events.emit('intake:refused', { inbox: inbox.config.path, path: file, reason });
  };

  const untrack = (inbox: WatchedInbox, file: string) => {
    inbox.tracked.get(file)?.cancel();
    inbox.tracked.delete(file);
    inbox.refused.delete(file);
    inbox.held.delete(file);
  };

  /** Leaves a complete file where it is; the rescan after the agent can take files again finds it. */
  const hold = (inbox: WatchedInbox, file: string, reason: string) => {
    inbox.tracked.delete(file);
    if (inbox.held.has(file)) return;
    inbox.held.add(file);
    deps.logger.debug(`left ${file} in its inbox: ${reason}`, { inbox: inbox.config.path });
    deps.events.emit('intake:held', { inbox: inbox.config.path, path: file, reason });
  };

  /** Looks at one entry of the inbox: refuse it, or (re)start its stability window. */
  const consider = async (inbox: WatchedInbox, file: string) => {
    if (stopped || path.dirname(file) !== inbox.config.path) return;
    const name = path.basename(file);
    if (isIgnoredName(name) || (RESULT_FOLDERS as readonly string[]).includes(name)) return;
    let stat: fs.Stats;
    try {
      stat = await fs.promises.lstat(file);
    } catch {
      untrack(inbox, file);
      return;
    }
    if (stat.isSymbolicLink()) {
      const target = await fs.promises.realpath(file).catch(() => null);
      const root = await fs.promises.realpath(inbox.config.path).catch(() => inbox.config.path);
      if (target === null) refuse(inbox, file, 'it is a symlink whose target does not exist');
      else if (!target.startsWith(root + path.sep)) refuse(inbox, file, `it is a symlink that leads outside the inbox (to ${target})`);
      else refuse(inbox, file, `it is a symlink to ${target}, which is taken on its own if it is a file here`);
      return;
    }
    if (stat.isDirectory()) return refuse(inbox, file, 'it is a directory; drop files, not folders');
    if (!stat.isFile()) return refuse(inbox, file, 'it is not a regular file');
    const known = inbox.tracked.get(file);
    if (known && known.size === stat.size && known.mtimeMs === stat.mtimeMs) return;
    known?.cancel();
    const cancel = deps.clock.setTimeout(() => void settle(inbox, file), inbox.config.stableSeconds * 1000);
    inbox.tracked.set(file, { size: stat.size, mtimeMs: stat.mtimeMs, cancel });
  };

  /** End of a stability window: claim the file if nothing moved, else wait another window. */
  const settle = async (inbox: WatchedInbox, file: string) => {
    const known = inbox.tracked.get(file);
    if (!known || stopped) return;
    let stat: fs.Stats;
    try {
      stat = await fs.promises.lstat(file);
    } catch {
      untrack(inbox, file);
      return;
    }
    if (!stat.isFile() || stat.size !== known.size || stat.mtimeMs !== known.mtimeMs) {
      inbox.tracked.delete(file);
      return consider(inbox, file);
    }
    // Still for a whole window, but a writer holds it open: a copy that paused, not a finished file.
    const writer = openWriters.holder(file);
    if (writer !== null) {
      deps.logger.debug(`${file} is unchanged but still open for writing by process ${writer}; waiting another window`, { inbox: inbox.config.path });
      inbox.tracked.delete(file);
      return consider(inbox, file);
    }
    const before = deps.holdReason?.() ?? null;
    if (before !== null) return hold(inbox, file, before);
    await claims(async () => {
      if (inbox.tracked.get(file) !== known || stopped) return;
      // The database may have stopped taking writes while this claim waited its turn.
      const held = deps.holdReason?.() ?? null;
      if (held !== null) return hold(inbox, file, held);
      try {
        const result = await claimFile(deps, inbox.config, file, stat);
        if (result.status === 'refused') refuse(inbox, file, result.reason);
        if (result.status === 'claimed') {
          inbox.held.delete(file);
          deps.onClaimed();
        }
      } catch (error) {
        // The claim put the file back (or never moved it); the health check logs the cause once, not per file.
        if (deps.writeFailed?.(error)) hold(inbox, file, deps.holdReason?.() ?? coerceError(error).message);
        else deps.logger.error(`cannot claim ${file}: ${coerceError(error).message}; trying again at the next rescan`, { inbox: inbox.config.path });
      } finally {
        if (inbox.tracked.get(file) === known) inbox.tracked.delete(file);
      }
    });
  };

  const open = async (inbox: WatchedInbox) => {
    try {
      const stat = await fs.promises.stat(inbox.config.path);
      if (!stat.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
      await fs.promises.access(inbox.config.path, fs.constants.R_OK | fs.constants.W_OK | fs.constants.X_OK);
    } catch (error) {
      const code = errnoCode(error);
      setError(inbox, code === 'ENOENT' ? 'the folder does not exist; create it or fix the config' : `cannot use the folder (${code ?? coerceError(error).message}); check its permissions`);
      return;
    }
    const root = inbox.config.path;
    const watcher = watch(root, {
      depth: 0,
      ignoreInitial: false,
      followSymlinks: false,
      usePolling: inbox.config.poll,
      interval: inbox.config.pollIntervalMs,
      binaryInterval: inbox.config.pollIntervalMs,
      // done/ and failed/ are seen (depth 0: as folders only) so that they can be watched for late writes.
      ignored: (p: string) => p !== root && path.dirname(p) === root && [...UNWATCHED_RESULT_FOLDERS, STAGING_FOLDER, INBOX_WORK_FOLDER].includes(path.basename(p)),
    });
    inbox.watcher = watcher;
    watcher.on('add', (p) => void consider(inbox, p));
    watcher.on('change', (p) => void consider(inbox, p));
    watcher.on('addDir', (p) => {
      if (p === root) return;
      if (LATE_WRITE_FOLDERS.includes(path.basename(p)) && path.dirname(p) === root) {
        if (!inbox.results.has(p)) {
          const watch = watchResultFolder(p, root, deps.logger);
          if (watch) inbox.results.set(p, watch);
        }
        return;
      }
      void consider(inbox, p);
    });
    watcher.on('unlink', (p) => untrack(inbox, p));
    watcher.on('unlinkDir', (p) => {
      if (p === root) setError(inbox, 'the folder was removed');
      inbox.refused.delete(p);
      inbox.results.get(p)?.close();
      inbox.results.delete(p);
    });
    watcher.on('error', (error) => setError(inbox, `watch error: ${coerceError(error).message}`));
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
    setError(inbox, null);
  };

  const rescanOne = async (inbox: WatchedInbox) => {
    // A reload may have removed this inbox while the rescan was on its way.
    if (inboxes.get(inbox.config.path) !== inbox) return;
    if (!inbox.watcher || inbox.error) {
      await inbox.watcher?.close();
      inbox.watcher = null;
      closeResults(inbox);
      await open(inbox);
      if (!inbox.watcher) return;
    }
    let names: string[];
    try {
      names = await fs.promises.readdir(inbox.config.path);
    } catch (error) {
      const code = errnoCode(error);
      setError(inbox, code === 'ENOENT' ? 'the folder is gone (removed or unmounted); files are taken again once it is back' : `cannot read the folder (${code ?? coerceError(error).message})`);
      return;
    }
    for (const name of names) {
      const file = path.join(inbox.config.path, name);
      if (!inbox.tracked.has(file)) await consider(inbox, file);
    }
  };

  const rescan = async () => {
    for (const inbox of inboxes.values()) await rescanOne(inbox);
  };

  const close = async (inbox: WatchedInbox) => {
    for (const t of inbox.tracked.values()) t.cancel();
    inbox.tracked.clear();
    closeResults(inbox);
    await inbox.watcher?.close();
    inbox.watcher = null;
  };

  const sync = async () => {
    if (stopped) return;
    const wanted = new Map(deps.config().inboxes.map((config) => [config.path, config]));
    openWriters = createOpenWriters([...wanted.keys()]);
    for (const [key, inbox] of [...inboxes]) {
      const config = wanted.get(key);
      if (!config) {
        inboxes.delete(key);
        await close(inbox);
        deps.logger.info(`stopped watching inbox ${key} (no longer in the config)`, { inbox: key });
        continue;
      }
      // Only the watch mode is fixed when the watcher opens; the other
      // settings are read from inbox.config at each look and claim.
      const reopen = config.poll !== inbox.config.poll || config.pollIntervalMs !== inbox.config.pollIntervalMs;
      inbox.config = config;
      if (reopen) {
        await close(inbox);
        await open(inbox);
      }
    }
    for (const config of wanted.values()) {
      if (inboxes.has(config.path)) continue;
      const inbox: WatchedInbox = { config, watcher: null, tracked: new Map(), refused: new Map(), held: new Set(), error: null, results: new Map() };
      inboxes.set(config.path, inbox);
      await open(inbox);
      if (inbox.watcher && !inbox.error) deps.logger.info(`watching inbox ${config.path} (profile ${config.profile}), added by a config reload`, { inbox: config.path });
    }
  };

  const armRescan = () => {
    rescanTimer = deps.clock.setTimeout(() => {
      if (stopped) return;
      void rescan().finally(armRescan);
    }, deps.config().intake.rescanSeconds * 1000);
  };

  return {
    async start() {
      stopped = false;
      openWriters = createOpenWriters(deps.config().inboxes.map((i) => i.path));
      for (const config of deps.config().inboxes) {
        const inbox: WatchedInbox = { config, watcher: null, tracked: new Map(), refused: new Map(), held: new Set(), error: null, results: new Map() };
        inboxes.set(config.path, inbox);
        await open(inbox);
      }
      // A file that lands while a watcher is still taking its first look
      // (polling takes its baseline asynchronously) raises no event; one early
      // rescan covers that window instead of leaving it to the periodic one.
      earlyRescan = deps.clock.setTimeout(() => void rescan(), 2000);
      armRescan();
    },
    async stop() {
      stopped = true;
      rescanTimer?.();
      earlyRescan?.();
      for (const inbox of inboxes.values()) {
        for (const t of inbox.tracked.values()) t.cancel();
        await inbox.watcher?.close();
        closeResults(inbox);
      }
      await claims.idle();
      inboxes.clear();
    },
    status: () => [...inboxes.values()].map((i) => ({ path: i.config.path, ok: i.error === null, error: i.error })),
    rescan,
    sync,
  };
}
