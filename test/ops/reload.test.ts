/**
 * Config reload (SIGHUP's work) on a real agent in this process: what the
 * plan allows, and what intake and running jobs do across a reload.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../agent/config/load-config.js';
import { planReload } from '../../agent/ops/reload.js';
import { startTestAgent, type TestAgent } from '../helpers/test-agent.js';

const node = process.execPath;
/** Copies its input into its output folder. */
const copy = { kind: 'command', command: [node, '-e', 'const fs=require("fs");fs.copyFileSync(process.argv[1], process.argv[2] + "/" + process.argv[3] + ".out")', '{input}', '{outputDir}', '{outputBase}'] };
/** Like copy, but only once the file named by its last argument exists: a job that runs as long as the test wants. */
const held = (release: string) => ({
  kind: 'command',
  command: [node, '-e', 'const fs=require("fs");const [i,d,b,r]=process.argv.slice(1);(function w(){if(!fs.existsSync(r))return setTimeout(w,50);fs.copyFileSync(i,d+"/"+b+".out")})()', '{input}', '{outputDir}', '{outputBase}', release],
});

let t: TestAgent | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

function drop(inbox: string, name: string): void {
  const temp = path.join(path.dirname(inbox), `.${name}.writing`);
  fs.writeFileSync(temp, `content of ${name}\n`);
  fs.renameSync(temp, path.join(inbox, name));
}

/** A parsed config on `dir`: the profiles given, one inbox per entry of `inboxes`. */
function configOn(dir: string, profiles: Record<string, unknown>, inboxes: { name: string; profile: string }[], extra: Record<string, unknown> = {}) {
  return parseConfig(
    { dataDir: 'data', ...extra, profiles, inboxes: inboxes.map(({ name, profile }) => ({ path: `inbox/${name}`, profile, outbox: `outbox/${name}`, stableSeconds: 0.3 })) },
    dir,
  );
}

describe('planReload', () => {
  const current = configOn('/srv', { a: copy, b: copy }, [{ name: 'a', profile: 'a' }]);

  it.each([
    {
      why: 'adding an inbox and a profile is taken',
      next: configOn('/srv', { a: copy, b: copy, c: copy }, [{ name: 'a', profile: 'a' }, { name: 'c', profile: 'c' }]),
      unfinished: {},
      problems: [],
      restart: [],
      summary: 'inboxes: +1 -0 changed 0; profiles: +1 -0 changed 0',
    },
    {
      why: 'removing a profile no unfinished job uses is taken',
      next: configOn('/srv', { a: copy }, [{ name: 'a', profile: 'a' }]),
      unfinished: { a: 4 },
      problems: [],
      restart: [],
      summary: 'inboxes: +0 -0 changed 0; profiles: +0 -1 changed 0',
    },
    {
      why: 'removing a profile unfinished jobs use is refused',
      next: configOn('/srv', { a: copy }, [{ name: 'a', profile: 'a' }]),
      unfinished: { b: 2 },
      problems: ['profiles.b: got nothing, expected the profile kept while 2 unfinished jobs use it (let them finish or cancel them, then remove it)'],
      restart: [],
      summary: 'inboxes: +0 -0 changed 0; profiles: +0 -1 changed 0',
    },
    {
      why: 'other sections are named as needing a restart',
      next: configOn('/srv', { a: copy, b: copy }, [{ name: 'a', profile: 'b' }], { jobs: { stopDeadlineSeconds: 5 }, server: { port: 7000 } }),
      unfinished: {},
      problems: [],
      restart: ['server', 'jobs'],
      summary: 'inboxes: +0 -0 changed 1; profiles: +0 -0 changed 0',
    },
  ])('$why', ({ next, unfinished, problems, restart, summary }) => {
    const plan = planReload(current, next, new Map(Object.entries(unfinished)));
    expect(plan.problems).toEqual(problems);
    expect(plan.restartNeeded).toEqual(restart);
    expect(plan.summary).toBe(summary);
    // Only profiles and inboxes are taken; everything else stays as it runs.
    expect(plan.config.jobs).toEqual(current.jobs);
    expect(plan.config.profiles).toEqual(next.profiles);
    expect(plan.config.inboxes).toEqual(next.inboxes);
  });
});

describe('agent.reload', () => {
  it('watches an added inbox, stops watching a removed one, and leaves a running job alone', async () => {
    t = await startTestAgent({ profiles: { copy, held: held('') } });
    const dir = t.dir;
    const release = path.join(dir, 'release');
    // The running config, as the agent parsed it, with the held job's release file.
    const start = configOn(dir, { copy, held: held(release) }, [{ name: 'copy', profile: 'copy' }, { name: 'held', profile: 'held' }]);
    await t.agent.reload(start);

    drop(t.inbox('held'), 'long.txt');
    const heldId = await t.waitForClaim('long.txt');
    await t.waitForStatus(heldId, ['RUNNING']);

    const next = configOn(dir, { copy, held: held(release) }, [{ name: 'held', profile: 'held' }, { name: 'added', profile: 'copy' }]);
    fs.mkdirSync(path.join(dir, 'inbox', 'added'));
    const plan = await t.agent.reload(next);
    expect(plan.summary).toBe('inboxes: +1 -1 changed 0; profiles: +0 -0 changed 0');
    expect(t.agent.intake.status().map((s) => path.basename(s.path))).toEqual(['held', 'added']);
    expect(t.agent.config.inboxes.map((i) => path.basename(i.path))).toEqual(['held', 'added']);
    // The outbox of the new inbox is made at once.
    expect(fs.existsSync(path.join(dir, 'outbox', 'added'))).toBe(true);

    drop(path.join(dir, 'inbox', 'added'), 'new.txt');
    const newId = await t.waitForClaim('new.txt');
    const finished = await t.waitForStatus(newId, ['COMPLETED']);
    expect(fs.readFileSync(finished.outputs[0]!.path, 'utf8')).toBe('content of new.txt\n');

    // The held job ran through the reload on its first attempt.
    expect((await t.agent.jobs.get(heldId))!.status).toBe('RUNNING');
    fs.writeFileSync(release, '');
    const longJob = await t.waitForStatus(heldId, ['COMPLETED']);
    expect(longJob.attempts).toBe(1);
    expect(fs.readFileSync(longJob.outputs[0]!.path, 'utf8')).toBe('content of long.txt\n');
  });

  it('refuses to drop a profile that pending jobs need, and keeps the running config', async () => {
    t = await startTestAgent({ profiles: { copy, other: copy } });
    await t.agent.jobs.pauseQueue();
    drop(t.inbox('copy'), 'waits.txt');
    const id = await t.waitForClaim('waits.txt');
    expect((await t.agent.jobs.get(id))!.status).toBe('PENDING');
    const before = t.agent.config;

    const next = configOn(t.dir, { other: copy }, [{ name: 'other', profile: 'other' }]);
    await expect(t.agent.reload(next)).rejects.toThrow(/^profiles\.copy: got nothing, expected the profile kept while 1 unfinished job uses it/);
    expect(t.agent.config).toBe(before);
    expect(t.agent.intake.status().map((s) => path.basename(s.path))).toEqual(['copy', 'other']);

    // Still working on the old config.
    await t.agent.jobs.resumeQueue();
    await t.waitForStatus(id, ['COMPLETED']);
  });
});
