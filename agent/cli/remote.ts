/**
 * The CLI's line to a running agent: GraphQL over HTTP (global fetch) for
 * queries and mutations, graphql-ws over a WebSocket for subscriptions.
 *
 * Every failure leaves here as a `CommandError` whose message an operator
 * can act on and whose exit code a script can switch on; no stack trace,
 * and never the token.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { errnoCode } from '../errors.js';

export const DEFAULT_URL = 'http://127.0.0.1:7420';

/** How long a request, or a WebSocket's handshake, may take before the agent counts as unreachable. */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Exit codes are the CLI's contract with scripts:
 * 0 done, 1 the agent refused or the job failed, 2 the command line is
 * wrong, 3 the agent cannot be reached or does not accept the token.
 */
export type ExitCode = 0 | 1 | 2 | 3;
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const satisfies Record<string, ExitCode>;

/**
 * A command that cannot go on. Not a `SpoolError`: its codes are the
 * agent's, while this one carries what the shell sees (the exit code) and,
 * when the agent refused, the API's `extensions.code`.
 */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  readonly exitCode: Exclude<ExitCode, 0>;
  /** The API's `extensions.code` (NOT_FOUND, INVALID_STATE …) when the agent refused. */
  readonly code: string | undefined;

  constructor(exitCode: Exclude<ExitCode, 0>, message: string, options: { code?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.exitCode = exitCode;
    this.code = options.code;
  }
}

export interface Connection {
  /** The agent's base URL, without a trailing slash or `/graphql`. */
  url: string;
  token: string;
}

/**
 * URL and token from the flags, else `SPOOL_URL` and `SPOOL_TOKEN`. The
 * environment is the better place for the token: flags show in `ps`.
 */
export function resolveConnection(flags: { url?: string; token?: string }, env: NodeJS.ProcessEnv): Connection {
  const raw = flags.url ?? env.SPOOL_URL ?? DEFAULT_URL;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new CommandError(EXIT.usage, `Expected \`--url\` to be the agent's address such as ${DEFAULT_URL}, got ${JSON.stringify(raw)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new CommandError(EXIT.usage, `Expected \`--url\` to start with http:// or https://, got ${JSON.stringify(raw)}`);
  }
  // Accept the GraphQL endpoint itself too: it is what the console and the docs show.
  const url = `${parsed.origin}${parsed.pathname.replace(/\/+$/, '').replace(/\/graphql$/, '')}`;
  const token = flags.token ?? env.SPOOL_TOKEN;
  if (!token) {
    throw new CommandError(EXIT.unreachable, 'no token: pass --token or set SPOOL_TOKEN (an admin makes one with `spool token create`)');
  }
  return { url, token };
}

export interface GraphqlErrorShape {
  message: string;
  extensions?: { code?: string };
}

/**
 * The first error of a GraphQL answer as a CommandError: a wrong token or
 * role is exit 3; a refusal (NOT_FOUND, INVALID_STATE, BAD_USER_INPUT) is
 * exit 1 with the agent's own sentence, which is written for operators.
 */
export function fromGraphqlErrors(errors: readonly GraphqlErrorShape[]): CommandError {
  const first = errors[0] ?? { message: 'the agent answered with an error but said nothing about it' };
  const code = first.extensions?.code;
  if (code === 'UNAUTHENTICATED') return new CommandError(EXIT.unreachable, 'the token is not valid on this appliance (check --token or SPOOL_TOKEN)', { code });
  if (code === 'FORBIDDEN') return new CommandError(EXIT.unreachable, `not allowed: ${first.message}`, { code });
  const extra = errors.length > 1 ? ` (and ${errors.length - 1} more error${errors.length > 2 ? 's' : ''})` : '';
  return new CommandError(EXIT.failed, `${first.message}${extra}`, { code });
}

/** The errno code behind a failed fetch or socket: undici wraps it in `cause`, happy eyeballs in an AggregateError. */
function networkCode(thrown: unknown): string | undefined {
  const seen = new Set<unknown>();
  const stack: unknown[] = [thrown];
  while (stack.length > 0) {
    const item = stack.pop();
    if (item == null || typeof item !== 'object' || seen.has(item)) continue;
    seen.add(item);
    const code = errnoCode(item);
    if (code && !code.startsWith('UND_ERR_') && !code.startsWith('ABORT')) return code;
    const { cause, errors, error } = item as { cause?: unknown; errors?: unknown[]; error?: unknown };
    stack.push(cause, error, ...(Array.isArray(errors) ? errors : []));
  }
  return undefined;
}

/** fetch says only "fetch failed"; the reason ("bad port", a TLS error …) is at the end of its `cause` chain. */
function innermostMessage(thrown: unknown): string {
  let current = thrown;
  for (let depth = 0; depth < 5 && (current as { cause?: unknown } | null)?.cause instanceof Error; depth += 1) current = (current as { cause: unknown }).cause;
  return current instanceof Error ? current.message : String(current);
}

