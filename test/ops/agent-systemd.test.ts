/**
 * The agent as systemd runs it: `spool agent --config FILE` in a child
 * process whose NOTIFY_SOCKET is a socket this test listens on. It must say
 * READY=1 once started, ping WATCHDOG=1, say RELOADING=1 and READY=1 around a
 * SIGHUP reload (a good file and a broken one, with a job running through
 * both), STOPPING=1 on SIGTERM, and exit 0. Job processes must not see the
 * notification variables.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { findOnPath } from '../../agent/media/locate.js';
import { requireBuiltCli, startAgentProcess, type AgentProcess } from '../helpers/agent-process.js';
import { listenNotifySocket, notifySocketUnavailable, type NotifySocket } from '../helpers/notify-socket.js';
import { waitForFile } from '../helpers/wait-for-file.js';

const skipReason = notifySocketUnavailable() ?? (findOnPath('systemd-notify') ? null : 'systemd-notify is not installed (Debian package systemd)');

const node = process.execPath;
/** Copies its input into its output folder. */
const copy = {
  kind: 'command',
  command: [node, '-e', 'const fs=require("fs");const [i,d,b]=process.argv.slice(1);fs.copyFileSync(i,d+"/"+b+".out")', '{input}', '{outputDir}', '{outputBase}'],
};
/**
 * Marks its start (<release>.started), runs until the file named by its last
 * argument exists, then writes the notification variables it saw.
 */
const held = (release: string) => ({
  kind: 'command',
  command: [
    node,
    '-e',
    'const fs=require("fs");const [i,d,b,r]=process.argv.slice(1);fs.writeFileSync(r+".started","");(function w(){if(!fs.existsSync(r))return setTimeout(w,50);fs.writeFileSync(d+"/"+b+".env.json",JSON.stringify({NOTIFY_SOCKET:process.env.NOTIFY_SOCKET??null,WATCHDOG_USEC:process.env.WATCHDOG_USEC??null}))})()',
    '{input}',
    '{outputDir}',
    '{outputBase}',
    release,
  ],
});

