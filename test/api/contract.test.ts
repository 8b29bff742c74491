/**
 * The contract of ../shared/CONTRACT.md, operation by operation, against a
 * running agent over real HTTP and a real graphql-ws client.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, must, serverConfig, subscribe, TOKENS, wsClient, type WsClient } from '../helpers/api.js';
import { makeClip } from '../helpers/media.js';
import { startTestAgent, type TestAgent } from '../helpers/test-agent.js';

const JOB_FIELDS = `id status profile kind category priority progress etaSeconds fps speed waitingReason attempts maxAttempts
  inputPath outputs { path sizeBytes } error log(last: 20) { at stream line } dependsOn { id } gpuIndex createdAt startedAt finishedAt`;

/** A command profile that waits for a file to appear, so tests can hold a job RUNNING as long as they need. */
const HOLD = 'const fs=require("fs");const f=process.argv[1]+".go";console.log("holding");const t=setInterval(()=>{if(fs.existsSync(f)){clearInterval(t);fs.writeFileSync(process.argv[2]+"/"+process.argv[3]+".out","ok")}},50)';

describe('GraphQL contract over HTTP and WebSocket', () => {
  let t: TestAgent;
  let url: string;
  let ws: WsClient;
  const op = TOKENS.operator;

  beforeAll(async () => {
    t = await startTestAgent({
      appliance: { name: 'contract-box' },
      server: serverConfig(),
      profiles: {
        thumb: { kind: 'thumbnail', at: '50%', width: 96, format: 'jpeg', priority: 4 },
        hold: { kind: 'command', command: [process.execPath, '-e', HOLD, '{input}', '{outputDir}', '{outputBase}'], maxAttempts: 2 },
        later: { kind: 'probe', priority: 7 },
        chatty: { kind: 'command', command: [process.execPath, '-e', 'for (let i = 0; i < 40; i++) console.log("line " + i)', '{input}'] },
      },
      resources: { categories: { cpu: { concurrency: 4 } } },
    });
    url = t.agent.api.url();
    ws = wsClient(url, TOKENS.viewer);
  });
  afterAll(async () => {
    await ws?.client.dispose();
    await t?.stop();
  });

  async function dropAndWait(profile: string, name: string, statuses = ['COMPLETED', 'FAILED'] as const) {
    const staging = path.join(t.dir, `src-${name}`);
    await makeClip(staging, { seconds: 1 });
    fs.renameSync(staging, path.join(t.inbox(profile), name));
    const id = await t.waitForClaim(name);
    await t.waitForStatus(id, [...statuses]);
    return id;
  }

  it('appliance: name, version, hostname, queue state, GPUs (none here), CPU and memory', async () => {
    const { appliance } = await must(url, TOKENS.viewer, `{ appliance { name version hostname queuePaused gpus { index uuid name memoryTotalMb memoryUsedMb memoryFreeMb utilizationPercent encoderSessions } gpuError cpu { cores busyPercent } memory { totalMb availableMb } } }`);
    expect(appliance.name).toBe('contract-box');
    expect(appliance.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(appliance.queuePaused).toBe(false);
    expect(appliance.gpus).toEqual([]);
    expect(appliance.gpuError).toMatch(/nvidia-smi/);
    expect(appliance.cpu.cores).toBeGreaterThan(0);
    expect(appliance.memory.totalMb).toBeGreaterThan(0);
  });

  it('profiles: name, kind and category of each', async () => {
    const { profiles } = await must(url, TOKENS.viewer, '{ profiles { name kind category priority } }');
    expect(profiles).toEqual(
      expect.arrayContaining([
        { name: 'thumb', kind: 'thumbnail', category: 'CPU', priority: 4 },
        { name: 'hold', kind: 'command', category: 'CPU', priority: 5 },
      ]),
    );
  });

  it('a dropped file: job(id) with every contract field, jobs() lists it, queueStats counts it', async () => {
    const id = await dropAndWait('thumb', 'first clip.mp4');
    const { job } = await must(url, TOKENS.viewer, `query($id: ID!) { job(id: $id) { ${JOB_FIELDS} } }`, { id });
    expect(job).toMatchObject({ id, status: 'COMPLETED', profile: 'thumb', kind: 'thumbnail', category: 'CPU', priority: 4, progress: 100, attempts: 1, maxAttempts: 3, error: null, dependsOn: [], gpuIndex: null });
    expect(job.inputPath).toBe(path.join(t.inbox('thumb'), 'first clip.mp4'));
    expect(job.outputs).toHaveLength(1);
    expect(job.outputs[0].path).toBe(path.join(t.outbox('thumb'), 'first clip.jpg'));
    expect(job.outputs[0].sizeBytes).toBe(fs.statSync(job.outputs[0].path).size);
    for (const key of ['createdAt', 'startedAt', 'finishedAt']) expect(job[key]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const { jobs } = await must(url, TOKENS.viewer, '{ jobs(first: 10, status: [COMPLETED], profile: "thumb") { totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }');
    expect(jobs.edges.map((e: { node: { id: string } }) => e.node.id)).toContain(id);
    expect(jobs.totalCount).toBeGreaterThanOrEqual(1);
    expect(jobs.pageInfo.hasNextPage).toBe(false);

    const { queueStats } = await must(url, TOKENS.viewer, '{ queueStats { pending running paused completed failed cancelled } }');
    expect(queueStats.completed).toBeGreaterThanOrEqual(1);
  });

  it('job(id) of an unknown id is null', async () => {
    const { job } = await must(url, TOKENS.viewer, '{ job(id: "NOPE") { id } }');
    expect(job).toBeNull();
  });

  it('submitJob, pauseJob, resumeJob, setJobPriority, cancelJob, retryJob on a job held running', async () => {
    const file = path.join(t.inbox('hold'), 'held.bin');
    fs.writeFileSync(file, 'x');
    // Submitting a file that is in an inbox claims it like a drop.
    const { submitJob } = await must(url, op, `mutation($input: SubmitJobInput!) { submitJob(input: $input) { id status profile priority inputPath } }`, { input: { profile: 'hold', inputPath: file, priority: 3 } });
    expect(submitJob).toMatchObject({ profile: 'hold', priority: 3, inputPath: file });
    const id = submitJob.id as string;
    await t.waitForStatus(id, ['RUNNING']);

    const paused = await must(url, op, 'mutation($id: ID!) { pauseJob(id: $id) { status } }', { id });
    expect(paused.pauseJob.status).toBe('PAUSED');
    const resumed = await must(url, op, 'mutation($id: ID!) { resumeJob(id: $id) { status } }', { id });
    expect(resumed.resumeJob.status).toBe('RUNNING');
    const prio = await must(url, op, 'mutation($id: ID!) { setJobPriority(id: $id, priority: 1) { priority } }', { id });
    expect(prio.setJobPriority.priority).toBe(1);

    const cancelled = await must(url, op, 'mutation($id: ID!) { cancelJob(id: $id) { status } }', { id });
    expect(cancelled.cancelJob.status).toBe('CANCELLED');
    // cancelJob keeps the source (in <inbox>/cancelled/).
    expect(fs.existsSync(path.join(t.inbox('hold'), 'cancelled', 'held.bin'))).toBe(true);

    const retried = await must(url, op, 'mutation($id: ID!) { retryJob(id: $id) { status } }', { id });
    expect(retried.retryJob.status).toMatch(/PENDING|RUNNING/);
    await t.waitForStatus(id, ['RUNNING']);
    fs.writeFileSync(`${(await t.agent.jobs.get(id))!.sourcePath}.go`, '');
    const done = await t.waitForStatus(id, ['COMPLETED', 'FAILED']);
    expect(done.status, done.error ?? '').toBe('COMPLETED');
  });

  it('a mutation on a job in the wrong state answers INVALID_STATE; an unknown job NOT_FOUND; a bad priority BAD_USER_INPUT', async () => {
    const id = await dropAndWait('thumb', 'second.mp4');
    const resume = await gql(url, op, 'mutation($id: ID!) { resumeJob(id: $id) { id } }', { id });
    expect(resume.errors?.[0]?.extensions?.code).toBe('INVALID_STATE');
    expect(resume.errors?.[0]?.message).toMatch(/COMPLETED/);
    const missing = await gql(url, op, 'mutation { cancelJob(id: "01NOSUCHJOB") { id } }');
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const badPriority = await gql(url, op, 'mutation($id: ID!) { setJobPriority(id: $id, priority: 11) { id } }', { id });
    expect(badPriority.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('submitJob refuses a path outside the inboxes and input roots, an unknown profile, a missing file', async () => {
    const outside = path.join(t.dir, 'outside.bin');
    fs.writeFileSync(outside, 'x');
    for (const [input, says] of [
      [{ profile: 'later', inputPath: outside }, /outside the inboxes/],
      [{ profile: 'later', inputPath: '/etc/passwd' }, /outside the inboxes/],
      [{ profile: 'later', inputPath: path.join(t.inbox('later'), '..', '..', 'outside.bin') }, /outside the inboxes/],
      [{ profile: 'nope', inputPath: path.join(t.inbox('later'), 'x') }, /does not exist|no profile/],
      [{ profile: 'later', inputPath: 'relative.bin' }, /absolute/],
    ] as const) {
      const result = await gql(url, op, 'mutation($input: SubmitJobInput!) { submitJob(input: $input) { id } }', { input });
      expect(result.errors?.[0]?.extensions?.code, JSON.stringify(input)).toBe('BAD_USER_INPUT');
      expect(result.errors?.[0]?.message).toMatch(says);
    }
    expect(fs.existsSync(outside)).toBe(true);
  });

  it('pauseQueue and resumeQueue answer the appliance', async () => {
    const paused = await must(url, op, 'mutation { pauseQueue { queuePaused } }');
    expect(paused.pauseQueue.queuePaused).toBe(true);
    const resumed = await must(url, op, 'mutation { resumeQueue { queuePaused } }');
    expect(resumed.resumeQueue.queuePaused).toBe(false);
  });

  it('jobs: stable cursor pagination newest first, filters by status, profile and file name', async () => {
    const ids: string[] = [];
    for (const name of ['page a.mp4', 'page b.mp4', 'page c.mp4']) ids.push(await dropAndWait('later', name));
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const { jobs }: { jobs: any } = await must(url, TOKENS.viewer, 'query($after: String) { jobs(first: 2, profile: "later", after: $after) { totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }', { after });
      expect(jobs.totalCount).toBe(3);
      seen.push(...jobs.edges.map((e: { node: { id: string } }) => e.node.id));
      if (!jobs.pageInfo.hasNextPage) break;
      after = jobs.pageInfo.endCursor;
    }
    expect(seen).toEqual([...ids].reverse());
    const { jobs } = await must(url, TOKENS.viewer, '{ jobs(search: "PAGE B") { edges { node { id } } } }');
    expect(jobs.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([ids[1]]);
    const bad = await gql(url, TOKENS.viewer, '{ jobs(after: "garbage!") { totalCount } }');
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('subscriptions: applianceUpdated sends the current state first; jobUpdated follows a job to COMPLETED; jobLog streams its lines', async () => {
    const appliance = subscribe(ws.client, 'subscription { applianceUpdated { name queuePaused } }');
    await appliance.until(1);
    expect(appliance.values[0]).toEqual({ applianceUpdated: { name: 'contract-box', queuePaused: false } });
    appliance.stop();

    const all = subscribe(ws.client, 'subscription { jobUpdated { id status progress } }');
    const file = path.join(t.inbox('hold'), 'watched.bin');
    fs.writeFileSync(file, 'x');
    const id = await t.waitForClaim('watched.bin');
    const one = subscribe(ws.client, 'subscription($id: ID) { jobUpdated(id: $id) { id status } }', { id });
    const log = subscribe(ws.client, 'subscription($id: ID!) { jobLog(id: $id) { stream line } }', { id });
    await t.waitForStatus(id, ['RUNNING']);
    await expect.poll(() => log.values.map((v) => v.jobLog.line), { timeout: 10_000 }).toContain('holding');
    fs.writeFileSync(`${(await t.agent.jobs.get(id))!.sourcePath}.go`, '');
    await t.waitForStatus(id, ['COMPLETED']);
    await expect.poll(() => one.values.map((v) => v.jobUpdated.status)).toContain('COMPLETED');
    expect(one.values.every((v) => v.jobUpdated.id === id)).toBe(true);
    await expect.poll(() => all.values.filter((v) => v.jobUpdated.id === id).map((v) => v.jobUpdated.status)).toContain('COMPLETED');
    for (const s of [all, one, log]) s.stop();
  });

  it('Job.log pages back with before and forward with after', async () => {
    const file = path.join(t.inbox('chatty'), 'chatty.bin');
    fs.writeFileSync(file, 'x');
    const id = await t.waitForClaim('chatty.bin');
    await t.waitForStatus(id, ['COMPLETED']);
    const page = async (args: string) => (await must(url, TOKENS.viewer, `query($id: ID!) { job(id: $id) { log(${args}) { seq line } } }`, { id })).job.log as { seq: number; line: string }[];
    const tail = await page('last: 10');
    expect(tail).toHaveLength(10);
    const before = await page(`last: 5, before: ${tail[0]!.seq}`);
    expect(before).toHaveLength(5);
    expect(before.map((l) => l.seq)).toEqual([...before.map((l) => l.seq)].sort((a, b) => a - b));
    expect(before.at(-1)!.seq).toBeLessThan(tail[0]!.seq);
    const after = await page(`last: 3, after: ${before[4]!.seq}`);
    expect(after).toEqual(tail.slice(0, 3));
    expect([...before, ...tail].map((l) => l.line)).toEqual(expect.arrayContaining(['line 30', 'line 31']));
  });

  it('a subscription to an unknown job ends with NOT_FOUND', async () => {
    const sub = subscribe(ws.client, 'subscription { jobUpdated(id: "01NOSUCHJOB") { id } }');
    await sub.until(1);
    expect(JSON.stringify(sub.errors)).toMatch(/NOT_FOUND|no job with id/);
  });
});
