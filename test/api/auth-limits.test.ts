/**
 * The auth matrix over HTTP and WebSocket, origins, and the limits: each
 * abusive request is refused with the right code and the agent keeps
 * answering.
 */
import { getIntrospectionQuery } from 'graphql';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gql, must, serverConfig, subscribe, TOKENS, wsClient, wsUrl } from '../helpers/api.js';
import { startTestAgent, type TestAgent } from '../helpers/test-agent.js';

const ALLOWED_ORIGIN = 'https://console.example.com';

let t: TestAgent;
let url: string;
beforeAll(async () => {
  t = await startTestAgent({ server: serverConfig({ allowedOrigins: [ALLOWED_ORIGIN], maxRequestKb: 16, maxPageSize: 100 }), profiles: { probe: { kind: 'probe' } } });
  url = t.agent.api.url();
});
afterAll(() => t?.stop());

/** After every abuse the agent must still be alive and answering. */
afterEach(async () => {
  expect((await fetch(`${url}/healthz`)).status).toBe(200);
  expect((await must(url, TOKENS.viewer, '{ queueStats { pending } }')).queueStats.pending).toBeGreaterThanOrEqual(0);
});

const MUTATION = 'mutation { pauseQueue { queuePaused } }';

describe('HTTP auth matrix', () => {
  it('no token: 401 UNAUTHENTICATED with a WWW-Authenticate header', async () => {
    const response = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ queueStats { pending } }' }) });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/Bearer/);
    const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
    expect(body.errors[0]!.message).toMatch(/Bearer/);
  });

  it('a wrong token, and a token in the wrong scheme: 401', async () => {
    expect((await gql(url, 'not-a-token', '{ queueStats { pending } }')).status).toBe(401);
    const basic = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Basic ${TOKENS.admin}` }, body: '{"query":"{ queueStats { pending } }"}' });
    expect(basic.status).toBe(401);
  });

  it('viewer reads but may not mutate (FORBIDDEN); operator and admin may', async () => {
    expect((await gql(url, TOKENS.viewer, '{ appliance { name } }')).data).toBeTruthy();
    const refused = await gql(url, TOKENS.viewer, MUTATION);
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(refused.errors?.[0]?.message).toMatch(/viewer role/);
    expect(await t.agent.jobs.isQueuePaused()).toBe(false);
    expect((await must(url, TOKENS.operator, MUTATION)).pauseQueue.queuePaused).toBe(true);
    expect((await must(url, TOKENS.admin, 'mutation { resumeQueue { queuePaused } }')).resumeQueue.queuePaused).toBe(false);
  });

  it('a foreign browser origin is refused with 403; the configured one and the agent\u2019s own get CORS headers', async () => {
    const foreign = await gql(url, TOKENS.admin, '{ appliance { name } }', undefined, { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(foreign.errors?.[0]?.message).toMatch(/allowedOrigins/);
    const preflight = await fetch(`${url}/graphql`, { method: 'OPTIONS', headers: { origin: ALLOWED_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    const own = await gql(url, TOKENS.viewer, '{ appliance { name } }', undefined, { origin: url });
    expect(own.status).toBe(200);
  });

  it('health and readiness need no token', async () => {
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { checks: Record<string, unknown> }).checks).toHaveProperty('database');
  });
});

describe('WebSocket auth matrix', () => {
  it('no token and a bad token: closed with 4401', async () => {
    for (const token of [null, 'bad-token']) {
      const { client, closed } = wsClient(url, token);
      const sub = subscribe(client, 'subscription { applianceUpdated { name } }');
      expect((await closed).code).toBe(4401);
      expect(sub.values).toEqual([]);
      await client.dispose();
    }
  });

  it('a foreign origin: closed with 4403; the configured origin is let in', async () => {
    const foreign = wsClient(url, TOKENS.admin, { origin: 'https://evil.example' });
    subscribe(foreign.client, 'subscription { applianceUpdated { name } }');
    expect((await foreign.closed).code).toBe(4403);
    await foreign.client.dispose();
    const allowed = wsClient(url, TOKENS.viewer, { origin: ALLOWED_ORIGIN });
    const sub = subscribe(allowed.client, 'subscription { applianceUpdated { name } }');
    await sub.until(1);
    await allowed.client.dispose();
  });

  it('viewer subscribes; a viewer mutation over WebSocket closes with 4403; operator mutates', async () => {
    const viewer = wsClient(url, TOKENS.viewer);
    const sub = subscribe(viewer.client, 'subscription { applianceUpdated { queuePaused } }');
    await sub.until(1);
    subscribe(viewer.client, MUTATION);
    expect((await viewer.closed).code).toBe(4403);
    expect(await t.agent.jobs.isQueuePaused()).toBe(false);
    await viewer.client.dispose();

    const operator = wsClient(url, TOKENS.operator);
    const paused = subscribe(operator.client, MUTATION);
    await paused.until(1);
    expect(paused.values[0]).toEqual({ pauseQueue: { queuePaused: true } });
    await must(url, TOKENS.operator, 'mutation { resumeQueue { queuePaused } }');
    await operator.client.dispose();
  });

  it('a message over the size limit closes the socket (1009) without harming the agent', async () => {
    const socket = new WebSocket(wsUrl(url), 'graphql-transport-ws');
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${TOKENS.viewer}`, junk: 'x'.repeat(64 * 1024) } }));
    const code = await new Promise<number>((resolve) => socket.once('close', (c) => resolve(c)));
    expect(code).toBe(1009);
  });
});

