/**
 * One connection to one appliance: a graphql-ws client for subscriptions and
 * fetch for queries and mutations. Each link reconnects on its own and says
 * whether it is online; nothing it does can block another appliance's link.
 *
 * Why not lazy: the console shows online/offline for every appliance, so the
 * socket stays open even between subscriptions. Why a pong deadline: a box
 * that vanishes from the network leaves a socket that neither closes nor
 * answers; without a deadline it would look online for minutes.
 */
import { createClient, type Client } from 'graphql-ws';
import { createSignal, type Accessor } from 'solid-js';
import { graphqlWsUrl, postGraphql, type Endpoint } from './graphql-http';

export type LinkStatus = 'connecting' | 'online' | 'offline' | 'refused';

export interface ApplianceLink {
  readonly endpoint: Endpoint;
  status: Accessor<LinkStatus>;
  /** Why the link is offline or refused, in words; null while online. */
  problem: Accessor<string | null>;
  request<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
  /** Starts a subscription that survives reconnects; returns its stop function. */
  subscribe<T>(query: string, variables: Record<string, unknown> | undefined, onData: (data: T) => void): () => void;
  /** Called after every successful (re)connection: the place to reload what may have changed meanwhile. */
  onConnected(listener: () => void): () => void;
  close(): void;
}

/** Seconds between pings, and how long a pong may take before the socket counts as dead. */
const PING_EVERY_MS = 5_000;
const PONG_DEADLINE_MS = 4_000;
/** Reconnect waits grow to this; an appliance back from a restart is seen within a few seconds. */
const MAX_RETRY_WAIT_MS = 4_000;

const CLOSE_UNAUTHORIZED = 4401;
const CLOSE_FORBIDDEN = 4403;

/** Exponential from 0.5 s, capped, with jitter so a console does not reconnect to a whole fleet in lockstep. */
export function retryDelayMs(retries: number, random = Math.random): number {
  return Math.min(500 * 2 ** retries, MAX_RETRY_WAIT_MS) + Math.floor(random() * 500);
}

function closeProblem(event: { code?: number; reason?: string }, label: string): { status: LinkStatus; problem: string } {
  if (event.code === CLOSE_UNAUTHORIZED) return { status: 'refused', problem: `${label} does not accept this token. Edit the appliance and paste a valid one.` };
  if (event.code === CLOSE_FORBIDDEN) return { status: 'refused', problem: `${label} refused the connection: ${event.reason || 'forbidden'}. Add this console's address to its server.allowedOrigins.` };
  return { status: 'offline', problem: `${label} is not reachable; retrying.` };
}

export function createApplianceLink(endpoint: Endpoint, options: { webSocketImpl?: unknown } = {}): ApplianceLink {
  const [status, setStatus] = createSignal<LinkStatus>('connecting');
  const [problem, setProblem] = createSignal<string | null>(null);
  const connectedListeners = new Set<() => void>();
  let pongTimer: ReturnType<typeof setTimeout> | undefined;
  let socket: WebSocket | null = null;
  let closed = false;

  const client: Client = createClient({
    url: graphqlWsUrl(endpoint.url),
    connectionParams: { authorization: `Bearer ${endpoint.token}` },
    lazy: false,
    keepAlive: PING_EVERY_MS,
    connectionAckWaitTimeout: 10_000,
    retryAttempts: Infinity,
    // Retry whatever happened, except a refused token or origin: those need the operator.
    shouldRetry: (event) => (event as { code?: number })?.code !== CLOSE_FORBIDDEN,
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, retryDelayMs(retries))),
    onNonLazyError: () => undefined, // reported through `closed` below
    ...(options.webSocketImpl ? { webSocketImpl: options.webSocketImpl } : {}),
    on: {
      connected: (s) => {
        socket = s as WebSocket;
        setStatus('online');
        setProblem(null);
        for (const listener of [...connectedListeners]) listener();
      },
      ping: (received) => {
        if (!received) pongTimer = setTimeout(() => socket?.readyState === WebSocket.OPEN && socket.close(4408, 'no pong'), PONG_DEADLINE_MS);
      },
      pong: (received) => {
        if (received) clearTimeout(pongTimer);
      },
      closed: (event) => {
        clearTimeout(pongTimer);
        socket = null;
        if (closed) return;
        const next = closeProblem(event as { code?: number; reason?: string }, endpoint.label);
        setStatus(next.status);
        setProblem(next.problem);
      },
    },
  });

  return {
    endpoint,
    status,
    problem,
    request: (query, variables) => postGraphql(endpoint, query, variables),
    subscribe<T>(query: string, variables: Record<string, unknown> | undefined, onData: (data: T) => void) {
      return client.subscribe<T>(
        { query, variables },
        {
          next: (value) => value.data && onData(value.data as T),
          // A subscription that fails for good (job removed, token refused) just ends; the status shows why.
          error: () => undefined,
          complete: () => undefined,
        },
      );
    },
    onConnected(listener) {
      connectedListeners.add(listener);
      return () => connectedListeners.delete(listener);
    },
    close() {
      closed = true;
      clearTimeout(pongTimer);
      connectedListeners.clear();
      void client.dispose();
    },
  };
}
