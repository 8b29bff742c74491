/** A token added to the config works after a reload (SIGHUP), without a restart; a removed one stops working. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hashToken } from '../../agent/api/auth.js';
import { gql, serverConfig, TOKENS } from '../helpers/api.js';
import { startTestAgent, type TestAgent } from '../helpers/test-agent.js';

let t: TestAgent;
beforeAll(async () => {
  t = await startTestAgent({ server: serverConfig(), profiles: { probe: { kind: 'probe' } } });
});
afterAll(() => t?.stop());

it('reload takes server.tokens and allowedOrigins; the listening address needs a restart', async () => {
  const url = t.agent.api.url();
  const fresh = 'a-token-made-later-0123456789';
  expect((await gql(url, fresh, '{ queueStats { pending } }')).status).toBe(401);
  const current = t.agent.config;
  const plan = await t.agent.reload({
    ...current,
    server: { ...current.server, port: 9999, allowedOrigins: ['https://new.example'], tokens: [{ name: 'later', role: 'viewer', sha256: hashToken(fresh) }] },
  });
  expect(plan.restartNeeded).toEqual(['server']);
  expect((await gql(url, fresh, '{ queueStats { pending } }')).status).toBe(200);
  expect((await gql(url, TOKENS.admin, '{ queueStats { pending } }')).status).toBe(401);
  expect((await gql(url, fresh, '{ appliance { name } }', undefined, { origin: 'https://new.example' })).status).toBe(200);
  expect(t.agent.api.url()).toBe(url);
});
