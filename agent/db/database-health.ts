/**
 * Whether the database can be written now.
 *
 * Every failed write is shown here (group commit, the checkpointer, a claim
 * in the work area beside the database). The first one that means the
 * database cannot be written (write-fault.ts) turns the agent to "not
 * ready": intake leaves new files in their inboxes, admission starts
 * nothing, /readyz answers 503 with the sentence below, and one error goes
 * to the log (not one per failed write). Attempts already running go on;
 * one that ends waits here until its end can be recorded, so no output is
 * published and no source moved on the strength of an uncommitted row.
 *
 * Recovery is found by probing: every `probeMs`, once the disk has
 * `resumeFreeMb` free (so a disk with a few KB freed does not flap between
 * full and not), a one-row write through group commit. When it commits,
 * listeners hear it (intake rescans the inboxes, admission looks at the
 * queue) and waiting attempts record their ends.
 */
import type { Clock } from '../clock.js';
import { coerceError, errnoCode } from '../errors.js';
import type { EventBus } from '../events.js';
import type { Logger } from '../logger.js';
import { databaseWriteFault, describeWriteFault, type WriteFaultKind } from './write-fault.js';

export interface DatabaseHealth {
  /** Null while writes commit; else why they do not, in an operator's words (for /readyz). */
  problem(): string | null;
  writable(): boolean;
  /** Looks at a failed write; true when it means the database cannot be written (the first one starts probing). */
  report(error: unknown): boolean;
  /** Resolves once the database can be written (at once when it can); rejects when `signal` aborts. */
  whenWritable(signal?: AbortSignal): Promise<void>;
  /** Called with `true` when writes commit again, `false` when they stopped. */
  onChange(listener: (writable: boolean) => void): () => void;
  stop(): void;
}

export interface DatabaseHealthDeps {
  /** The database file, as the operator knows it. */
  file: string;
  /** One small write that commits only if the database can be written. */
  probe: () => Promise<void>;
  /** Free MB on the database's disk, or null when it cannot be read. */
  freeMb: () => number | null;
  clock: Clock;
  logger: Logger;
  events?: EventBus;
  /** @default 1000 */
  probeMs?: number;
  /** @default 8 */
  resumeFreeMb?: number;
}

interface Fault {
  kind: WriteFaultKind;
  code: string | undefined;
  since: number;
}

export function createDatabaseHealth(deps: DatabaseHealthDeps): DatabaseHealth {
  const probeMs = deps.probeMs ?? 1000;
  const resumeFreeMb = deps.resumeFreeMb ?? 8;
  const listeners = new Set<(writable: boolean) => void>();
  let waiters: Array<() => void> = [];
  let fault: Fault | null = null;
  let freeAtLastLook: number | null = null;
  let cancelProbe: (() => void) | undefined;
  let probing = false;
  let stopped = false;

  const cause = () => (fault ? describeWriteFault(fault.kind, fault.code, freeAtLastLook) : '');
  const problem = () =>
    fault
      ? `database ${deps.file} cannot be written: ${cause()}; new files stay in their inboxes and no job starts until it can${fault.kind === 'full' || (freeAtLastLook !== null && freeAtLastLook < resumeFreeMb) ? ` (free at least ${resumeFreeMb} MB on that disk)` : ''}`
      : null;

  const notify = (writable: boolean) => {
    for (const listener of listeners) {
      try {
        listener(writable);
      } catch (error) {
        deps.logger.error(`a listener of the database's health threw: ${coerceError(error).message}`);
      }
    }
  };

  const lookAtDisk = () => {
    freeAtLastLook = deps.freeMb();
    return freeAtLastLook;
  };

  const arm = () => {
    if (stopped || cancelProbe) return;
    cancelProbe = deps.clock.setTimeout(() => {
      cancelProbe = undefined;
      void probeOnce();
    }, probeMs);
  };

  const probeOnce = async () => {
    if (stopped || !fault || probing) return;
    probing = true;
    try {
      const free = lookAtDisk();
      if (free !== null && free < resumeFreeMb) return;
      try {
        await deps.probe();
      } catch (error) {
        const kind = databaseWriteFault(error);
        if (kind && fault) fault = { ...fault, kind, code: errnoCode(error) };
        else deps.logger.debug(`database probe failed: ${coerceError(error).message}`);
        return;
      }
      if (stopped || !fault) return;
      const down = Math.round((deps.clock.now() - fault.since) / 1000);
      fault = null;
      deps.logger.info(`database ${deps.file} can be written again${free === null ? '' : ` (${free.toFixed(1)} MB free)`} after ${down} s; taking new files and starting jobs again`);
      deps.events?.emit('database:ok', { file: deps.file });
      const resolved = waiters;
      waiters = [];
      for (const resolve of resolved) resolve();
      notify(true);
    } finally {
      probing = false;
      if (fault) arm();
    }
  };

  return {
    problem,
    writable: () => fault === null,
    report(error) {
      const kind = databaseWriteFault(error);
      if (kind === null) return false;
      if (stopped) return true;
      if (fault) {
        // Already known: no second log line. A disk-full code says more than an I/O error.
        if (fault.kind === 'io' && kind !== 'io') fault = { ...fault, kind, code: errnoCode(error) };
        return true;
      }
      fault = { kind, code: errnoCode(error), since: deps.clock.now() };
      lookAtDisk();
      const message = problem()!;
      deps.logger.error(`${message}; checking again every ${probeMs / 1000} s (${coerceError(error).message})`);
      deps.events?.emit('database:error', { file: deps.file, message });
      arm();
      notify(false);
      return true;
    },
    whenWritable(signal) {
      if (!fault) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(coerceError(signal.reason));
        const done = () => {
          signal?.removeEventListener('abort', aborted);
          resolve();
        };
        const aborted = () => {
          waiters = waiters.filter((w) => w !== done);
          reject(coerceError(signal?.reason));
        };
        signal?.addEventListener('abort', aborted, { once: true });
        waiters.push(done);
      });
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop() {
      stopped = true;
      cancelProbe?.();
      cancelProbe = undefined;
    },
  };
}
