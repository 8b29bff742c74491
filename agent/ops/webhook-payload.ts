/**
 * What a webhook receiver gets: the JSON body and the headers that let it
 * check where the body came from and drop a delivery it has already seen.
 *
 *   X-Spool-Event:     job.completed | job.failed
 *   X-Spool-Delivery:  one id per delivery, the same on every retry of it
 *   X-Spool-Attempt:   1 for the first try, 2 for the first retry, …
 *   X-Spool-Signature: sha256=<hex HMAC-SHA256 of the raw body bytes, keyed with the secret>
 *
 * A receiver verifies by computing the HMAC over the body exactly as it
 * arrived (before any JSON parsing) and comparing in constant time.
 */
import { createHmac } from 'node:crypto';
import type { WebhookEvent } from '../config/config.schema.js';
import type { Job, JobStatus } from '../jobs/job.js';

export type WebhookEventName = `job.${WebhookEvent}`;

export interface WebhookBody {
  event: WebhookEventName;
  appliance: { name: string; hostname: string };
  job: {
    id: string;
    profile: string;
    kind: string;
    status: JobStatus;
    /** The absolute path the file had when it was dropped. */
    inputPath: string;
    outputs: { path: string; sizeBytes: number }[];
    /** Why it failed, in words; null when it completed. */
    error: string | null;
    errorKind: string | null;
    attempts: number;
    /** ISO 8601 in UTC, as in the GraphQL API. */
    createdAt: string;
    startedAt: string | null;
    finishedAt: string | null;
  };
}

/** The event a finished job is, or null for a final state no webhook is told about (CANCELLED). */
export function webhookEventOf(job: Job): WebhookEvent | null {
  if (job.status === 'COMPLETED') return 'completed';
  if (job.status === 'FAILED') return 'failed';
  return null;
}

export function webhookBody(event: WebhookEvent, job: Job, appliance: WebhookBody['appliance']): WebhookBody {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    event: `job.${event}`,
    appliance,
    job: {
      id: job.id,
      profile: job.profile,
      kind: job.kind,
      status: job.status,
      inputPath: job.inputPath,
      outputs: job.outputs.map((o) => ({ path: o.path, sizeBytes: o.sizeBytes })),
      error: job.error,
      errorKind: job.errorKind,
      attempts: job.attempts,
      createdAt: new Date(job.createdAt).toISOString(),
      startedAt: iso(job.startedAt),
      finishedAt: iso(job.finishedAt),
    },
  };
}

/** The X-Spool-Signature value for `rawBody`. */
export function signBody(rawBody: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody, 'utf8').digest('hex')}`;
}
