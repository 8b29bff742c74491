/**
 * Webhooks against a real node:http receiver: what a receiver gets from a
 * real agent (body, signature, headers), that a slow receiver never holds up
 * the queue, how retries go (driven through the real event bus with short
 * backoff), and how a bad `notifications` config reads.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../agent/clock.js';
import type { WebhookConfig } from '../../agent/config/config.schema.js';
import { parseConfig } from '../../agent/config/load-config.js';
import { createEventBus } from '../../agent/events.js';
import type { Job } from '../../agent/jobs/job.js';
import { createLogger, type LogLevel } from '../../agent/logger.js';
import { createWebhooks, MAX_QUEUED, type Webhooks } from '../../agent/ops/webhooks.js';
import { makeClip } from '../helpers/media.js';
import { startTestAgent, type TestAgent } from '../helpers/test-agent.js';

const SECRET = 'a-test-secret-of-some-length-0123';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

/** How the receiver answers its nth request (0-based): a status, or never. */
type Answer = number | 'hang' | { status: number; headers?: Record<string, string>; body?: string };

interface Receiver {
  url: string;
  requests: Received[];
  /** Resolves once `count` requests have arrived. */
  waitFor(count: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

const receivers: Receiver[] = [];
async function startReceiver(answer: (n: number, body: string) => Answer = () => 200): Promise<Receiver> {
  const requests: Received[] = [];
  let waiters: Array<() => void> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const reply = answer(requests.length, body);
      requests.push({ headers: req.headers, body, at: Date.now() });
      for (const wake of waiters) wake();
      if (reply === 'hang') return;
      const { status, headers = {}, body: text = 'ok' } = typeof reply === 'number' ? { status: reply } : reply;
      res.writeHead(status, headers).end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const receiver: Receiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    requests,
    waitFor: (count, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`receiver got ${requests.length} of ${count} requests in time`)), timeoutMs);
        const check = () => {
          if (requests.length < count) return;
          clearTimeout(timer);
          waiters = waiters.filter((w) => w !== check);
          resolve(requests.slice());
        };
        waiters.push(check);
        check();
      }),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  receivers.push(receiver);
  return receiver;
}

/** A port nothing listens on: bound, then released. */
async function deadPortUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}/hook`;
}

function capturingLogger() {
  const lines: { level: LogLevel; line: string }[] = [];
  let waiters: Array<() => void> = [];
  const logger = createLogger({
    level: 'debug',
    write: (level, line) => {
      lines.push({ level, line });
      for (const wake of waiters) wake();
    },
  });
  const waitForLine = (pattern: RegExp, timeoutMs = 20_000) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no log line matching ${pattern}; got:\n${lines.map((l) => l.line).join('\n')}`)), timeoutMs);
      const check = () => {
        const found = lines.find((l) => pattern.test(l.line));
        if (!found) return;
        clearTimeout(timer);
        waiters = waiters.filter((w) => w !== check);
        resolve(found.line);
      };
      waiters.push(check);
      check();
    });
  return { logger, lines, waitForLine };
}

