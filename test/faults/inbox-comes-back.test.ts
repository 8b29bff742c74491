/**
 * An inbox that disappears (an unmounted share) is an error in the log and
 * on /readyz; when the folder is back the watcher re-attaches by itself and
 * files dropped afterwards are taken.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { serverConfig } from '../helpers/api.js';
import { startTestAgent, type TestAgent } from '../helpers/test-agent.js';

let t: TestAgent;
beforeAll(async () => {
  t = await startTestAgent({ server: serverConfig(), intake: { rescanSeconds: 1 }, profiles: { quick: { kind: 'command', command: ['true'] } } });
});
afterAll(() => t?.stop());

async function readyz() {
  const response = await fetch(`${t.agent.api.url()}/readyz`);
  return { status: response.status, body: (await response.json()) as { checks: Record<string, { ok: boolean; detail: string }> } };
}

it('an inbox removed and re-created while the agent runs: an error on /readyz meanwhile, files dropped after it returns are taken', async () => {
  const inbox = t.inbox('quick');
  expect((await readyz()).status).toBe(200);

  const error = t.next('intake:error', (e) => e.inbox === inbox);
  fs.rmSync(inbox, { recursive: true });
  expect((await error).message).toMatch(/gone|removed|does not exist/);
  const down = await readyz();
  expect(down.status).toBe(503);
  expect(down.body.checks[`inbox ${inbox}`]).toMatchObject({ ok: false });

  const back = t.next('intake:ok', (e) => e.inbox === inbox);
  fs.mkdirSync(inbox);
  await back;
  fs.writeFileSync(path.join(inbox, 'after.bin'), 'x');
  const id = await t.waitForClaim('after.bin');
  expect((await t.waitForStatus(id, ['COMPLETED', 'FAILED'])).status).toBe('COMPLETED');
  expect((await readyz()).status).toBe(200);
});