describe('limits', () => {
  it('a page over server.maxPageSize: BAD_USER_INPUT', async () => {
    const result = await gql(url, TOKENS.viewer, '{ jobs(first: 101) { totalCount } }');
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0]?.message).toMatch(/maxPageSize/);
    // A huge log page inside a job page is refused by its cost before anything runs.
    const log = await gql(url, TOKENS.viewer, '{ jobs(first: 100) { edges { node { log(last: 100000) { line } } } } }');
    expect(log.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(log.errors?.[0]?.message).toMatch(/cost/i);
  });

  it('a deep query: refused before it runs', async () => {
    const deep = `{ jobs(first: 1) { edges { node { ${'dependsOn { '.repeat(14)}id${' }'.repeat(14)} } } } }`;
    const result = await gql(url, TOKENS.viewer, deep);
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0]?.message).toMatch(/depth/i);
  });

  it('a depth bomb hidden in a fragment named __schema is still counted', async () => {
    const query = `{ jobs(first: 1) { edges { node { ...__schema } } } }
      fragment __schema on Job { ${'dependsOn { '.repeat(14)}id${' }'.repeat(14)} }`;
    const result = await gql(url, TOKENS.viewer, query);
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('a token bomb: refused while parsing', async () => {
    const result = await gql(url, TOKENS.viewer, `{ ${'appliance { name } '.repeat(600)} }`);
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0]?.message).toMatch(/token/i);
  });

  it('an alias bomb: refused', async () => {
    const aliases = Array.from({ length: 50 }, (_, i) => `a${i}: queueStats { pending }`).join(' ');
    const result = await gql(url, TOKENS.viewer, `{ ${aliases} }`);
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0]?.message).toMatch(/alias/i);
  });

  it('a huge body: 413 before parsing', async () => {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.viewer}` },
      body: JSON.stringify({ query: `{ appliance { name } } # ${'x'.repeat(200 * 1024)}` }),
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('BAD_USER_INPUT');
  });

  it('malformed requests: not JSON, no query, a syntax error, an unknown field (no suggestion leaked)', async () => {
    const raw = (body: string) =>
      fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${TOKENS.viewer}` }, body });
    expect((await raw('{not json')).status).toBe(400);
    expect((await raw('{}')).status).toBe(400);
    const syntax = await gql(url, TOKENS.viewer, '{ appliance { ');
    expect(syntax.errors?.[0]?.message).toMatch(/Syntax Error/);
    const unknown = await gql(url, TOKENS.viewer, '{ appliance { nam } }');
    expect(unknown.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(unknown.errors?.[0]?.message).not.toMatch(/Did you mean/);
  });

  it('the standard introspection query fits the limits (tools such as codegen work)', async () => {
    const result = await gql(url, TOKENS.viewer, getIntrospectionQuery());
    expect(result.errors ?? []).toEqual([]);
    expect(JSON.stringify(result.data)).toContain('JobConnection');
  });
});
