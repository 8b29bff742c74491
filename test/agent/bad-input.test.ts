/**
 * Bad input: files an operator (or a script, or a confused sync tool) may
 * drop. Each ends with a clear outcome: a completed job, a failure with a
 * readable reason beside the source in failed/, or a refusal that leaves the
 * entry untouched. Nothing dropped is lost, nothing outside the inbox is
 * touched, and no name is ever read as an option, a protocol or shell.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../agent/jobs/job.js';
import { probeMedia } from '../../agent/media/ffprobe.js';
import { getMediaTools, makeClip } from '../helpers/media.js';
import { listFiles, startTestAgent, type TestAgent } from '../helpers/test-agent.js';

const TRANSCODE = { kind: 'transcode', encoder: 'cpu', video: { codec: 'h264', preset: 'ultrafast', crf: 30 }, audio: { codec: 'aac', bitrateKbps: 64 } };

/** Rows of jobs whose input was `inputPath` (there must be none for a refused entry). */
async function jobsFor(t: TestAgent, inputPath: string) {
  return t.agent.database.db.selectFrom('jobs').select(['id', 'status']).where('input_path', '=', inputPath).execute();
}

/** Every path under `root` whose last part is `name`. */
function findNamed(root: string, name: string): string[] {
  if (!fs.existsSync(root)) return [];
  return (fs.readdirSync(root, { recursive: true }) as string[]).filter((p) => path.basename(p) === name).map((p) => path.join(root, p));
}

