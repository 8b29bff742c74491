/**
 * Webhooks: every job that ends COMPLETED or FAILED is POSTed, signed, to
 * each webhook that asked for that event (`notifications.webhooks`).
 *
 * Delivery never holds up the queue: the `job:finished` listener only puts a
 * delivery on the webhook's own in-memory queue and returns. Each webhook
 * sends at most MAX_IN_FLIGHT at once, each try bounded by its timeout;
 * network errors, timeouts, 408, 429 and 5xx are retried with exponential
 * backoff and jitter up to `maxAttempts` tries; any other answer is final.
 * A receiver that is down for long fills its queue (MAX_QUEUED); past that
 * the oldest waiting delivery is dropped, with a log line, so a dead receiver
 * costs bounded memory. Deliveries still queued when the agent stops are lost
 * (and counted in the log): notifications are best effort, the job history in
 * the API is the record.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import type { Clock } from '../clock.js';
import type { WebhookConfig } from '../config/config.schema.js';
import { SpoolError, coerceError } from '../errors.js';
import type { EventBus } from '../events.js';
import type { Logger } from '../logger.js';
import { backoffDelay } from '../scheduler/backoff.js';
import { signBody, webhookBody, webhookEventOf, type WebhookEventName } from './webhook-payload.js';
import { sendOnce } from './webhook-send.js';

/** Deliveries one webhook keeps (waiting, in backoff or in flight) before it drops the oldest. */
export const MAX_QUEUED = 1000;
/** Tries one webhook has open at once: enough for a burst of finishes, few enough not to flood a receiver. */
const MAX_IN_FLIGHT = 4;
/** While a webhook keeps dropping, one summary line per this long rather than one per delivery. */
const DROP_LOG_EVERY_MS = 60_000;
/** On a graceful stop, how long deliveries still queued (the last jobs of the drain) get to go out. */
const STOP_FLUSH_MS = 3000;

export interface WebhooksDeps {
  webhooks: readonly WebhookConfig[];
  /** `appliance.name`, sent in every body. */
  applianceName: string;
  events: EventBus;
  logger: Logger;
  clock: Clock;
  /** Backoff between tries: base doubles per try up to max, with jitter. @default { baseMs: 2000, maxMs: 60000 } */
  retry?: { baseMs: number; maxMs: number };
  random?: () => number;
}

export interface Webhooks {
  /** Deliveries not yet delivered or given up, per webhook in config order. */
  pending(): number[];
  /**
   * Stops sending. With `flush`, deliveries still queued get up to
   * STOP_FLUSH_MS to go out first; then tries in flight are aborted and what
   * is left is dropped and counted in the log.
   */
  stop(options?: { flush?: boolean }): Promise<void>;
}

interface Delivery {
  id: string;
  event: WebhookEventName;
  jobId: string;
  body: string;
  signature: string;
  tries: number;
  state: 'ready' | 'sending' | 'backoff';
  cancelTimer?: () => void;
}

/**
 * Builds the webhooks and starts listening for finished jobs. Throws a
 * CONFIG_INVALID SpoolError naming the key when a `secretFile` cannot be read
 * or holds too short a secret, so a bad setup stops the agent at start.
 */
