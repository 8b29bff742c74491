/**
 * The GraphQL-over-HTTP audits of the `graphql-http` package against the
 * running agent (with a valid token on every request, as any client sends).
 */
import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverConfig, TOKENS } from '../helpers/api.js';
import { startTestAgent, type TestAgent } from '../helpers/test-agent.js';

let t: TestAgent;
beforeAll(async () => {
  t = await startTestAgent({ server: serverConfig(), profiles: { probe: { kind: 'probe' } } });
});
afterAll(() => t?.stop());

describe('graphql-http serverAudits', () => {
  const audits = serverAudits({
    url: () => `${t.agent.api.url()}/graphql`,
    fetchFn: (input: RequestInfo | URL, init?: RequestInit) => {
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${TOKENS.viewer}`);
      return fetch(input, { ...init, headers });
    },
  });
  for (const audit of audits) {
    it(`${audit.id} ${audit.name}`, async () => {
      const result = await audit.fn();
      expect(result.status === 'ok' ? 'ok' : `${result.status}: ${result.reason}`).toBe('ok');
    });
  }
});
