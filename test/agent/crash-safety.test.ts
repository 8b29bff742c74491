/**
 * Crash safety: the agent as a real child process, killed with SIGKILL at
 * random moments while it transcodes, started again each time. Afterwards
 * every dropped file has ended exactly once in done/ or failed/, every
 * completed job has exactly one set of outputs, nothing temporary is left
 * behind and no process of a killed agent is still running.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { probeMedia } from '../../agent/media/ffprobe.js';
import { requireBuiltCli, startAgentProcess, type AgentProcess } from '../helpers/agent-process.js';
import { getMediaTools, makeClip } from '../helpers/media.js';
import { describeProcess, isRunning, processesMentioning, type ProcessInfo } from '../helpers/processes.js';
import { listFiles } from '../helpers/test-agent.js';

const KILLS = 3;

const PROFILES = ['web', 'thumb', 'tag'] as const;
type ProfileName = (typeof PROFILES)[number];

/**
 * A stand-in for an operator's AI tagger: it works for a while, then writes
 * its result into {outputDir} under a name of its own (with its pid, as
 * scene detectors and taggers often do). Left running by a killed agent, it
 * would write late into the staging folder of the job's next attempt.
 */
const TAGGER = [
  'const fs = require("fs");',
  'const [input, dir, base] = process.argv.slice(1);',
  'setTimeout(() => fs.writeFileSync(dir + "/" + base + "." + process.pid + ".tags.json", JSON.stringify({ input, size: fs.statSync(input).size })), 2000);',
].join(' ');

interface Drop {
  profile: ProfileName;
  name: string;
  /** Where the clip waits, complete, before it is renamed into the inbox. */
  ready: string;
  seconds: number;
}