describe.skipIf(skipReason !== null)(`the agent under a stand-in service manager${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let dir: string;
  let configFile: string;
  let release: string;
  let socket: NotifySocket;
  let agent: AgentProcess | undefined;

  const writeConfig = (config: Record<string, unknown>) => fs.writeFileSync(configFile, stringify(config));
  const inbox = (name: string) => ({ path: `inbox/${name}`, profile: name === 'added' ? 'copy' : name, outbox: `outbox/${name}`, stableSeconds: 0.3 });
  const baseConfig = () => ({
    dataDir: 'data',
    // Port 0: tests running side by side each get a free port.
    server: { port: 0 },
    jobs: { stopDeadlineSeconds: 20, killGraceSeconds: 1 },
    // Other test files share the CPUs: the ceiling would hold these tiny jobs back (it is not what this file tests).
    resources: { cpu: { ceilingPercent: 100 } },
    profiles: { copy, held: held(release) },
    inboxes: [inbox('copy'), inbox('held')],
  });
  const drop = (folder: string, name: string) => {
    const temp = path.join(dir, `.${name}.writing`);
    fs.writeFileSync(temp, `content of ${name}\n`);
    fs.renameSync(temp, path.join(dir, 'inbox', folder, name));
  };
  const hangup = async () => {
    const from = socket.messages.length;
    const mark = agent!.lines.length;
    process.kill(agent!.pid, 'SIGHUP');
    const reloading = await socket.waitFor('RELOADING=1', { from });
    const ready = await socket.waitFor('READY=1', { from: socket.messages.indexOf(reloading) + 1 });
    return { mark, ready };
  };

  beforeAll(async () => {
    requireBuiltCli();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-systemd-'));
    release = path.join(dir, 'release');
    for (const name of ['copy', 'held', 'added']) fs.mkdirSync(path.join(dir, 'inbox', name), { recursive: true });
    configFile = path.join(dir, 'spool.yaml');
    writeConfig(baseConfig());
    socket = await listenNotifySocket();
  });

  afterAll(async () => {
    if (agent && agent.child.exitCode === null && agent.child.signalCode === null) {
      agent.child.kill('SIGKILL');
      await agent.exited;
    }
    await socket?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('READY=1 once started, then WATCHDOG=1 at half of WATCHDOG_USEC', async () => {
    agent = startAgentProcess(configFile, { cwd: dir, env: { NOTIFY_SOCKET: socket.path, WATCHDOG_USEC: '400000' } });
    const ready = await socket.waitFor('READY=1', { timeoutMs: 60_000 });
    expect(ready.assignments).toContain('STATUS=running; 2 inboxes');
    await agent.waitForLine(/<6>inbox .*held → /);
    const first = await socket.waitFor('WATCHDOG=1', { from: socket.messages.indexOf(ready) + 1, timeoutMs: 5000 });
    const second = await socket.waitFor('WATCHDOG=1', { from: socket.messages.indexOf(first) + 1, timeoutMs: 5000 });
    expect(second.at - first.at).toBeGreaterThanOrEqual(150);
  });

  let heldJob = '';
  it('SIGHUP with an added inbox: RELOADING=1, READY=1, the inbox is watched, the running job goes on', async () => {
    drop('held', 'long.txt');
    heldJob = /as job (\S+) /.exec(await agent!.waitForLine(/<6>claimed .*long\.txt as job /))![1]!;
    await waitForFile(`${release}.started`);

    writeConfig({ ...baseConfig(), inboxes: [inbox('copy'), inbox('held'), inbox('added')] });
    const { mark, ready } = await hangup();
    expect(ready.assignments).toContain('STATUS=running; 3 inboxes');
    await agent!.waitForLine(/<6>config reloaded \(inboxes: \+1 -0 changed 0; profiles: \+0 -0 changed 0\); running jobs were not touched/, { from: mark });

    drop('added', 'new.txt');
    const newJob = /as job (\S+) /.exec(await agent!.waitForLine(/<6>claimed .*added\/new\.txt as job /, { from: mark }))![1]!;
    await agent!.waitForLine(new RegExp(`<6>job ${newJob} completed: new\\.out`), { from: mark });
    expect(fs.readFileSync(path.join(dir, 'outbox', 'added', 'new.out'), 'utf8')).toBe('content of new.txt\n');
  });

  it('SIGHUP with a broken file: refused with key, value and expected; the agent keeps working', async () => {
    const broken = { ...baseConfig(), profiles: { copy: { ...copy, priority: 99 }, held: held(release) }, inboxes: [inbox('copy'), inbox('held'), inbox('added')] };
    writeConfig(broken);
    const { mark, ready } = await hangup();
    expect(ready.assignments).toContain('STATUS=running; the last config reload was refused (see the log)');
    await agent!.waitForLine(/^<3>config reload refused: .*profiles\.copy\.priority: got 99, expected a number <= 10/, { from: mark });
    await agent!.waitForLine(/^<3>config reload refused; the running config stays in force/, { from: mark });

    // The inboxes of the last good config are still watched.
    drop('added', 'after.txt');
    const id = /as job (\S+) /.exec(await agent!.waitForLine(/<6>claimed .*added\/after\.txt as job /, { from: mark }))![1]!;
    await agent!.waitForLine(new RegExp(`<6>job ${id} completed`), { from: mark });

    // The job that ran through both reloads finishes on its first attempt, and never saw NOTIFY_SOCKET.
    fs.writeFileSync(release, '');
    await agent!.waitForLine(new RegExp(`<6>job ${heldJob} completed: long\\.env\\.json`));
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'outbox', 'held', 'long.env.json'), 'utf8'))).toEqual({ NOTIFY_SOCKET: null, WATCHDOG_USEC: null });
  });

  it('SIGTERM: STOPPING=1, then exit 0', async () => {
    const from = socket.messages.length;
    agent!.child.kill('SIGTERM');
    await socket.waitFor('STOPPING=1', { from });
    expect(await agent!.exited).toEqual({ code: 0, signal: null });
    // The job that ran through both reloads needed one attempt.
    const db = new Database(path.join(dir, 'data', 'spool.db'), { readonly: true });
    try {
      expect(db.prepare('SELECT status, attempts FROM jobs WHERE id = ?').get(heldJob)).toEqual({ status: 'COMPLETED', attempts: 1 });
    } finally {
      db.close();
    }
  });
});