export function createWebhooks(deps: WebhooksDeps): Webhooks {
  const retry = deps.retry ?? { baseMs: 2000, maxMs: 60_000 };
  const stopController = new AbortController();
  const inFlight = new Set<Promise<void>>();
  const appliance = { name: deps.applianceName, hostname: os.hostname() };
  let idleWaiters: Array<() => void> = [];
  const settled = () => {
    if (hooks.some((hook) => hook.queue.size > 0)) return;
    for (const resolve of idleWaiters) resolve();
    idleWaiters = [];
  };

  const hooks = deps.webhooks.map((config, index) => {
    const label = `notifications.webhooks[${index}] (${new URL(config.url).origin})`;
    const queue = new Set<Delivery>(); // insertion order: the oldest first
    const drops = { unlogged: 0, loggedAt: -Infinity };
    let sending = 0;
    const secret = readSecret(config, index);

    const remove = (delivery: Delivery) => {
      delivery.cancelTimer?.();
      queue.delete(delivery);
    };

    const dropOldest = () => {
      let oldest: Delivery | undefined;
      for (const d of queue) {
        if (d.state === 'sending') continue;
        oldest = d;
        break;
      }
      if (!oldest) return false;
      remove(oldest);
      drops.unlogged += 1;
      const now = deps.clock.monotonic();
      if (now - drops.loggedAt >= DROP_LOG_EVERY_MS) {
        deps.logger.warn(
          `webhook ${label}: ${MAX_QUEUED} deliveries queued (receiver slow or down); dropped ${drops.unlogged === 1 ? `delivery ${oldest.id} (${oldest.event} for job ${oldest.jobId})` : `${drops.unlogged} deliveries, the oldest first, since the last report`}`,
          { job: oldest.jobId },
        );
        drops.unlogged = 0;
        drops.loggedAt = now;
      }
      return true;
    };

    const pump = () => {
      if (stopController.signal.aborted) return;
      for (const delivery of queue) {
        if (sending >= MAX_IN_FLIGHT) return;
        if (delivery.state !== 'ready') continue;
        delivery.state = 'sending';
        sending += 1;
        const attempt = tryDelivery(delivery).finally(() => {
          inFlight.delete(attempt);
          sending -= 1;
          pump();
        });
        inFlight.add(attempt);
      }
    };

    const tryDelivery = async (delivery: Delivery) => {
      delivery.tries += 1;
      const outcome = await sendOnce({
        url: config.url,
        body: delivery.body,
        timeoutMs: config.timeoutSeconds * 1000,
        stop: stopController.signal,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'spool-agent',
          'x-spool-event': delivery.event,
          'x-spool-delivery': delivery.id,
          'x-spool-attempt': String(delivery.tries),
          'x-spool-signature': delivery.signature,
        },
      }).catch((error): { kind: 'refused'; reason: string } => ({ kind: 'refused', reason: `internal error: ${coerceError(error).message}` }));
      const about = `${delivery.event} for job ${delivery.jobId} (delivery ${delivery.id})`;
      switch (outcome.kind) {
        case 'stopped':
          return;
        case 'delivered':
          queue.delete(delivery);
          settled();
          if (delivery.tries > 1) deps.logger.info(`webhook ${label}: delivered ${about} on try ${delivery.tries}`, { job: delivery.jobId });
          return;
        case 'refused':
          queue.delete(delivery);
          settled();
          deps.logger.warn(`webhook ${label}: receiver refused ${about}: ${outcome.reason}; not retried`, { job: delivery.jobId });
          return;
        case 'retry':
          if (delivery.tries >= config.maxAttempts) {
            queue.delete(delivery);
            settled();
            deps.logger.warn(`webhook ${label}: gave up on ${about} after ${delivery.tries} ${delivery.tries === 1 ? 'try' : 'tries'}: ${outcome.reason}`, { job: delivery.jobId });
            return;
          }
          if (stopController.signal.aborted) return; // the answer came in as the agent stopped: no timer after stop
          {
            const delay = Math.min(retry.maxMs, Math.max(backoffDelay(delivery.tries, retry.baseMs, retry.maxMs, deps.random), outcome.retryAfterMs ?? 0));
            deps.logger.debug(`webhook ${label}: try ${delivery.tries} of ${about} failed: ${outcome.reason}; next in ${Math.round(delay)} ms`, { job: delivery.jobId });
            delivery.state = 'backoff';
            delivery.cancelTimer = deps.clock.setTimeout(() => {
              delivery.cancelTimer = undefined;
              delivery.state = 'ready';
              pump();
            }, delay);
          }
          return;
      }
    };

    return {
      config,
      queue,
      drops,
      label,
      enqueue(event: WebhookEventName, jobId: string, body: string) {
        if (queue.size >= MAX_QUEUED && !dropOldest()) {
          // Every slot is a try in flight (only with a tiny MAX_QUEUED): the new one is what goes.
          deps.logger.warn(`webhook ${label}: queue full; dropped ${event} for job ${jobId}`, { job: jobId });
          return;
        }
        queue.add({ id: randomUUID(), event, jobId, body, signature: signBody(body, secret), tries: 0, state: 'ready' });
        pump();
      },
    };
  });

  const off = deps.events.on('job:finished', ({ job }) => {
    const event = webhookEventOf(job);
    if (event === null) return;
    const wanted = hooks.filter((hook) => hook.config.events.includes(event));
    if (wanted.length === 0) return;
    const body = JSON.stringify(webhookBody(event, job, appliance));
    for (const hook of wanted) hook.enqueue(`job.${event}`, job.id, body);
  });

  return {
    pending: () => hooks.map((hook) => hook.queue.size),
    async stop(options = {}) {
      off();
      if (options.flush && hooks.some((hook) => hook.queue.size > 0)) {
        let cancel = () => {};
        await new Promise<void>((resolve) => {
          idleWaiters.push(resolve);
          cancel = deps.clock.setTimeout(resolve, STOP_FLUSH_MS);
        });
        cancel();
      }
      stopController.abort();
      for (const hook of hooks) {
        const lost = hook.queue.size;
        for (const delivery of hook.queue) delivery.cancelTimer?.();
        hook.queue.clear();
        if (lost > 0 || hook.drops.unlogged > 0) {
          deps.logger.warn(`webhook ${hook.label}: ${lost} deliveries not sent because the agent is stopping${hook.drops.unlogged > 0 ? `; ${hook.drops.unlogged} dropped earlier for room` : ''}`);
        }
      }
      await Promise.all([...inFlight]);
    },
  };
}

/** The signing key of one webhook: inline, or read from its file now so a missing file stops the agent at start. */
function readSecret(config: WebhookConfig, index: number): string {
  if (config.secret !== undefined) return config.secret;
  const key = `notifications.webhooks[${index}].secretFile`;
  let text: string;
  try {
    text = fs.readFileSync(config.secretFile!, 'utf8');
  } catch (error) {
    throw new SpoolError('CONFIG_INVALID', `${key}: cannot read ${config.secretFile}: ${coerceError(error).message}`, { cause: error });
  }
  const secret = text.trim();
  if (secret.length < 16) throw new SpoolError('CONFIG_INVALID', `${key}: ${config.secretFile} holds a secret of ${secret.length} characters, expected at least 16`);
  return secret;
}
