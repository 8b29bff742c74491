/**
 * The hot path's SQL runs on better-sqlite3 directly: prepared statements
 * kept per connection, and writes grouped into one transaction per turn of
 * the event loop (group commit). The repositories use this; nothing else
 * should.
 *
 * Why not Kysely for these queries: Kysely builds and compiles every query
 * anew, and its SQLite driver prepares the statement again on every call.
 * A no-op job ran about 26 statements that way, and compiling plus
 * preparing cost about half of its 5 ms (test/bench/queue-throughput.ts).
 * Kysely stays for the cold queries (lists, pruning, migrations).
 *
 * Why group commit: every COMMIT appends the pages it changed to the WAL,
 * and every thousand WAL pages a checkpoint syncs the file. One transaction
 * per write cost 60–230 µs on the benchmark box; sixty-four writes in one
 * transaction cost 17–24 µs each. A write queued with `write()` runs at the
 * end of the current turn together with the other writes queued in it, each
 * in its own savepoint, so one that throws rolls back alone. Its promise
 * settles only after COMMIT: what a caller does after `await` (spawning,
 * moving files) still happens after its state is in SQLite.
 *
 * better-sqlite3 is synchronous, so a batch can never interleave with a
 * Kysely query. A Kysely transaction, though, awaits between its
 * statements; while one is open the batch waits for it to end.
 */
import type SQLite from 'better-sqlite3';
import type { JobRow, JobRowUpdate } from './tables.js';

/**
 * A change to the jobs table made through the repositories, for in-memory
 * views of the queue (the scheduler's candidate window). Delivered after
 * the change committed.
 */
export type JobChange =
  | { type: 'inserted'; row: JobRow; dependsOn: readonly string[] }
  /** `status` is the job's status after the update. */
  | { type: 'updated'; id: string; patch: JobRowUpdate; status: string }
  /** Anything else (a failed commit, a bulk change): views must reload. */
  | { type: 'unknown' };

export interface Statements {
  readonly sqlite: SQLite.Database;
  /** The statement for `text`, prepared once per connection. */
  prepare(text: string): SQLite.Statement;
  /** Runs `work` in the next group commit; resolves with its result after COMMIT, rejects if it threw. */
  write<T>(work: () => T): Promise<T>;
  /** Resolves once every write queued so far has committed. */
  drain(): Promise<void>;
  /** Records a change made inside a write; listeners hear it after the commit. */
  changed(change: JobChange): void;
  onJobsChanged(listener: (change: JobChange) => void): () => void;
}

interface Unit {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Past this many distinct texts the cache starts over (patch shapes are few; this only bounds a leak). */
const MAX_STATEMENTS = 1000;

const attached = new WeakMap<object, Statements>();

export interface StatementsOptions {
  /** Called after each group commit. */
  committed?: () => void;
  /** Called with the error of each write that did not commit (the database's health looks at it). */
  failed?: (error: unknown) => void;
}

export function attachStatements(db: object, sqlite: SQLite.Database, options: StatementsOptions = {}): Statements {
  const cache = new Map<string, SQLite.Statement>();
  const prepare = (text: string) => {
    let statement = cache.get(text);
    if (!statement) {
      if (cache.size >= MAX_STATEMENTS) cache.clear();
      statement = sqlite.prepare(text);
      cache.set(text, statement);
    }
    return statement;
  };
  let queue: Unit[] = [];
  let scheduled = false;
  let changes: JobChange[] = [];
  const listeners = new Set<(change: JobChange) => void>();

  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };

  const flush = () => {
    scheduled = false;
    if (queue.length === 0) return;
    if (sqlite.inTransaction) {
      // A Kysely transaction is between two of its statements; our writes must not land inside it.
      schedule();
      return;
    }
    const units = queue;
    queue = [];
    changes = [];
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      prepare('begin immediate').run();
      if (units.length === 1) {
        // Alone in its transaction: a throw rolls the whole of it back, no savepoint needed.
        try {
          outcomes.push({ ok: true, value: units[0]!.work() });
        } catch (error) {
          if (sqlite.inTransaction) prepare('rollback').run();
          changes = [];
          outcomes[0] = { ok: false, error };
        }
      } else {
        for (const unit of units) {
          prepare('savepoint unit').run();
          const changesBefore = changes.length;
          try {
            outcomes.push({ ok: true, value: unit.work() });
            prepare('release unit').run();
          } catch (error) {
            // SQLite may roll the whole transaction back itself (a full disk
            // while the page cache spills): every unit failed with it.
            if (!sqlite.inTransaction) throw error;
            prepare('rollback to unit').run();
            prepare('release unit').run();
            changes.length = changesBefore;
            outcomes.push({ ok: false, error });
          }
        }
      }
      if (sqlite.inTransaction) {
        prepare('commit').run();
        options.committed?.();
      }
    } catch (error) {
      try {
        if (sqlite.inTransaction) sqlite.prepare('rollback').run();
      } catch {
        // Nothing more to undo: a failed rollback leaves the transaction to SQLite, which ends it.
      }
      changes = [{ type: 'unknown' }];
      outcomes.length = 0;
      for (let i = 0; i < units.length; i++) outcomes.push({ ok: false, error });
    }
    const delivered = changes;
    changes = [];
    for (const change of delivered) {
      for (const listener of listeners) {
        try {
          listener(change);
        } catch {
          // A view that cannot follow a change reloads on its own timer; the write itself committed.
        }
      }
    }
    if (options.failed) {
      for (const outcome of outcomes) if (!outcome.ok) options.failed(outcome.error);
    }
    units.forEach((unit, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) unit.resolve(outcome.value);
      else unit.reject(outcome.error);
    });
  };

  const statements: Statements = {
    sqlite,
    prepare,
    write<T>(work: () => T): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
        schedule();
      });
    },
    drain() {
      return statements.write(() => undefined);
    },
    changed(change) {
      changes.push(change);
    },
    onJobsChanged(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  attached.set(db, statements);
  return statements;
}

/** The statements of a database opened by `openDatabase`. */
export function statementsOf(db: object): Statements {
  const statements = attached.get(db);
  if (!statements) throw new Error('this database was not opened by openDatabase (or is a Kysely transaction); the repositories need the agent\'s own handle');
  return statements;
}
