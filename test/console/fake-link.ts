/**
 * A stand-in for one appliance's connection: the test answers requests,
 * pushes subscription events and switches the link online or offline. The
 * console code above it (fleet member, store, components) is the real one.
 */
import { createRoot, createSignal } from 'solid-js';
import type { ApplianceLink, LinkStatus } from '../../console/src/lib/appliance-link';

type Answer = (query: string, variables?: Record<string, unknown>) => unknown;

export interface FakeLink {
  link: ApplianceLink;
  requests: { query: string; variables?: Record<string, unknown> }[];
  /** Marks the link online and runs the on-connected listeners (the member reloads). */
  connect(): void;
  drop(problem?: string): void;
  /** Sends `data` to every open subscription whose document contains `match`. */
  push(match: string, data: unknown): void;
  closed(): boolean;
}

export function createFakeLink(answer: Answer, label = 'edge-01'): FakeLink {
  const [status, setStatus] = createRoot(() => createSignal<LinkStatus>('connecting'));
  const [problem, setProblem] = createRoot(() => createSignal<string | null>(null));
  const subscriptions = new Set<{ query: string; onData: (data: unknown) => void }>();
  const connected = new Set<() => void>();
  const requests: FakeLink['requests'] = [];
  let closed = false;
  const link: ApplianceLink = {
    endpoint: { url: `http://${label}:7420`, token: 'token', label },
    status,
    problem,
    async request<T>(query: string, variables?: Record<string, unknown>) {
      requests.push({ query, variables });
      return (await answer(query, variables)) as T;
    },
    subscribe<T>(query: string, _variables: Record<string, unknown> | undefined, onData: (data: T) => void) {
      const entry = { query, onData: onData as (data: unknown) => void };
      subscriptions.add(entry);
      return () => subscriptions.delete(entry);
    },
    onConnected(listener) {
      connected.add(listener);
      return () => connected.delete(listener);
    },
    close() {
      closed = true;
    },
  };
  return {
    link,
    requests,
    connect() {
      setStatus('online');
      setProblem(null);
      for (const listener of connected) listener();
    },
    drop(text = `${label} is not reachable; retrying.`) {
      setStatus('offline');
      setProblem(text);
    },
    push(match, data) {
      for (const s of subscriptions) if (s.query.includes(match)) s.onData(data);
    },
    closed: () => closed,
  };
}

/** Lets pending promises (requests answered by the fake) settle. */
export const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
