/**
 * Queries and mutations over HTTP (POST /graphql). Every request has a
 * deadline, so an appliance that stops answering fails its own requests and
 * never holds up the rest of the console.
 */
import { ApiError, errorFromBody, networkError } from './errors';

export const REQUEST_TIMEOUT_MS = 10_000;

export interface Endpoint {
  /** Base URL of the appliance, e.g. http://edge-01:7420 */
  url: string;
  token: string;
  /** How errors name the appliance ("edge-01"). */
  label: string;
}

export async function postGraphql<T>(endpoint: Endpoint, query: string, variables?: Record<string, unknown>, timeoutMs = REQUEST_TIMEOUT_MS): Promise<T> {
  let response: Response;
  try {
    response = await fetch(new URL('graphql', withSlash(endpoint.url)), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', authorization: `Bearer ${endpoint.token}` },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (thrown) {
    throw networkError(endpoint.label, thrown, timeoutMs);
  }
  const body = (await response.json().catch(() => null)) as { data?: T; errors?: unknown[] } | null;
  if (!response.ok || body?.errors?.length || !body?.data) throw errorFromBody(endpoint.label, response.status, body);
  return body.data;
}

/** `http://host:7420` and `http://host:7420/` alike, so relative URLs resolve under it. */
export function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

/** The WebSocket URL of an appliance's GraphQL endpoint. */
export function graphqlWsUrl(url: string): string {
  const base = new URL('graphql', withSlash(url));
  base.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
  return base.toString();
}

/** Normalises what an operator typed as an appliance URL; throws with a sentence when it is not one. */
export function normaliseApplianceUrl(typed: string): string {
  const text = typed.trim();
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(text) ? text : `http://${text}`);
  } catch {
    throw new ApiError(`"${typed}" is not a URL; write it like http://edge-01:7420`, 'BAD_USER_INPUT');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ApiError(`An appliance URL starts with http:// or https://, got ${url.protocol}`, 'BAD_USER_INPUT');
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}
