/**
 * WAL checkpoints off the event loop.
 *
 * SQLite copies the WAL back into the database file (a checkpoint) from
 * inside a COMMIT once the WAL passes 1000 pages. better-sqlite3 runs on the
 * event loop, so that copy stalled the agent: about 20 ms per checkpoint and
 * 60 % of the cost of a write in the queue benchmark (test/bench/).
 *
 * Once the agent keeps writing, a worker thread with its own connection runs
 * PASSIVE checkpoints every CHECKPOINT_MS (they never block the agent's
 * writes). A WAL only starts over when a write begins with every frame
 * copied, which a checkpoint racing our writes rarely leaves; so when the
 * WAL is long, the agent's own connection checkpoints the frames written
 * since the worker's last pass and its next write restarts the file. That
 * copy runs on the event loop, so the worker first catches up, pass after
 * pass without pausing, and reports only once a pass found little left to
 * copy (CATCH_UP_PAGES): reporting after its regular pass left the agent
 * copying what a 50 ms pause and a slow pass had let pile up, 30–45 ms at
 * a time under the queue benchmark's writes.
 * Durability is unchanged: synchronous=NORMAL still syncs the WAL before
 * each checkpoint and the database file after it. If the worker cannot run,
 * the agent's connection goes back to checkpointing by itself.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';

/** Group commits after which the worker starts (a short-lived CLI command never pays for it). */
const START_AFTER_COMMITS = 64;
const CHECKPOINT_MS = 50;
/** WAL length (pages) at which the agent's connection finishes a checkpoint so the WAL restarts. */
const RESTART_PAGES = 4000;
/** A pass that copied at most this many pages leaves the agent little to copy; the worker then reports. */
const CATCH_UP_PAGES = 256;
/** Passes in a row the worker spends catching up before it reports anyway (writes outpacing its copies); it also reports once the WAL reaches four times RESTART_PAGES. */
const CATCH_UP_PASSES = 8;
/** SQLite's own default, restored when the worker is gone. */
const DEFAULT_AUTOCHECKPOINT = 1000;

// CommonJS run with `eval`, so it needs no file of its own next to the compiled code or the TypeScript source.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 50');
const checkpoint = db.prepare('pragma wal_checkpoint(PASSIVE)');
let reported = 0;
let copiedBefore = 0;
let catchingUp = 0;
let timer;
const tick = () => {
  let next = workerData.intervalMs;
  try {
    const { log, checkpointed } = checkpoint.get();
    // A WAL that started over counts from zero again.
    const copied = checkpointed >= copiedBefore ? checkpointed - copiedBefore : checkpointed;
    copiedBefore = checkpointed;
    if (log >= workerData.restartPages && log !== reported) {
      if (copied <= workerData.catchUpPages || catchingUp >= workerData.catchUpPasses || log >= 4 * workerData.restartPages) {
        parentPort.postMessage({ log });
        reported = log;
        catchingUp = 0;
      } else {
        catchingUp += 1;
        next = 0;
      }
    } else {
      reported = log;
      catchingUp = 0;
    }
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message || error), code: error && error.code });
  }
  timer = setTimeout(tick, next);
};
timer = setTimeout(tick, workerData.intervalMs);
parentPort.on('message', () => {
  clearTimeout(timer);
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  /** Called after each group commit. */
  committed(): void;
  stop(): Promise<void>;
}

/**
 * `onError` hears why a checkpoint failed, with SQLite's code (a full disk
 * says SQLITE_FULL), and why the worker stopped.
 */
export function createCheckpointer(sqlite: SQLite.Database, file: string, onError: (message: string, code?: string) => void = () => undefined): Checkpointer {
  if (file === ':memory:' || sqlite.memory) return { committed: () => undefined, stop: async () => undefined };
  let commits = 0;
  let worker: Worker | null = null;
  let stopped = false;

  const fallBack = (message: string) => {
    if (stopped || !sqlite.open) return;
    sqlite.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT}`);
    onError(`background WAL checkpoints stopped (${message}); checkpointing on the main connection`);
  };

  const start = () => {
    try {
      worker = new Worker(WORKER, {
        eval: true,
        workerData: { driver: createRequire(import.meta.url).resolve('better-sqlite3'), file, intervalMs: CHECKPOINT_MS, restartPages: RESTART_PAGES, catchUpPages: CATCH_UP_PAGES, catchUpPasses: CATCH_UP_PASSES },
      });
    } catch (error) {
      fallBack((error as Error).message);
      return;
    }
    worker.unref();
    sqlite.pragma('wal_autocheckpoint = 0');
    worker.on('message', (message: { log?: number; error?: string; code?: string }) => {
      if (message.error !== undefined) {
        onError(`background WAL checkpoint failed: ${message.error}`, message.code);
        return;
      }
      if (!stopped && sqlite.open && !sqlite.inTransaction) {
        // Copies only what was written since the worker's pass; the next write then starts the WAL over.
        try {
          sqlite.pragma('wal_checkpoint(PASSIVE)');
        } catch (error) {
          // A full disk: the WAL keeps the pages until a checkpoint can copy them.
          onError(`WAL checkpoint failed: ${(error as Error).message}`, (error as { code?: string }).code);
        }
      }
    });
    worker.on('error', (error) => fallBack(error.message));
    worker.on('exit', (code) => {
      worker = null;
      if (!stopped) fallBack(`the worker exited with code ${code}`);
    });
  };

  return {
    committed() {
      commits += 1;
      if (commits === START_AFTER_COMMITS && !stopped) start();
    },
    async stop() {
      stopped = true;
      const running = worker;
      worker = null;
      if (!running) return;
      const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
      // Unreferenced while it runs (it must not keep the agent alive), but this wait must.
      running.ref();
      running.postMessage('stop');
      await exited;
    },
  };
}