function unreachable(url: string, thrown: unknown): CommandError {
  if ((thrown as { name?: string } | null)?.name === 'TimeoutError') {
    return new CommandError(EXIT.unreachable, `the agent at ${url} did not answer within ${REQUEST_TIMEOUT_MS / 1000} s`, { cause: thrown });
  }
  const code = networkCode(thrown) ?? innermostMessage(thrown);
  return new CommandError(EXIT.unreachable, `cannot reach the agent at ${url}: ${code} — is it running?`, { cause: thrown });
}

export interface LiveSubscription {
  /** Resolves once the agent accepted the WebSocket and the token; rejects with a CommandError otherwise. */
  connected: Promise<void>;
  /** Resolves when the agent ends the stream; rejects with a CommandError when it fails. */
  ended: Promise<void>;
}

export interface Remote {
  readonly url: string;
  /** Runs a query or mutation; resolves with its data or rejects with a CommandError. */
  request<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
  /** Starts a subscription; `onData` gets each payload's data. */
  subscribe<T>(query: string, variables: Record<string, unknown>, onData: (data: T) => void): LiveSubscription;
  /** Closes the WebSocket, if one was opened. */
  close(): Promise<void>;
}

export function createRemote(connection: Connection): Remote {
  const { url, token } = connection;
  const authorization = `Bearer ${token}`;
  let ws: Client | null = null;
  /** Whether the WebSocket is open and acknowledged (a later subscription on it is accepted at once). */
  let open = false;

  return {
    url,
    async request<T>(query: string, variables?: Record<string, unknown>): Promise<T> {
      let text: string;
      let status: number;
      try {
        const response = await fetch(`${url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', authorization },
          body: JSON.stringify({ query, variables }),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        status = response.status;
        text = await response.text();
      } catch (error) {
        throw unreachable(url, error);
      }
      if (status === 401) throw fromGraphqlErrors([{ message: '', extensions: { code: 'UNAUTHENTICATED' } }]);
      let body: { data?: T | null; errors?: GraphqlErrorShape[] };
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        throw new CommandError(EXIT.unreachable, `${url} answered HTTP ${status} with something other than GraphQL — is it a Spool agent? (${JSON.stringify(text.slice(0, 120))})`);
      }
      if (body.errors && body.errors.length > 0) throw fromGraphqlErrors(body.errors);
      if (body.data == null) throw new CommandError(EXIT.failed, `the agent answered HTTP ${status} without data`);
      return body.data;
    },

    subscribe<T>(query: string, variables: Record<string, unknown>, onData: (data: T) => void): LiveSubscription {
      ws ??= createClient({
        url: `${url.replace(/^http/, 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization },
        // A watch that silently reconnects could miss the update it waits for; it ends and says why instead.
        retryAttempts: 0,
        connectionAckWaitTimeout: REQUEST_TIMEOUT_MS,
        on: {
          connected: () => (open = true),
          closed: () => (open = false),
        },
      });
      const client = ws;
      let accepted: () => void = () => undefined;
      let refused: (error: CommandError) => void = () => undefined;
      const connected = new Promise<void>((resolve, reject) => {
        accepted = resolve;
        refused = reject;
      });
      const offConnected = client.on('connected', () => accepted());
      if (open) accepted();
      const ended = new Promise<void>((resolve, reject) => {
        client.subscribe<T>(
          { query, variables },
          {
            next: (value) => {
              if (value.errors && value.errors.length > 0) reject(fromGraphqlErrors(value.errors));
              else if (value.data) onData(value.data as T);
            },
            error: (error) => {
              const failure = socketFailure(url, error);
              refused(failure);
              reject(failure);
            },
            complete: () => resolve(),
          },
        );
      }).finally(offConnected);
      // Either may go unawaited (the caller waits on one at a time); the failure still reaches the other.
      connected.catch(() => undefined);
      ended.catch(() => undefined);
      return { connected, ended };
    },

    async close() {
      await ws?.dispose();
      ws = null;
    },
  };
}

/** What graphql-ws hands a sink's `error`: GraphQL errors, a close event, or the socket's error event. */
function socketFailure(url: string, error: unknown): CommandError {
  if (Array.isArray(error)) return fromGraphqlErrors(error as GraphqlErrorShape[]);
  const close = error as { code?: unknown; reason?: unknown } | null;
  if (close && typeof close.code === 'number') {
    const reason = typeof close.reason === 'string' && close.reason ? close.reason : 'no reason given';
    if (close.code === 4401) return fromGraphqlErrors([{ message: reason, extensions: { code: 'UNAUTHENTICATED' } }]);
    if (close.code === 4403) return new CommandError(EXIT.unreachable, `not allowed: ${reason}`, { code: 'FORBIDDEN' });
    if (close.code === 1006) return unreachable(url, error);
    return new CommandError(EXIT.unreachable, `the agent at ${url} closed the connection (${close.code}: ${reason})`);
  }
  return unreachable(url, error);
}
