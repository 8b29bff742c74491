/**
 * One try of one webhook delivery, and what it means for the next: delivered,
 * worth retrying (the receiver or the network may recover), or refused for
 * good (the receiver understood and said no; sending the same body again
 * would get the same answer).
 */
import { coerceError } from '../errors.js';

export type TryOutcome =
  | { kind: 'delivered'; status: number }
  | { kind: 'retry'; reason: string; /** From Retry-After, when the receiver sent one. */ retryAfterMs: number | null }
  | { kind: 'refused'; reason: string }
  | { kind: 'stopped' };

export interface TryRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** Aborted when the agent stops. */
  stop: AbortSignal;
}

/** The most of a receiver's error answer that goes into a log line. */
const SNIPPET_CHARS = 200;

export async function sendOnce(request: TryRequest): Promise<TryOutcome> {
  // One deadline for connecting, sending and the whole answer, so a receiver
  // that accepts the connection and then says nothing cannot hold a slot.
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal = AbortSignal.any([request.stop, timeout]);
  try {
    // Redirects are not followed: fetch would turn a 301/302 POST into a GET without the body.
    const response = await fetch(request.url, { method: 'POST', headers: request.headers, body: request.body, redirect: 'manual', signal });
    const status = response.status;
    if (status >= 200 && status < 300) {
      // The answer's body means nothing to us; a receiver still streaming it has already accepted the delivery.
      await response.body?.cancel().catch(() => undefined);
      return { kind: 'delivered', status };
    }
    const snippet = await readSnippet(response);
    const said = `HTTP ${status}${snippet ? `: ${snippet}` : ''}`;
    if (status === 408 || status === 429 || status >= 500) return { kind: 'retry', reason: said, retryAfterMs: retryAfter(response.headers.get('retry-after')) };
    if (status >= 300 && status < 400) return { kind: 'refused', reason: `${said} (redirect to ${response.headers.get('location') ?? 'nowhere'}; redirects are not followed, configure the final URL)` };
    return { kind: 'refused', reason: said };
  } catch (thrown) {
    if (request.stop.aborted) return { kind: 'stopped' };
    if (timeout.aborted) return { kind: 'retry', reason: `no complete answer within ${request.timeoutMs / 1000} s`, retryAfterMs: null };
    return { kind: 'retry', reason: networkReason(thrown), retryAfterMs: null };
  }
}

/** The start of the answer's body, on one line; the rest is discarded unread. */
async function readSnippet(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    while (text.length < SNIPPET_CHARS) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > SNIPPET_CHARS ? `${flat.slice(0, SNIPPET_CHARS)}…` : flat;
}

/** Retry-After in seconds or as an HTTP date; null when absent or unreadable. */
function retryAfter(value: string | null): number | null {
  if (value === null) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}

/** fetch says "fetch failed"; the reason an operator can act on is in its cause (ECONNREFUSED, ENOTFOUND, a TLS error). */
function networkReason(thrown: unknown): string {
  const error = coerceError(thrown);
  const cause = error.cause === undefined ? undefined : coerceError(error.cause);
  const code = (cause as { code?: unknown } | undefined)?.code;
  if (!cause) return error.message;
  return typeof code === 'string' && !cause.message.includes(code) ? `${cause.message} (${code})` : cause.message;
}