function verifySignature(received: Received, secret: string): boolean {
  const header = String(received.headers['x-spool-signature'] ?? '');
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(received.body).digest('hex')}`);
  return header.length === expected.length && timingSafeEqual(Buffer.from(header), expected);
}

let agent: TestAgent | undefined;
let hooks: Webhooks | undefined;
const tempDirs: string[] = [];
afterEach(async () => {
  await hooks?.stop();
  await agent?.stop();
  for (const r of receivers.splice(0)) await r.close();
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  agent = undefined;
  hooks = undefined;
});

describe('webhooks from a real agent', () => {
  it('a completed and a failed job are POSTed as signed JSON; each webhook gets only its events', async () => {
    const all = await startReceiver();
    const failures = await startReceiver();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-webhook-'));
    tempDirs.push(dir);
    fs.writeFileSync(path.join(dir, 'hook.secret'), `${SECRET}-file\n`);
    agent = await startTestAgent(
      {
        appliance: { name: 'edge-test' },
        notifications: {
          webhooks: [
            { url: all.url, secret: SECRET },
            { url: failures.url, events: ['failed'], secretFile: 'hook.secret' }, // relative to the config's folder
          ],
        },
        profiles: {
          web: { kind: 'transcode', encoder: 'cpu', video: { codec: 'h264', preset: 'ultrafast', crf: 30 }, audio: { codec: 'aac', bitrateKbps: 64 } },
          broken: { kind: 'command', maxAttempts: 1, command: [process.execPath, '-e', 'console.error("tagger crashed"); process.exit(3)'] },
        },
      },
      { dir },
    );
    const t = agent;

    // Cancelled jobs are not sent: cancel one before the others run.
    await t.agent.jobs.pauseQueue();
    const idle = path.join(dir, 'idle.bin');
    fs.writeFileSync(idle, 'i');
    await t.agent.jobs.cancel((await t.agent.jobs.submit({ profile: 'broken', inputPath: idle })).id);
    await t.agent.jobs.resumeQueue();

    const clip = path.join(dir, 'src.mp4');
    await makeClip(clip, { seconds: 1 });
    const dropped = path.join(t.inbox('web'), 'holiday clip.mp4');
    fs.renameSync(clip, dropped);
    const completed = await t.waitForStatus(await t.waitForClaim('holiday clip.mp4'), ['COMPLETED', 'FAILED']);
    expect(completed.status, completed.error ?? '').toBe('COMPLETED');
    const [first] = await all.waitFor(1);
    const brokenInput = path.join(dir, 'input.bin');
    fs.writeFileSync(brokenInput, 'x');
    const failed = await t.waitForStatus((await t.agent.jobs.submit({ profile: 'broken', inputPath: brokenInput })).id, ['COMPLETED', 'FAILED']);
    expect(failed.status).toBe('FAILED');
    const [, second] = await all.waitFor(2);
    const [onlyFailure] = await failures.waitFor(1);

    for (const received of [first!, second!]) {
      expect(verifySignature(received, SECRET)).toBe(true);
      expect(verifySignature(received, 'another-secret-entirely')).toBe(false);
      expect(received.headers['content-type']).toBe('application/json');
      expect(received.headers['x-spool-delivery']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    }
    expect(first!.headers['x-spool-event']).toBe('job.completed');
    expect(second!.headers['x-spool-event']).toBe('job.failed');

    const iso = (ms: number | null) => new Date(ms!).toISOString();
    expect(JSON.parse(first!.body)).toEqual({
      event: 'job.completed',
      appliance: { name: 'edge-test', hostname: os.hostname() },
      job: {
        id: completed.id,
        profile: 'web',
        kind: 'transcode',
        status: 'COMPLETED',
        inputPath: dropped,
        outputs: [{ path: path.join(t.outbox('web'), 'holiday clip.mp4'), sizeBytes: fs.statSync(path.join(t.outbox('web'), 'holiday clip.mp4')).size }],
        error: null,
        errorKind: null,
        attempts: 1,
        createdAt: iso(completed.createdAt),
        startedAt: iso(completed.startedAt),
        finishedAt: iso(completed.finishedAt),
      },
    });
    const failure = JSON.parse(second!.body) as { job: Record<string, unknown> };
    expect(failure.job).toMatchObject({ id: failed.id, status: 'FAILED', profile: 'broken', inputPath: brokenInput, outputs: [], error: failed.error, errorKind: failed.errorKind });
    expect(failed.error).toBeTruthy();
    expect(failure.job['finishedAt']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    // The failures-only webhook got the same body, signed with the secret from its file.
    expect(onlyFailure!.body).toBe(second!.body);
    expect(verifySignature(onlyFailure!, `${SECRET}-file`)).toBe(true);
    expect(onlyFailure!.headers['x-spool-delivery']).not.toBe(second!.headers['x-spool-delivery']);
    expect(all.requests).toHaveLength(2);
    expect(failures.requests).toHaveLength(1);
  });

  it('a receiver that never answers does not hold up the queue, nor the stop', async () => {
    const hung = await startReceiver(() => 'hang');
    const log = capturingLogger();
    agent = await startTestAgent(
      {
        notifications: { webhooks: [{ url: hung.url, secret: SECRET, timeoutSeconds: 60, maxAttempts: 3 }] },
        resources: { categories: { cpu: { concurrency: 1 } } },
        profiles: { quick: { kind: 'command', command: [process.execPath, '-e', ''] } },
      },
      { logger: log.logger },
    );
    const t = agent;
    const started = Date.now();
    for (let i = 0; i < 6; i++) {
      const input = path.join(t.dir, `in-${i}.bin`);
      fs.writeFileSync(input, String(i));
      const done = await t.waitForStatus((await t.agent.jobs.submit({ profile: 'quick', inputPath: input })).id, ['COMPLETED', 'FAILED']);
      expect(done.status).toBe('COMPLETED');
    }
    // Six jobs in far less than one webhook timeout, while the receiver holds every delivery it took.
    expect(Date.now() - started).toBeLessThan(30_000);
    await hung.waitFor(4); // at most four tries open at once per webhook
    expect(t.agent.webhooks.pending()).toEqual([6]);

    const stopping = Date.now();
    await t.agent.stop();
    agent = undefined;
    expect(Date.now() - stopping).toBeLessThan(5000);
    expect(log.lines.map((l) => l.line)).toContainEqual(expect.stringMatching(/webhook notifications\.webhooks\[0\] \(http:\/\/127\.0\.0\.1:\d+\): 6 deliveries not sent because the agent is stopping/));
  });
});

describe('webhook delivery and retries', () => {
  const retry = { baseMs: 20, maxMs: 200 };

  function finished(id: string, status: Job['status'] = 'COMPLETED'): Job {
    const now = Date.now();
    return {
      id, status, profile: 'web', kind: 'transcode', category: 'cpu', priority: 5, inputPath: `/in/${id}.mp4`, sourcePath: `/in/done/${id}.mp4`,
      inboxPath: '/in', outbox: '/out', sizeBytes: 10, mtimeMs: now, contentHash: null, attempts: 1, maxAttempts: 3, runAfter: null,
      waitingReason: null, pausedFrom: null, progress: 100, fps: null, speed: null, etaSeconds: 0, gpuIndex: null, encoder: 'cpu',
      errorKind: status === 'FAILED' ? 'bad_input' : null, error: status === 'FAILED' ? 'not a media file' : null, result: null,
      parentId: null, dependsOn: [], outputs: status === 'COMPLETED' ? [{ path: `/out/${id}.mp4`, sizeBytes: 5 }] : [],
      createdAt: now - 3000, startedAt: now - 2000, finishedAt: now, updatedAt: now,
    };
  }

  function setUp(webhook: Partial<WebhookConfig> & { url: string }) {
    const events = createEventBus();
    const log = capturingLogger();
    hooks = createWebhooks({
      webhooks: [{ events: ['completed', 'failed'], secret: SECRET, timeoutSeconds: 5, maxAttempts: 5, ...webhook }],
      applianceName: 'edge-test',
      events,
      logger: log.logger,
      clock: systemClock,
      retry,
    });
    return { events, log, hooks };
  }

  it('500, 500, then 200: three deliveries of the same signed body, under one delivery id', async () => {
    const receiver = await startReceiver((n) => (n < 2 ? 500 : 200));
    const { events, log, hooks } = setUp({ url: receiver.url });
    events.emit('job:finished', { job: finished('J1') });
    const got = await receiver.waitFor(3);
    await log.waitForLine(/delivered job\.completed for job J1 \(delivery [0-9a-f-]+\) on try 3/);
    expect(got.map((r) => r.headers['x-spool-attempt'])).toEqual(['1', '2', '3']);
    expect(new Set(got.map((r) => r.headers['x-spool-delivery'])).size).toBe(1);
    expect(new Set(got.map((r) => r.body)).size).toBe(1);
    expect(got.every((r) => verifySignature(r, SECRET))).toBe(true);
    // Backoff between tries: at least half a step (10 ms, then 20 ms).
    expect(got[1]!.at - got[0]!.at).toBeGreaterThanOrEqual(10);
    expect(got[2]!.at - got[1]!.at).toBeGreaterThanOrEqual(20);
    expect(hooks.pending()).toEqual([0]);
    expect(receiver.requests).toHaveLength(3);
  });

  it.each([
    { answers: [503, 200] as Answer[], tries: 2, what: '503 is retried' },
    { answers: [408, 200] as Answer[], tries: 2, what: '408 is retried' },
    { answers: [{ status: 429, headers: { 'retry-after': '0' } }, 200] as Answer[], tries: 2, what: '429 is retried' },
  ])('$what', async ({ answers, tries }) => {
    const receiver = await startReceiver((n) => answers[n] ?? 200);
    const { events, log } = setUp({ url: receiver.url });
    events.emit('job:finished', { job: finished('J2') });
    await log.waitForLine(new RegExp(`on try ${tries}`));
    expect(receiver.requests).toHaveLength(tries);
  });

  it.each([
    { answer: { status: 400, body: 'unknown field "job"' }, line: /receiver refused job\.completed for job J3 .*: HTTP 400: unknown field "job"; not retried/ },
    { answer: { status: 401, body: 'bad signature' }, line: /HTTP 401: bad signature; not retried/ },
    { answer: { status: 302, headers: { location: 'https://elsewhere.example/hook' } }, line: /HTTP 302.*redirect to https:\/\/elsewhere\.example\/hook; redirects are not followed/ },
  ])('a final answer ($answer.status) is not retried, and the log says what the receiver said', async ({ answer, line }) => {
    const receiver = await startReceiver(() => answer);
    const { events, log, hooks } = setUp({ url: receiver.url });
    events.emit('job:finished', { job: finished('J3') });
    await log.waitForLine(line);
    expect(receiver.requests).toHaveLength(1);
    expect(hooks.pending()).toEqual([0]);
  });

  it('a dead port: logged, then given up after maxAttempts tries', async () => {
    const { events, log, hooks } = setUp({ url: await deadPortUrl(), maxAttempts: 3 });
    events.emit('job:finished', { job: finished('J4', 'FAILED') });
    const line = await log.waitForLine(/gave up/);
    expect(line).toMatch(/^<4>webhook notifications\.webhooks\[0\] \(http:\/\/127\.0\.0\.1:\d+\): gave up on job\.failed for job J4 \(delivery [0-9a-f-]+\) after 3 tries: .*ECONNREFUSED/);
    expect(log.lines.filter((l) => /try \d of job\.failed for job J4 .* failed/.test(l.line))).toHaveLength(2);
    expect(hooks.pending()).toEqual([0]);
  });

  it('a try that gets no answer times out and counts as a failed try', async () => {
    const receiver = await startReceiver(() => 'hang');
    const { events, log } = setUp({ url: receiver.url, timeoutSeconds: 0.2, maxAttempts: 2 });
    events.emit('job:finished', { job: finished('J5') });
    const line = await log.waitForLine(/gave up/);
    expect(line).toMatch(/after 2 tries: no complete answer within 0\.2 s/);
    expect(receiver.requests).toHaveLength(2);
  });

  it('cancelled jobs and events a webhook did not ask for are not sent', async () => {
    const receiver = await startReceiver();
    const { events } = setUp({ url: receiver.url, events: ['failed'] });
    events.emit('job:finished', { job: finished('C1', 'CANCELLED') });
    events.emit('job:finished', { job: finished('C2', 'COMPLETED') });
    events.emit('job:finished', { job: finished('F1', 'FAILED') });
    const [only] = await receiver.waitFor(1);
    expect(JSON.parse(only!.body)).toMatchObject({ event: 'job.failed', job: { id: 'F1' } });
    // The one wanted delivery was queued last, so anything unwanted would have been sent before it.
    expect(receiver.requests).toHaveLength(1);
  });

  it('a receiver down for long costs bounded memory: past the limit the oldest are dropped, with one log line', async () => {
    const receiver = await startReceiver(() => 'hang');
    const { events, log, hooks } = setUp({ url: receiver.url, timeoutSeconds: 60 });
    for (let i = 0; i < MAX_QUEUED + 25; i++) events.emit('job:finished', { job: finished(`D${i}`) });
    expect(hooks.pending()).toEqual([MAX_QUEUED]);
    const drops = log.lines.filter((l) => /deliveries queued \(receiver slow or down\); dropped/.test(l.line));
    expect(drops).toHaveLength(1);
    expect(drops[0]!.line).toMatch(/^<4>.*dropped delivery [0-9a-f-]+ \(job\.completed for job D4\)/); // D0–D3 are in flight
    await receiver.waitFor(4);
  });

  it('a graceful stop lets queued deliveries go out first', async () => {
    const receiver = await startReceiver();
    const { events, hooks: webhooks } = setUp({ url: receiver.url });
    for (let i = 0; i < 10; i++) events.emit('job:finished', { job: finished(`S${i}`) });
    await webhooks.stop({ flush: true });
    hooks = undefined;
    expect(receiver.requests).toHaveLength(10);
  });
});

describe('notifications config', () => {
  const parse = (webhook: Record<string, unknown>) => () => parseConfig({ notifications: { webhooks: [webhook] } }, os.tmpdir());

  it.each([
    [{ url: 'ftp://files.example/x', secret: SECRET }, 'notifications.webhooks[0].url: got "ftp://files.example/x", expected an http:// or https:// URL'],
    [{ url: 'not a url', secret: SECRET }, 'notifications.webhooks[0].url: got "not a url", expected an http:// or https:// URL'],
    [{ url: 'https://h.example/x' }, 'notifications.webhooks[0].secret: got nothing, expected exactly one of secret (at least 16 characters) or secretFile'],
    [{ url: 'https://h.example/x', secret: SECRET, secretFile: '/etc/x' }, 'notifications.webhooks[0].secret: got a secret of 33 characters, expected exactly one of secret (at least 16 characters) or secretFile'],
    [{ url: 'https://h.example/x', secret: 'hunter2' }, 'notifications.webhooks[0].secret: got a secret of 7 characters, expected at least 16 characters'],
    [{ url: 'https://h.example/x', secret: SECRET, events: ['started'] }, 'notifications.webhooks[0].events[0]: got "started", expected one of "completed", "failed"'],
    [{ url: 'https://h.example/x', secret: SECRET, events: [] }, 'notifications.webhooks[0].events: got [], expected at least 1 items'],
    [{ url: 'https://h.example/x', secret: SECRET, timeoutSeconds: 0 }, 'notifications.webhooks[0].timeoutSeconds: got 0, expected a number > 0'],
    [{ url: 'https://h.example/x', secret: SECRET, maxAttempts: 50 }, 'notifications.webhooks[0].maxAttempts: got 50, expected a number <= 20'],
    [{ url: 'https://h.example/x', secret: SECRET, retries: 3 }, 'notifications.webhooks[0].retries: got 3, expected no such key'],
  ])('%j', (webhook, message) => {
    expect(parse(webhook)).toThrow(message);
  });

  it('never prints the secret itself', () => {
    expect(parse({ url: 'https://h.example/x', secret: 'hunter2' })).toThrow(expect.objectContaining({ message: expect.not.stringContaining('hunter2') }));
  });

  it('defaults: both events, 10 s, 5 tries; secretFile resolved against the config folder', () => {
    const config = parseConfig({ notifications: { webhooks: [{ url: 'https://h.example/x', secretFile: 'secrets/hook' }] } }, '/etc/spool');
    expect(config.notifications.webhooks[0]).toEqual({ url: 'https://h.example/x', events: ['completed', 'failed'], secretFile: '/etc/spool/secrets/hook', timeoutSeconds: 10, maxAttempts: 5 });
  });

  it('an unreadable or short secretFile stops the agent with the key named', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-secret-'));
    const build = (file: string) => () =>
      createWebhooks({ webhooks: [{ url: 'https://h.example/x', events: ['completed'], secretFile: file, timeoutSeconds: 10, maxAttempts: 5 }], applianceName: 'x', events: createEventBus(), logger: createLogger(), clock: systemClock });
    expect(build(path.join(dir, 'missing'))).toThrow(/^notifications\.webhooks\[0\]\.secretFile: cannot read .*missing: ENOENT/);
    fs.writeFileSync(path.join(dir, 'short'), 'abc\n');
    expect(build(path.join(dir, 'short'))).toThrow(/^notifications\.webhooks\[0\]\.secretFile: .*short holds a secret of 3 characters, expected at least 16$/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