describe('crash safety: SIGKILL at random moments, restart, finish', () => {
  let dir: string;
  let configFile: string;
  let ffprobe: string;
  let agent: AgentProcess | undefined;
  const drops: Drop[] = [];
  const runs: AgentProcess[] = [];

  const inbox = (profile: string) => path.join(dir, 'inbox', profile);
  const outbox = (profile: string) => path.join(dir, 'outbox', profile);

  beforeAll(async () => {
    requireBuiltCli();
    ffprobe = (await getMediaTools()).ffprobe.path;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-crash-'));
    for (const profile of PROFILES) fs.mkdirSync(inbox(profile), { recursive: true });
    configFile = path.join(dir, 'spool.yaml');
    fs.writeFileSync(
      configFile,
      stringify({
        appliance: { name: 'crash-test' },
        dataDir: 'data',
        server: { port: 0 },
        // ceilingPercent 100: other test files share the CPUs; the ceiling is not what this test is about.
        resources: { categories: { cpu: { concurrency: 2 } }, cpu: { ceilingPercent: 100 } },
        jobs: { killGraceSeconds: 1, stopDeadlineSeconds: 30, backoffBaseSeconds: 0.2, backoffMaxSeconds: 1 },
        profiles: {
          web: { kind: 'transcode', encoder: 'cpu', maxAttempts: 5, video: { codec: 'h264', preset: 'ultrafast', crf: 30 }, audio: { codec: 'aac', bitrateKbps: 64 } },
          thumb: { kind: 'thumbnail', maxAttempts: 5, at: '50%', width: 160, format: 'jpeg' },
          tag: { kind: 'command', maxAttempts: 5, command: [process.execPath, '-e', TAGGER, '{input}', '{outputDir}', '{outputBase}'] },
        },
        inboxes: PROFILES.map((profile) => ({ path: `inbox/${profile}`, profile, outbox: `outbox/${profile}`, stableSeconds: 0.3 })),
      }),
    );

    // A few distinct clips (1–2 s, with audio), copied to 20 names outside the inboxes.
    const sources = path.join(dir, 'sources');
    fs.mkdirSync(sources);
    const durations = [1, 1.5, 2];
    const masters = await Promise.all(
      durations.map(async (seconds) => {
        const file = path.join(sources, `master-${seconds}.mp4`);
        await makeClip(file, { seconds, width: 1280, height: 720 });
        return file;
      }),
    );
    for (let i = 1; i <= 20; i++) {
      const profile: ProfileName = i % 3 === 0 ? 'thumb' : i % 5 === 1 || i === 2 ? 'tag' : 'web';
      const name = `${{ web: 'clip', thumb: 'shot', tag: 'tagme' }[profile]} ${String(i).padStart(2, '0')}.mp4`;
      const ready = path.join(sources, name);
      fs.copyFileSync(masters[i % masters.length]!, ready);
      drops.push({ profile, name, ready, seconds: durations[i % masters.length]! });
    }
  });

  afterAll(async () => {
    if (agent && agent.child.exitCode === null && agent.child.signalCode === null) {
      agent.child.kill('SIGKILL');
      await agent.exited;
    }
    // Whatever a failed run left behind must not outlive the test.
    for (const p of dir ? processesMentioning(dir) : []) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });

  const dropBatch = (batch: Drop[]) => {
    for (const d of batch) fs.renameSync(d.ready, path.join(inbox(d.profile), d.name));
  };

  /** Starts the agent and resolves once it has reconciled and watches its inboxes. */
  const start = async () => {
    agent = startAgentProcess(configFile, { cwd: dir });
    runs.push(agent);
    const ready = await agent.waitForLine(/inbox .*inbox\/tag → /);
    return { process: agent, readyIndex: agent.lines.indexOf(ready) };
  };

  /** Attempt processes (ffmpeg, ffprobe) working on this test's files, the agent itself excluded. */
  const attemptProcesses = (exclude: number[]) => processesMentioning(dir, exclude).filter((p) => !p.argv.includes('--config'));

  it('every file ends exactly once, with one set of outputs and nothing left over', { timeout: 150_000 }, async () => {
    let { process: current, readyIndex } = await start();
    dropBatch(drops.slice(0, 10));
    const later = [drops.slice(10, 15), drops.slice(15, 20)];
    let killsDuringWork = 0;
    const killedAt: string[] = [];
    const orphanReports: string[] = [];

    for (let kill = 0; kill < KILLS; kill++) {
      // Some progress since the (re)start, then a random moment.
      await current.waitForLine(/<6>(claimed |job \S+ completed)/, { from: readyIndex + 1, timeoutMs: 60_000 });
      await sleep(300 + Math.random() * 1200);
      // Prefer a moment when an attempt's process is running; the queue may also be between jobs.
      let running: ProcessInfo[] = attemptProcesses([current.pid]);
      for (let waited = 0; running.length === 0 && waited < 3000; waited += 20) {
        await sleep(20);
        running = attemptProcesses([current.pid]);
      }
      if (running.length > 0) killsDuringWork += 1;
      killedAt.push(running.map((p) => (p.argv.includes('-e') ? 'tagger' : path.basename(p.argv[0]!))).join('+') || 'idle');

      current.child.kill('SIGKILL');
      expect((await current.exited).signal).toBe('SIGKILL');
      // Files keep arriving while the agent is down.
      const batch = later[kill];
      if (batch) dropBatch(batch);

      ({ process: current, readyIndex } = await start());
      // Reconciliation has run: what the killed agent left running must be gone by now,
      // or it would keep writing into the staging of a job that runs again.
      const survivors = running.filter((p) => isRunning(p));
      orphanReports.push(...survivors.map(describeProcess));
    }
    expect(orphanReports, 'processes of a killed agent still running after the restart').toEqual([]);
    expect(killsDuringWork, `kills that hit a running attempt (${killedAt.join(', ')})`).toBeGreaterThanOrEqual(2);

    // Let it finish: every dropped file reaches done/ or failed/.
    const finished = () =>
      PROFILES.flatMap((profile) =>
        ['done', 'failed'].flatMap((folder) => listFiles(path.join(inbox(profile), folder)).filter((n) => !n.endsWith('.error.txt'))),
      ).length;
    for (let waited = 0; finished() < drops.length; waited += 100) {
      if (waited > 90_000) throw new Error(`only ${finished()} of ${drops.length} files finished; last lines:\n${current.lines.slice(-30).join('\n')}`);
      await sleep(100);
    }

    current.child.kill('SIGTERM');
    const exit = await current.exited;
    expect(exit, current.lines.slice(-20).join('\n')).toEqual({ code: 0, signal: null });

    // Every dropped file exactly once in done/ or failed/, by name.
    for (const profile of PROFILES) {
      const expected = drops.filter((d) => d.profile === profile).map((d) => d.name).sort();
      const settled = ['done', 'failed'].flatMap((folder) => listFiles(path.join(inbox(profile), folder)).filter((n) => !n.endsWith('.error.txt')).map((n) => path.basename(n)));
      expect(settled.sort()).toEqual(expected);
      // Nothing left in the inbox itself: no file, no hidden work folder.
      expect(fs.readdirSync(inbox(profile)).filter((n) => n !== 'done' && n !== 'failed')).toEqual([]);
    }

    // The database: one job per dropped file, each with exactly one set of outputs.
    const db = new Database(path.join(dir, 'data', 'spool.db'), { readonly: true, fileMustExist: true });
    let jobs: { id: string; input_path: string; status: string; error: string | null; settle_plan: string | null; source_path: string; attempts: number }[];
    let outputs: { job_id: string; path: string; size_bytes: number }[];
    try {
      jobs = db.prepare('SELECT id, input_path, status, error, settle_plan, source_path, attempts FROM jobs').all() as typeof jobs;
      outputs = db.prepare('SELECT job_id, path, size_bytes FROM job_outputs ORDER BY job_id, seq').all() as typeof outputs;
    } finally {
      db.close();
    }
    expect(jobs.map((j) => j.input_path).sort()).toEqual(drops.map((d) => path.join(inbox(d.profile), d.name)).sort());
    expect(jobs.filter((j) => j.status !== 'COMPLETED').map((j) => `${j.input_path}: ${j.status} ${j.error ?? ''}`)).toEqual([]);
    expect(jobs.filter((j) => j.settle_plan !== null).map((j) => j.id)).toEqual([]);
    // The kills really interrupted running attempts: a restarted agent queued them again.
    const requeued = runs.flatMap((r) => r.lines).filter((l) => /was running when the agent stopped; queued again/.test(l));
    expect(requeued.length, `kills found ${killedAt.join(', ')} running`).toBeGreaterThanOrEqual(1);

    for (const job of jobs) {
      const drop = drops.find((d) => path.join(inbox(d.profile), d.name) === job.input_path)!;
      expect(job.source_path).toBe(path.join(inbox(drop.profile), 'done', drop.name));
      const mine = outputs.filter((o) => o.job_id === job.id);
      const base = drop.name.replace(/\.mp4$/, '');
      expect(mine, `outputs of ${drop.name}`).toHaveLength(1);
      const name = path.basename(mine[0]!.path);
      if (drop.profile === 'tag') expect(name).toMatch(new RegExp(`^${base}\\.\\d+\\.tags\\.json$`));
      else expect(name).toBe(`${base}${drop.profile === 'web' ? '.mp4' : '.jpg'}`);
      expect(path.dirname(mine[0]!.path)).toBe(outbox(drop.profile));
      expect(fs.statSync(mine[0]!.path).size).toBe(mine[0]!.size_bytes);
      if (drop.profile === 'web') {
        // Whole, readable media: no second writer mangled it.
        const info = await probeMedia(ffprobe, mine[0]!.path);
        expect(info.video?.codec).toBe('h264');
        expect(Math.abs((info.durationSeconds ?? 0) - drop.seconds)).toBeLessThan(0.2);
      }
    }
    // The outboxes hold exactly the recorded outputs: no duplicate such as "clip 01 (2).mp4", no hidden leftovers.
    for (const profile of PROFILES) {
      const recorded = outputs.filter((o) => path.dirname(o.path) === outbox(profile)).map((o) => path.basename(o.path)).sort();
      expect(listFiles(outbox(profile))).toEqual(recorded);
    }

    // No temporary file anywhere: staging, work area, half-written copies.
    expect(listFiles(path.join(dir, 'data', 'work'))).toEqual([]);
    expect(fs.existsSync(path.join(dir, 'data', 'work')) ? fs.readdirSync(path.join(dir, 'data', 'work')) : []).toEqual([]);
    for (const profile of PROFILES) {
      const staging = path.join(outbox(profile), '.spool-tmp');
      expect(fs.existsSync(staging) ? fs.readdirSync(staging) : []).toEqual([]);
    }
    const everything = (fs.readdirSync(dir, { recursive: true }) as string[]).filter((p) => !p.startsWith('sources'));
    expect(everything.filter((p) => (p.endsWith('.spool-tmp') && path.basename(p) !== '.spool-tmp') || p.includes('.spool-work'))).toEqual([]);
    expect(everything.filter((p) => /\(\d+\)/.test(p))).toEqual([]);

    // No process of any agent run is left: process groups were killed, not just leaders.
    expect(processesMentioning(dir).map(describeProcess)).toEqual([]);
  });
});
