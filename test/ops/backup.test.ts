/**
 * `spool backup FILE` as an administrator runs it: a second process copying
 * the database of a running agent (real child process, real jobs, one of
 * them running), then the copy checked the way a restore would use it.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { openDatabase } from '../../agent/db/database.js';
import { CLI_PATH, requireBuiltCli, startAgentProcess, type AgentProcess } from '../helpers/agent-process.js';
import { waitForFile } from '../helpers/wait-for-file.js';

const execFileAsync = promisify(execFile);
const node = process.execPath;
const copy = { kind: 'command', command: [node, '-e', 'const fs=require("fs");const [i,d,b]=process.argv.slice(1);fs.copyFileSync(i,d+"/"+b+".out")', '{input}', '{outputDir}', '{outputBase}'] };
/** Marks its start, then runs until the agent stops it. */
const endless = (marker: string) => ({ kind: 'command', command: [node, '-e', 'require("fs").writeFileSync(process.argv[1], ""); setInterval(() => {}, 1000)', marker] });

/** Runs the CLI; resolves with its exit code and output instead of throwing. */
async function spool(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(node, [CLI_PATH, ...args], { cwd, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('spool backup', () => {
  let dir: string;
  let configFile: string;
  let agent: AgentProcess | undefined;
  const ids: string[] = [];
  let runningId = '';

  beforeAll(async () => {
    requireBuiltCli();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-backup-'));
    for (const name of ['copy', 'endless']) fs.mkdirSync(path.join(dir, 'inbox', name), { recursive: true });
    configFile = path.join(dir, 'spool.yaml');
    fs.writeFileSync(
      configFile,
      stringify({
        dataDir: 'data',
        server: { port: 0 },
        jobs: { stopDeadlineSeconds: 0, killGraceSeconds: 1 },
        // Other test files share the CPUs: the ceiling would hold these tiny jobs back (it is not what this file tests).
        resources: { cpu: { ceilingPercent: 100 } },
        profiles: { copy, endless: endless(path.join(dir, 'endless.started')) },
        inboxes: ['copy', 'endless'].map((name) => ({ path: `inbox/${name}`, profile: name, outbox: `outbox/${name}`, stableSeconds: 0.3 })),
      }),
    );
    agent = startAgentProcess(configFile, { cwd: dir });
    await agent.waitForLine(/<6>inbox .*endless → /);
    for (const name of ['a.txt', 'b.txt', 'c.txt']) fs.writeFileSync(path.join(dir, 'inbox', 'copy', name), `content of ${name}\n`);
    fs.writeFileSync(path.join(dir, 'inbox', 'endless', 'long.txt'), 'runs\n');
    for (const name of ['a.txt', 'b.txt', 'c.txt']) {
      const id = /as job (\S+) /.exec(await agent.waitForLine(new RegExp(`<6>claimed .*${name} as job `)))![1]!;
      await agent.waitForLine(new RegExp(`<6>job ${id} completed`));
      ids.push(id);
    }
    runningId = /as job (\S+) /.exec(await agent.waitForLine(/<6>claimed .*long\.txt as job /))![1]!;
    await waitForFile(path.join(dir, 'endless.started'));
    ids.push(runningId);
  });

  afterAll(async () => {
    if (agent && agent.child.exitCode === null && agent.child.signalCode === null) {
      agent.child.kill('SIGKILL');
      await agent.exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('copies the database of a running agent into one checked, self-contained file', async () => {
    const target = path.join(dir, 'backups', 'spool-1.db');
    fs.mkdirSync(path.dirname(target));
    const result = await spool(['backup', '--config', configFile, target], dir);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe(`backup of ${path.join(dir, 'data', 'spool.db')} written to ${target}: 4 jobs, ${fs.statSync(target).size} bytes, integrity ok\n`);
    // Nothing but the file itself: no -wal or -shm to carry along, no temporary name left.
    expect(fs.readdirSync(path.dirname(target))).toEqual(['spool-1.db']);

    const copyDb = new Database(target, { readonly: true, fileMustExist: true });
    try {
      expect(copyDb.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(copyDb.pragma('journal_mode', { simple: true })).toBe('delete');
      const rows = copyDb.prepare('SELECT id, status FROM jobs ORDER BY id').all() as { id: string; status: string }[];
      expect(rows.map((r) => r.id).sort()).toEqual([...ids].sort());
      expect(rows.find((r) => r.id === runningId)!.status).toBe('RUNNING');
      expect(rows.filter((r) => r.status === 'COMPLETED')).toHaveLength(3);
    } finally {
      copyDb.close();
    }

    // The agent did not notice: it still takes files.
    fs.writeFileSync(path.join(dir, 'inbox', 'copy', 'd.txt'), 'after the backup\n');
    await agent!.waitForLine(/<6>job \S+ completed: d\.out/);
  });

  it('is what a restore opens: the agent opens, checks and migrates the copy', async () => {
    const target = path.join(dir, 'backups', 'spool-restore.db');
    expect((await spool(['backup', '--config', configFile, target], dir)).code).toBe(0);
    const restoredDir = path.join(dir, 'restored');
    fs.mkdirSync(restoredDir);
    fs.copyFileSync(target, path.join(restoredDir, 'spool.db'));
    const restored = await openDatabase(path.join(restoredDir, 'spool.db'));
    try {
      const rows = await restored.db.selectFrom('jobs').select(['id', 'file_name']).execute();
      expect(rows.map((r) => r.file_name).sort()).toEqual(['a.txt', 'b.txt', 'c.txt', 'd.txt', 'long.txt']);
    } finally {
      await restored.close();
    }
  });

  it('refuses a file that exists and leaves it alone', async () => {
    const target = path.join(dir, 'backups', 'taken.db');
    fs.writeFileSync(target, 'an older backup');
    const result = await spool(['backup', '--config', configFile, target], dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`<3>spool: ${target} already exists; choose a new name or remove it first\n`);
    expect(fs.readFileSync(target, 'utf8')).toBe('an older backup');
  });

  it('without FILE, says what to give', async () => {
    const result = await spool(['backup', '--config', configFile], dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^spool backup: name the file to write/);
  });

  it.skipIf(process.getuid?.() !== 0)('run by root on a stopped agent, leaves the -wal and -shm it creates to the database owner', async () => {
    agent!.child.kill('SIGTERM');
    expect((await agent!.exited).code).toBe(0);
    const db = path.join(dir, 'data', 'spool.db');
    // The agent's last close removes them; the agent's user is played by nobody (65534).
    expect(fs.existsSync(`${db}-wal`)).toBe(false);
    fs.chownSync(db, 65534, 65534);
    const result = await spool(['backup', '--config', configFile, path.join(dir, 'backups', 'stopped.db')], dir);
    expect(result.code).toBe(0);
    const sidecars = [`${db}-wal`, `${db}-shm`].filter((f) => fs.existsSync(f));
    expect(sidecars.length).toBeGreaterThan(0);
    for (const f of sidecars) expect(fs.statSync(f)).toMatchObject({ uid: 65534, gid: 65534 });
  });
});
