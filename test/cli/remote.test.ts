/**
 * The operator commands as an operator runs them: the built `spool` in a
 * child process against a real agent (in this process) over real HTTP and
 * a real graphql-ws WebSocket. stdout is a pipe here, so `watch` prints
 * appended lines.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../agent/api/auth.js';
import { must, serverConfig, TOKENS } from '../helpers/api.js';
import { requireBuiltCli } from '../helpers/agent-process.js';
import { runCli, startCli, type CliOptions } from '../helpers/cli-process.js';
import { startTestAgent, type TestAgent } from '../helpers/test-agent.js';
import { freePort } from '../helpers/free-port.js';

/** A command profile that waits for `<input>.go` to appear, so a test holds a job RUNNING as long as it needs. */
const HOLD = 'const fs=require("fs");const f=process.argv[1]+".go";console.log("holding");const t=setInterval(()=>{if(fs.existsSync(f)){clearInterval(t);fs.writeFileSync(process.argv[2]+"/"+process.argv[3]+".out","ok")}},50)';

describe('spool commands over the API', () => {
  let t: TestAgent;
  let url: string;
  let dir: string;
  /** Files here are submitted in place (server.inputRoots). */
  let inputs: string;

  const as = (token: string, extra: CliOptions = {}): CliOptions => ({ ...extra, env: { SPOOL_URL: url, SPOOL_TOKEN: token, ...extra.env } });
  const operator = (extra: CliOptions = {}) => as(TOKENS.operator, extra);

  beforeAll(async () => {
    requireBuiltCli();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-cli-'));
    inputs = path.join(dir, 'input');
    fs.mkdirSync(inputs);
    t = await startTestAgent(
      {
        appliance: { name: 'cli-box' },
        server: serverConfig({ inputRoots: [inputs] }),
        profiles: { hold: { kind: 'command', command: [process.execPath, '-e', HOLD, '{input}', '{outputDir}', '{outputBase}'], maxAttempts: 2 } },
        resources: { categories: { cpu: { concurrency: 4 } } },
      },
      { dir },
    );
    url = t.agent.api.url();
  });
  afterAll(async () => {
    await t?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A new file under the input root. */
  function inputFile(name: string): string {
    const file = path.join(inputs, name);
    fs.writeFileSync(file, 'x');
    return file;
  }

  /** Submits through the API (not the CLI under test) and waits until the job runs. */
  async function runningJob(name: string): Promise<string> {
    const { submitJob } = await must(url, TOKENS.operator, 'mutation($input: SubmitJobInput!) { submitJob(input: $input) { id } }', { input: { profile: 'hold', inputPath: inputFile(name) } });
    await t.waitForStatus(submitJob.id, ['RUNNING']);
    return submitJob.id as string;
  }

  /** Lets a held job finish. */
  async function release(id: string): Promise<void> {
    fs.writeFileSync(`${(await t.agent.jobs.get(id))!.sourcePath}.go`, '');
  }

  it('token create prints a new token once and the server.tokens line holding its hash, without an agent', async () => {
    const { code, stdout, stderr } = await runCli(['token', 'create', '--role', 'operator', '--name', 'ci runner'], { env: { SPOOL_URL: 'http://127.0.0.1:9' } });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const token = /^\s+(spool_[A-Za-z0-9_-]{43})$/m.exec(stdout)?.[1];
    expect(token, stdout).toBeDefined();
    expect(stdout.split(token!)).toHaveLength(2);
    const line = stdout.split('\n').find((l) => l.trimStart().startsWith('- {'));
    expect(line, stdout).toBeDefined();
    const [entry] = parseYaml(line!.trim()) as { name: string; role: string; sha256: string }[];
    expect(entry).toEqual({ name: 'ci runner', role: 'operator', sha256: hashToken(token!) });

    const second = await runCli(['token', 'create', '--role', 'operator', '--name', 'ci runner']);
    expect(second.stdout).not.toContain(token!);
  });

  it('submit resolves FILE against the working directory and prints the job id and status; jobs and job show it', async () => {
    const file = inputFile('submitted clip.bin');
    const submitted = await runCli(['submit', 'submitted clip.bin', '--profile', 'hold', '--priority', '3'], operator({ cwd: inputs }));
    expect(submitted.stderr).toBe('');
    expect(submitted.code).toBe(0);
    const [, id, status] = /^(\S+) (PENDING|RUNNING)\n$/.exec(submitted.stdout) ?? [];
    expect(id, submitted.stdout).toBeDefined();
    expect(status).toMatch(/PENDING|RUNNING/);
    const job = (await t.agent.jobs.get(id!))!;
    expect(job).toMatchObject({ profile: 'hold', priority: 3, inputPath: file });

    await t.waitForStatus(id!, ['RUNNING']);
    const table = await runCli(['jobs', '--status', 'running,pending', '--profile', 'hold'], as(TOKENS.viewer));
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+PROFILE\s+PROGRESS\s+FILE\s+NOTE$/);
    expect(lines.find((l) => l.startsWith(id!))).toMatch(new RegExp(`^${id}\\s+RUNNING\\s+hold\\s+\\S+\\s+submitted clip\\.bin`));

    const json = await runCli(['jobs', '--json', '--search', 'SUBMITTED CLIP'], as(TOKENS.viewer));
    expect(json.code, json.stderr).toBe(0);
    const list = JSON.parse(json.stdout) as { id: string; status: string; inputPath: string }[];
    expect(list.map((j) => j.id)).toEqual([id]);
    expect(list[0]).toMatchObject({ status: 'RUNNING', inputPath: file });

    const none = await runCli(['jobs', '--search', 'no such file anywhere'], as(TOKENS.viewer));
    expect(none).toMatchObject({ code: 0, stdout: 'no jobs match\n' });

    // The held process has logged its line once the API serves it.
    await expect.poll(async () => (await must(url, TOKENS.viewer, 'query($id: ID!) { job(id: $id) { log { line } } }', { id })).job.log.map((l: { line: string }) => l.line)).toContain('holding');
    const details = await runCli(['job', id!], as(TOKENS.viewer));
    expect(details.code, details.stderr).toBe(0);
    expect(details.stdout).toMatch(new RegExp(`^id\\s+${id}$`, 'm'));
    expect(details.stdout).toMatch(/^status\s+RUNNING \(attempt 1 of 2\)$/m);
    expect(details.stdout).toMatch(/^profile\s+hold \(command, category cpu\)$/m);
    expect(details.stdout.split('\n')).toContain(`input     ${file}`);
    expect(details.stdout).toMatch(/Attempts:\n\s+#\s+STARTED.*\n\s+1\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+running\s+running/);
    expect(details.stdout).toMatch(/^\s+1\s.*\son cpu$/m); // where the attempt runs, beside the profile's category
    expect(details.stdout).toMatch(/Last \d+ log lines?:\n(.*\n)*\s+\d\d:\d\d:\d\d \S+\s+holding\n/);

    // A follow-up that waits for this job; --json for scripts.
    const follow = await runCli(['submit', inputFile('follow-up.bin'), '--profile', 'hold', '--depends-on', id!, '--json'], operator());
    expect(follow.code, follow.stderr).toBe(0);
    const followUp = JSON.parse(follow.stdout) as { id: string; status: string };
    expect(followUp.status).toBe('PENDING');
    expect((await t.agent.jobs.get(followUp.id))!.dependsOn).toEqual([id]);
    expect((await runCli(['cancel', followUp.id], operator())).stdout).toBe(`${followUp.id} CANCELLED\n`);

    await release(id!);
    await t.waitForStatus(id!, ['COMPLETED']);
    const done = await runCli(['job', id!, '--json'], as(TOKENS.viewer));
    expect(JSON.parse(done.stdout)).toMatchObject({ id, status: 'COMPLETED', progress: 100, attemptHistory: [{ number: 1, outcome: 'completed' }] });
  });

  it('pause, resume, priority, cancel and retry a held job; a wrong state or an unknown job is exit 1 in the agent\u2019s words', async () => {
    const id = await runningJob('steered.bin');
    const step = async (args: string[]) => {
      const result = await runCli(args, operator());
      expect(result.stderr, args.join(' ')).toBe('');
      expect(result.code, args.join(' ')).toBe(0);
      return result.stdout;
    };
    expect(await step(['pause', id])).toBe(`${id} PAUSED\n`);
    expect(await step(['resume', id])).toBe(`${id} RUNNING\n`);

    const again = await runCli(['resume', id], operator());
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`spool resume: cannot resume job ${id}: it is RUNNING\n`);

    expect(await step(['priority', id, '2'])).toBe(`${id} priority 2\n`);
    expect((await t.agent.jobs.get(id))!.priority).toBe(2);

    expect(await step(['cancel', id])).toBe(`${id} CANCELLED\n`);
    expect(await step(['retry', id])).toMatch(new RegExp(`^${id} (PENDING|RUNNING)\\n$`));
    await t.waitForStatus(id, ['RUNNING']);
    await release(id);
    expect((await t.waitForStatus(id, ['COMPLETED', 'FAILED'])).status).toBe('COMPLETED');

    const missing = await runCli(['cancel', '01NOSUCHJOB'], operator());
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^spool cancel: no job with id 01NOSUCHJOB\n$/);
    const unknown = await runCli(['job', '01NOSUCHJOB'], operator());
    expect(unknown).toMatchObject({ code: 1, stderr: 'spool job: no job with id 01NOSUCHJOB\n' });
    const unwatched = await runCli(['watch', '01NOSUCHJOB'], operator());
    expect(unwatched).toMatchObject({ code: 1, stderr: 'spool watch: no job with id 01NOSUCHJOB\n' });
  });

  it('queue pause and resume', async () => {
    const paused = await runCli(['queue', 'pause'], operator());
    expect(paused).toMatchObject({ code: 0, stdout: 'queue paused: no new jobs start; running jobs go on\n' });
    expect((await must(url, TOKENS.viewer, '{ appliance { queuePaused } }')).appliance.queuePaused).toBe(true);
    const resumed = await runCli(['queue', 'resume'], operator());
    expect(resumed).toMatchObject({ code: 0, stdout: 'queue resumed\n' });
    expect((await must(url, TOKENS.viewer, '{ appliance { queuePaused } }')).appliance.queuePaused).toBe(false);
  });

  it('watch ID appends a line per change and exits 0 when the job completes', async () => {
    const id = await runningJob('watched.bin');
    const watch = startCli(['watch', id], as(TOKENS.viewer));
    await watch.waitForLine(new RegExp(`^\\d\\d:\\d\\d:\\d\\d  ${id}  RUNNING .*watched\\.bin$`));
    await release(id);
    const { code, stdout, stderr } = await watch.result;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d  ${id}  COMPLETED  \\[#{24}\\]    100%  watched\\.bin$`));
    // Not a terminal: no cursor movement, and no line repeated.
    expect(stdout).not.toContain('\x1b[');
    expect(new Set(lines.map((l) => l.slice(10))).size).toBe(lines.length);
  });

  it('watch ID exits 1 when the job is cancelled', async () => {
    const id = await runningJob('watched-cancel.bin');
    const watch = startCli(['watch', id], as(TOKENS.viewer));
    await watch.waitForLine(new RegExp(`${id}  RUNNING`));
    await must(url, TOKENS.operator, 'mutation($id: ID!) { cancelJob(id: $id) { id } }', { id });
    const { code, stdout } = await watch.result;
    expect(code).toBe(1);
    expect(stdout.trimEnd().split('\n').at(-1)).toMatch(new RegExp(`${id}  CANCELLED`));
  });

  it('watch without ID follows every job until Ctrl-C', async () => {
    const watch = startCli(['watch'], as(TOKENS.viewer));
    await watch.waitForLine(/watching every job on http:\/\/127\.0\.0\.1:\d+; Ctrl-C stops$/);
    const id = await runningJob('watched-all.bin');
    await watch.waitForLine(new RegExp(`${id}  RUNNING .*watched-all\\.bin$`));
    await release(id);
    await watch.waitForLine(new RegExp(`${id}  COMPLETED`));
    watch.child.kill('SIGINT');
    expect(await watch.result).toMatchObject({ code: 0, stderr: '' });
  });

  it('a token the agent does not know is exit 3 over HTTP and WebSocket; a viewer changing the queue too', async () => {
    for (const args of [['jobs'], ['watch']]) {
      const result = await runCli(args, as('spool_not-a-real-token'));
      expect(result.code, args.join(' ')).toBe(3);
      expect(result.stderr).toBe(`spool ${args[0]}: the token is not valid on this appliance (check --token or SPOOL_TOKEN)\n`);
    }
    const viewer = await runCli(['queue', 'pause'], as(TOKENS.viewer));
    expect(viewer.code).toBe(3);
    expect(viewer.stderr).toMatch(/^spool queue pause: not allowed: token "test viewer" has the viewer role; .*operator/);
    const none = await runCli(['jobs'], { env: { SPOOL_URL: url } });
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/no token: pass --token or set SPOOL_TOKEN/);
  });

  it('an agent that is not there is exit 3, named by URL', async () => {
    const port = await freePort();
    const target = `http://127.0.0.1:${port}`;
    for (const args of [['jobs'], ['watch', 'ANYJOB'], ['cancel', 'ANYJOB']]) {
      const result = await runCli([...args, '--url', target, '--token', TOKENS.operator]);
      expect(result.code, args.join(' ')).toBe(3);
      expect(result.stderr).toBe(`spool ${args[0]}: cannot reach the agent at ${target}: ECONNREFUSED — is it running?\n`);
    }
  });

  it('an unknown command, an unknown flag or a bad value is exit 2 with the usage', async () => {
    const cases: [string[], RegExp][] = [
      [['frobnicate'], /unknown command "frobnicate"/],
      [['jobs', '--bogus'], /^spool jobs: Unknown option '--bogus'.*\nUsage: spool jobs /],
      [['--bogus'], /Unknown option '--bogus'/],
      [['submit', 'x.bin'], /^spool submit: Expected `--profile`/],
      [['jobs', '--status', 'done'], /Expected `--status` to be one or more of pending, running, paused, completed, failed, cancelled/],
      [['priority', 'ANYJOB', 'ten'], /Expected `N` to be a whole number from 1 to 10, got "ten"/],
      [['cancel'], /^spool cancel: Expected ID, got none/],
      [['queue', 'stop'], /unknown action "stop". Expected one of: spool queue pause, spool queue resume/],
      [['token', 'create', '--role', 'root', '--name', 'x'], /Expected `--role` to be one of viewer, operator, admin, got "root"/],
      [['jobs', '--url', 'ftp://box'], /Expected `--url` to start with http:\/\/ or https:\/\//],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args, operator())));
    results.forEach((result, i) => {
      const [args, says] = cases[i]!;
      expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(says);
      expect(result.stdout, args.join(' ')).toBe('');
    });
  });
});