describe('bad input: each file ends with a clear outcome', () => {
  let t: TestAgent;
  let ffprobe: string;
  /** Files outside the inboxes, made before the drops. */
  let outside: string;

  beforeAll(async () => {
    ffprobe = (await getMediaTools()).ffprobe.path;
    t = await startTestAgent(
      {
        profiles: { web: TRANSCODE, slow: TRANSCODE },
        resources: { categories: { cpu: { concurrency: 2 } } },
        inboxes: [
          // incompleteGraceSeconds 0: a broken file fails at once instead of waiting for a writer.
          { path: 'inbox/web', profile: 'web', outbox: 'outbox/web', stableSeconds: 0.3, incompleteGraceSeconds: 0 },
          { path: 'inbox/slow', profile: 'slow', outbox: 'outbox/slow', stableSeconds: 1 },
        ],
      },
    );
    outside = path.join(t.dir, 'outside');
    fs.mkdirSync(outside);
  });
  afterAll(() => t?.stop());

  /** Puts `file` (made outside) into the web inbox complete, as `name`, and waits for its job to end. */
  async function dropComplete(file: string, name: string): Promise<Job> {
    fs.renameSync(file, path.join(t.inbox('web'), name));
    const id = await t.waitForClaim(name);
    return t.waitForStatus(id, ['COMPLETED', 'FAILED', 'CANCELLED']);
  }

  async function expectBadInput(name: string, content: Buffer) {
    const made = path.join(outside, `made-${name}`);
    fs.writeFileSync(made, content);
    const job = await dropComplete(made, name);
    expect(job.status).toBe('FAILED');
    expect(job.errorKind).toBe('bad_input');
    // One attempt: bad input is not retried.
    expect(job.attempts).toBe(1);
    const failed = path.join(t.inbox('web'), 'failed', name);
    expect(job.sourcePath).toBe(failed);
    // The source is kept byte for byte, with a reason in words beside it.
    expect(fs.readFileSync(failed).equals(content)).toBe(true);
    const why = fs.readFileSync(`${failed}.error.txt`, 'utf8');
    expect(why).toContain(name);
    expect(why).toMatch(/Why: +(ffprobe cannot read|ffmpeg cannot read the input:) .+: .*(invalid data|moov atom)/i);
    expect(why).toMatch(/not retried/);
    expect(job.outputs).toEqual([]);
  }

  it('an empty file fails as bad input, kept in failed/ with a readable .error.txt', async () => {
    await expectBadInput('empty.mp4', Buffer.alloc(0));
  });

  it('random bytes named .mp4 fail the same way', async () => {
    await expectBadInput('random.mp4', randomBytes(64 * 1024));
  });

  it('a name with spaces, quotes, unicode and $(touch pwned) completes, and no shell ever runs', async () => {
    const name = `it's "my" clip é 🎬 $(touch pwned).mp4`;
    const made = path.join(outside, 'nasty.mp4');
    await makeClip(made, { seconds: 1 });
    const job = await dropComplete(made, name);
    expect(job.status, job.error ?? '').toBe('COMPLETED');
    expect(job.outputs.map((o) => o.path)).toEqual([path.join(t.outbox('web'), name)]);
    const info = await probeMedia(ffprobe, job.outputs[0]!.path);
    expect(info.video?.codec).toBe('h264');
    expect(job.sourcePath).toBe(path.join(t.inbox('web'), 'done', name));
    for (const where of [process.cwd(), t.dir, t.inbox('web'), t.outbox('web'), path.dirname(t.dir)]) {
      expect(fs.existsSync(path.join(where, 'pwned')), `pwned in ${where}`).toBe(false);
    }
    expect(findNamed(t.dir, 'pwned')).toEqual([]);
  });

  it('a name starting with "-" and one shaped like concat:a.mp4|b.mp4 are plain files', async () => {
    // If either name were read as an option or a protocol, ffmpeg would fail or read other files.
    const dash = path.join(outside, 'dash.mp4');
    const concat = path.join(outside, 'concat.mp4');
    await Promise.all([makeClip(dash, { seconds: 1 }), makeClip(concat, { seconds: 3 })]);
    const [dashJob, concatJob] = await Promise.all([dropComplete(dash, '-rf.mp4'), dropComplete(concat, 'concat:a.mp4|b.mp4')]);

    expect(dashJob.status, dashJob.error ?? '').toBe('COMPLETED');
    expect(dashJob.outputs.map((o) => o.path)).toEqual([path.join(t.outbox('web'), '-rf.mp4')]);
    expect(fs.existsSync(path.join(t.inbox('web'), 'done', '-rf.mp4'))).toBe(true);

    expect(concatJob.status, concatJob.error ?? '').toBe('COMPLETED');
    expect(concatJob.outputs.map((o) => o.path)).toEqual([path.join(t.outbox('web'), 'concat:a.mp4|b.mp4')]);
    const info = await probeMedia(ffprobe, concatJob.outputs[0]!.path);
    expect(info.durationSeconds).toBeGreaterThan(2.8);
    expect(info.durationSeconds).toBeLessThan(3.2);
  });

  it('a symlink to a file outside the inbox is refused and left untouched', async () => {
    const target = path.join(outside, 'secret.mp4');
    await makeClip(target, { seconds: 1 });
    const before = fs.statSync(target);
    const link = path.join(t.inbox('web'), 'link.mp4');
    const refused = t.next('intake:refused', (e) => e.path === link);
    fs.symlinkSync(target, link);
    const { reason } = await refused;
    expect(reason).toMatch(/outside/);
    // A later look (the periodic rescan) does not take it either.
    await t.agent.intake.rescan();
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(fs.readlinkSync(link)).toBe(target);
    const after = fs.statSync(target);
    expect([after.size, after.mtimeMs, after.ino]).toEqual([before.size, before.mtimeMs, before.ino]);
    expect(await jobsFor(t, link)).toEqual([]);
    expect(await jobsFor(t, target)).toEqual([]);
  });

  it('a directory dropped into the inbox is refused with a reason and left untouched', async () => {
    const folder = path.join(t.inbox('web'), 'holiday clips');
    const refused = t.next('intake:refused', (e) => e.path === folder);
    fs.mkdirSync(path.join(outside, 'holiday clips'));
    fs.writeFileSync(path.join(outside, 'holiday clips', 'inside.mp4'), 'x');
    fs.renameSync(path.join(outside, 'holiday clips'), folder);
    const { reason } = await refused;
    expect(reason).toMatch(/directory/);
    await t.agent.intake.rescan();
    expect(fs.statSync(folder).isDirectory()).toBe(true);
    expect(fs.readdirSync(folder)).toEqual(['inside.mp4']);
    expect(await jobsFor(t, folder)).toEqual([]);
    expect(await jobsFor(t, path.join(folder, 'inside.mp4'))).toEqual([]);
  });

  it('a file appended to after a 5-second pause is never processed as half a file', { timeout: 60_000 }, async () => {
    // Matroska, because half of one is still readable media: processing it early would "succeed".
    const made = path.join(outside, 'whole.mkv');
    await makeClip(made, { seconds: 4 });
    const bytes = fs.readFileSync(made);
    const whole = await probeMedia(ffprobe, made);
    const name = 'growing.mkv';
    const target = path.join(t.inbox('slow'), name);

    // A copy that stalls half-way (a slow network share), then goes on through the same open file.
    const fd = fs.openSync(target, 'w');
    const half = Math.floor(bytes.length / 2);
    fs.writeSync(fd, bytes, 0, half);
    await sleep(5000); // the writer's pause: five stability windows
    fs.writeSync(fd, bytes, half, bytes.length - half);
    fs.closeSync(fd);
    const writtenAt = Date.now();

    const id = await t.waitForClaim(name);
    let job = await t.waitForStatus(id, ['COMPLETED', 'FAILED', 'CANCELLED'], 30_000);
    expect(job.status, job.error ?? '').toBe('COMPLETED');
    // Finished on the whole file: after the last write, with the whole size, the whole duration.
    expect(job.finishedAt!).toBeGreaterThanOrEqual(writtenAt);
    expect(job.sizeBytes).toBe(bytes.length);
    job = (await t.agent.jobs.get(id))!;
    const info = await probeMedia(ffprobe, job.outputs[0]!.path);
    expect(Math.abs(info.durationSeconds! - whole.durationSeconds!)).toBeLessThan(0.25);
    expect(fs.readFileSync(path.join(t.inbox('slow'), 'done', name)).equals(bytes)).toBe(true);
    expect(listFiles(t.inbox('slow'))).toEqual([`done/${name}`]);
  });

  it('nothing is left in the work area, the staging folders or the inbox roots', () => {
    expect(listFiles(path.join(t.dir, 'data', 'work'))).toEqual([]);
    expect(listFiles(path.join(t.outbox('web'), '.spool-tmp'))).toEqual([]);
    // Only the refused entries stay where they were dropped.
    expect(fs.readdirSync(t.inbox('web')).sort()).toEqual(['done', 'failed', 'holiday clips', 'link.mp4']);
  });
});

