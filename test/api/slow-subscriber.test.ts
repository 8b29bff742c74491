/**
 * A subscriber that stops reading must not stall other subscribers or the
 * queue, and what waits for it is bounded.
 */
import fs from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boundedQueue, latestByKey } from '../../agent/api/channel.js';
import { serverConfig, subscribe, TOKENS, wsClient, wsUrl } from '../helpers/api.js';
import { startTestAgent, type TestAgent } from '../helpers/test-agent.js';

describe('subscription channels', () => {
  it('latestByKey keeps one pending value per key, in first-arrival order, and at most maxKeys keys', async () => {
    const channel = latestByKey<number>(3, () => undefined);
    for (let i = 0; i < 100_000; i++) channel.push(`job${i % 3}`, i);
    expect([(await channel.next()).value, (await channel.next()).value, (await channel.next()).value]).toEqual([99_999, 99_997, 99_998]); // job0, job1, job2: each its latest value
    for (let i = 0; i < 10; i++) channel.push(`other${i}`, i);
    const left: number[] = [];
    for (let i = 0; i < 3; i++) left.push((await channel.next()).value as number);
    expect(left).toEqual([7, 8, 9]); // the three newest keys survive
  });

  it('boundedQueue drops the oldest beyond its bound and says how many it dropped', async () => {
    const channel = boundedQueue<string>(5, (n) => `dropped ${n}`, () => undefined);
    for (let i = 0; i < 1000; i++) channel.push(null, `line ${i}`);
    const out: string[] = [];
    for (let i = 0; i < 6; i++) out.push((await channel.next()).value as string);
    expect(out).toEqual(['dropped 995', 'line 995', 'line 996', 'line 997', 'line 998', 'line 999']);
  });

  it('a closed channel ends pending and later reads', async () => {
    let closed = 0;
    const channel = latestByKey<number>(10, () => closed++);
    const pending = channel.next();
    await channel.return!();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(await channel.next()).toEqual({ done: true, value: undefined });
    expect(closed).toBe(1);
  });
});

describe('a subscriber that stops reading', () => {
  let t: TestAgent;
  beforeAll(async () => {
    t = await startTestAgent({ server: serverConfig(), profiles: { quick: { kind: 'command', command: [process.execPath, '-e', 'console.log("x".repeat(2000))'] } }, resources: { categories: { cpu: { concurrency: 4 } } } });
  });
  afterAll(() => t?.stop());

  it('does not stall another subscriber or the queue', async () => {
    const url = t.agent.api.url();
    // A raw client that subscribes to every job update and its TCP reads then stop.
    const stalled = new WebSocket(wsUrl(url), 'graphql-transport-ws');
    await new Promise((resolve) => stalled.once('open', resolve));
    stalled.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${TOKENS.viewer}` } }));
    await new Promise((resolve) => stalled.once('message', resolve));
    stalled.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { jobUpdated { id status progress log(last: 50) { line } } }' } }));
    (stalled as unknown as { _socket: { pause(): void } })._socket.pause();

    const healthy = wsClient(url, TOKENS.viewer);
    const updates = subscribe(healthy.client, 'subscription { jobUpdated { id status } }');
    await new Promise((resolve) => setTimeout(resolve, 200)); // let both subscriptions register

    const ids: string[] = [];
    for (let i = 0; i < 60; i++) {
      const file = path.join(t.dir, `in-${i}.bin`);
      fs.writeFileSync(file, 'x');
      ids.push((await t.agent.jobs.submit({ profile: 'quick', inputPath: file })).id);
    }
    for (const id of ids) expect((await t.waitForStatus(id, ['COMPLETED', 'FAILED'])).status).toBe('COMPLETED');
    await expect.poll(() => new Set(updates.values.filter((v) => v.jobUpdated.status === 'COMPLETED').map((v) => v.jobUpdated.id)).size, { timeout: 10_000 }).toBe(60);
    stalled.terminate();
    await healthy.client.dispose();
  });
});
