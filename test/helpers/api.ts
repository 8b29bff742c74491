/**
 * Talking to a test agent's API as a client would: real HTTP (fetch) and a
 * real graphql-ws client over a real WebSocket.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { hashToken } from '../../agent/api/auth.js';

/** One token per role, configured by hash like an operator would. */
export const TOKENS = {
  viewer: 'test-viewer-token-0123456789',
  operator: 'test-operator-token-0123456789',
  admin: 'test-admin-token-0123456789',
} as const;

export const serverConfig = (extra: Record<string, unknown> = {}) => ({
  port: 0,
  tokens: Object.entries(TOKENS).map(([role, token]) => ({ name: `test ${role}`, role, sha256: hashToken(token) })),
  ...extra,
});

export interface GqlResult<T = Record<string, unknown>> {
  status: number;
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
}

export async function gql<T = Record<string, any>>(url: string, token: string | null, query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}): Promise<GqlResult<T>> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  let body: { data?: T; errors?: GqlResult['errors'] } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new Error(`HTTP ${response.status}, not JSON: ${text.slice(0, 200)}`);
  }
  return { status: response.status, ...body };
}

/** The data of a query that must succeed; throws with the errors otherwise. */
export async function must<T = Record<string, any>>(url: string, token: string, query: string, variables?: Record<string, unknown>): Promise<T> {
  const result = await gql<T>(url, token, query, variables);
  if (result.errors || !result.data) throw new Error(`GraphQL errors (HTTP ${result.status}): ${JSON.stringify(result.errors)}`);
  return result.data;
}

export function wsUrl(url: string): string {
  return `${url.replace(/^http/, 'ws')}/graphql`;
}

export interface WsClient {
  client: Client;
  /** Resolves with the close code once the socket closes. */
  closed: Promise<{ code: number; reason: string }>;
}

export function wsClient(url: string, token: string | null, options: { origin?: string } = {}): WsClient {
  let onClose: (event: { code: number; reason: string }) => void = () => undefined;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => (onClose = resolve));
  const client = createClient({
    url: wsUrl(url),
    webSocketImpl: class extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols, options.origin ? { headers: { origin: options.origin } } : {});
      }
    },
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: false,
    on: { closed: (event) => onClose({ code: (event as { code: number }).code, reason: String((event as { reason: unknown }).reason) }) },
  });
  return { client, closed };
}

/** Collects a subscription's payloads; `take(n)` resolves once n arrived. */
export function subscribe<T = Record<string, any>>(client: Client, query: string, variables?: Record<string, unknown>) {
  const values: T[] = [];
  const errors: unknown[] = [];
  let waiters: { n: number; resolve: () => void }[] = [];
  let completed = false;
  const stop = client.subscribe<T>(
    { query, variables },
    {
      next: (value) => {
        if (value.errors) errors.push(...value.errors);
        if (value.data) values.push(value.data as T);
        waiters = waiters.filter((w) => (values.length >= w.n ? (w.resolve(), false) : true));
      },
      error: (error) => {
        errors.push(error);
        for (const w of waiters) w.resolve();
      },
      complete: () => {
        completed = true;
        for (const w of waiters) w.resolve();
      },
    },
  );
  return {
    values,
    errors,
    get completed() {
      return completed;
    },
    stop,
    /** Resolves when `n` payloads arrived (or the subscription ended or failed). */
    until(n: number, timeoutMs = 20_000): Promise<T[]> {
      return new Promise((resolve, reject) => {
        if (values.length >= n || errors.length > 0 || completed) return resolve(values);
        const timer = setTimeout(() => reject(new Error(`only ${values.length} of ${n} subscription payloads arrived; errors: ${JSON.stringify(errors)}`)), timeoutMs);
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve(values);
          },
        });
      });
    },
  };
}