describe('2,000 small files dropped at once', () => {
  let t: TestAgent;
  afterAll(() => t?.stop());

  it('every one reaches a final state exactly once', { timeout: 180_000 }, async () => {
    const COUNT = 2000;
    t = await startTestAgent({
      // /bin/true leaves no file in {outputDir}: each job completes with no outputs, fast.
      profiles: { many: { kind: 'command', command: [fs.existsSync('/bin/true') ? '/bin/true' : '/usr/bin/true'] } },
      resources: { categories: { cpu: { concurrency: 8 } } },
    });
    const inbox = t.inbox('many');
    const ready = path.join(t.dir, 'ready');
    fs.mkdirSync(ready);
    const names = Array.from({ length: COUNT }, (_, i) => `small-${String(i).padStart(4, '0')}.bin`);
    for (const name of names) fs.writeFileSync(path.join(ready, name), name);

    const finished = new Map<string, number>();
    let resolveAll: () => void;
    const all = new Promise<void>((resolve) => (resolveAll = resolve));
    t.agent.events.on('job:finished', ({ job }) => {
      finished.set(job.inputPath, (finished.get(job.inputPath) ?? 0) + 1);
      if (finished.size === COUNT) resolveAll();
    });
    for (const name of names) fs.renameSync(path.join(ready, name), path.join(inbox, name));
    await all;

    expect([...finished.values()].every((n) => n === 1)).toBe(true);
    const rows = await t.agent.database.db.selectFrom('jobs').select(['input_path', 'status']).execute();
    expect(rows).toHaveLength(COUNT);
    expect(new Set(rows.map((r) => r.input_path)).size).toBe(COUNT);
    expect(rows.filter((r) => r.status !== 'COMPLETED')).toEqual([]);
    const settled = [...listFiles(path.join(inbox, 'done')), ...listFiles(path.join(inbox, 'failed'))];
    expect(settled.sort()).toEqual(names);
    expect(fs.readdirSync(inbox)).toEqual(['done']);
    expect(listFiles(path.join(t.dir, 'data', 'work'))).toEqual([]);
  });
});
