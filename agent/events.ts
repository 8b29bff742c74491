/**
 * The agent's one typed event bus. The scheduler, intake and runners emit;
 * tests, the log and (later) the GraphQL pubsub listen. A listener that
 * throws is logged and never breaks the emitter.
 */
import { EventEmitter } from 'node:events';
import type { Job, JobProgress } from './jobs/job.js';
import type { Logger } from './logger.js';

export interface SpoolEvents {
  /** A job row was created (claimed from an inbox, submitted, or a follow-on step). */
  'job:created': { job: Job };
  /** A job changed state, priority or waiting reason. */
  'job:updated': { job: Job };
  /** Progress of a running attempt (in memory; written to the database throttled). */
  'job:progress': { jobId: string; progress: JobProgress };
  /** A process of a running attempt was spawned (a kind may spawn several, e.g. target-size passes). */
  'job:spawned': { jobId: string; pid: number; file: string };
  /** A job reached COMPLETED, FAILED or CANCELLED and its files are settled. */
  'job:finished': { job: Job };
  /** Log lines appended to a job. */
  'job:log': { jobId: string; lines: { at: number; stream: string; line: string }[] };
  /** A file in an inbox was refused (directory, symlink out, …) and left untouched. */
  'intake:refused': { inbox: string; path: string; reason: string };
  /** An inbox cannot be watched (missing, unreadable) or recovered. */
  'intake:error': { inbox: string; message: string };
  'intake:ok': { inbox: string };
  /** A file was claimed into the work area. */
  'intake:claimed': { inbox: string; path: string; jobId: string };
  /** Admission looked at a job and left it waiting. */
  'admission:deferred': { jobId: string; reason: string };
  /** nvidia-smi failed, hung or answered garbage; GPU admissions stop until it recovers. */
  'sampler:error': { message: string };
  'sampler:recovered': { message: string };
  /** The database cannot be written (its disk full, an I/O error): intake and admission stop until it can. */
  'database:error': { file: string; message: string };
  'database:ok': { file: string };
  /** A complete file was left in its inbox because the agent cannot take files now (once per file until it can). */
  'intake:held': { inbox: string; path: string; reason: string };
  /** The queue was paused or resumed. */
  'queue:paused': { paused: boolean };
}

export type EventName = keyof SpoolEvents;

export interface EventBus {
  emit<E extends EventName>(event: E, payload: SpoolEvents[E]): void;
  on<E extends EventName>(event: E, listener: (payload: SpoolEvents[E]) => void): () => void;
  /**
   * Whether anyone listens to `event` now. A whole job costs database reads
   * to build (its row, dependencies and outputs); emitters on the hot path
   * ask this first and skip building a payload nobody would read.
   */
  listening(event: EventName): boolean;
}

export function createEventBus(logger?: Logger): EventBus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    emit(event, payload) {
      for (const listener of emitter.listeners(event)) {
        try {
          (listener as (p: unknown) => void)(payload);
        } catch (error) {
          logger?.error(`listener for ${event} threw: ${(error as Error).message}`);
        }
      }
    },
    on(event, listener) {
      emitter.on(event, listener as (p: unknown) => void);
      return () => emitter.off(event, listener as (p: unknown) => void);
    },
    listening(event) {
      return emitter.listenerCount(event) > 0;
    },
  };
}
