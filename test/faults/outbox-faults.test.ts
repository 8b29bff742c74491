/**
 * A full and a read-only outbox: a small tmpfs mounted over it, filled (or
 * remounted read-only), then several files dropped. No job fails for good,
 * no truncated output is left, a waiting reason names the outbox and the
 * cause; once space or write access returns, every file completes by itself.
 *
 * Needs root for mount(8): run with SPOOL_TEST_MOUNTS=1 (`.ci/run` sets it).
 * With the variable set, a refused mount fails the test; without it the
 * tests are skipped and say why.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../agent/jobs/job.js';
import { probeMedia } from '../../agent/media/ffprobe.js';
import { getMediaTools } from '../helpers/media.js';
import { listFiles, makeTempDir, startTestAgent, type TestAgent } from '../helpers/test-agent.js';

const run = promisify(execFile);
const ENABLED = process.env.SPOOL_TEST_MOUNTS === '1';
// A near-lossless encode: each output (a few MB) is far bigger than its input, and than the space left.
const TRANSCODE = { kind: 'transcode', encoder: 'cpu', container: 'mkv', video: { codec: 'h264', preset: 'ultrafast', crf: 1 }, audio: { codec: 'aac', bitrateKbps: 64 } };
const FILES = 3;

if (!ENABLED) {
  describe('outbox faults', () => {
    it.skip('need SPOOL_TEST_MOUNTS=1 and root: they mount a small tmpfs over an outbox (.ci/run sets it)', () => undefined);
  });
}

describe.runIf(ENABLED)('outbox faults (tmpfs mounted over the outbox)', () => {
  let t: TestAgent;
  let ffprobe: string;
  let dir: string;
  const mounted: string[] = [];
  const finished: Job[] = [];
  /** Ids of jobs each time an attempt of theirs started. */
  const started: string[] = [];

  beforeAll(async () => {
    ffprobe = (await getMediaTools()).ffprobe.path;
    dir = makeTempDir();
    for (const name of ['full', 'readonly']) {
      const outbox = path.join(dir, 'outbox', name);
      fs.mkdirSync(outbox, { recursive: true });
      // No catch: with SPOOL_TEST_MOUNTS=1 a refused mount must fail the tests, loudly.
      await run('mount', ['-t', 'tmpfs', '-o', 'size=32m,mode=0755', `spool-test-${name}`, outbox]);
      mounted.push(outbox);
    }
    t = await startTestAgent(
      { jobs: { minFreeDiskMb: 0, backoffBaseSeconds: 1, backoffMaxSeconds: 2 }, profiles: { full: TRANSCODE, readonly: TRANSCODE } },
      { dir },
    );
    t.agent.events.on('job:finished', ({ job }) => finished.push(job));
    t.agent.events.on('job:updated', ({ job }) => {
      if (job.status === 'RUNNING') started.push(job.id);
    });
  });
  afterAll(async () => {
    await t?.stop();
    for (const outbox of mounted.reverse()) await run('umount', [outbox]);
  });

  /**
   * A 10-second clip encoded at a very low quality: its input is small (so
   * admission, which expects an output as big as the input, sends it to the
   * nearly full outbox) and its near-lossless output is a few MB, more than
   * the space left, so the encode itself runs out of space.
   */
  async function makeSmallClip(file: string): Promise<void> {
    const { ffmpeg } = await getMediaTools();
    await run(ffmpeg.path, ['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=duration=10:size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=duration=10',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '45', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '32k', '-shortest', `file:${file}`], { timeout: 60_000 });
  }

  /** Drops FILES clips into the profile's inbox; resolves with their job ids. */
  async function drop(profile: string): Promise<{ ids: string[]; seconds: number }> {
    const made = path.join(dir, `made-${profile}`);
    fs.mkdirSync(made);
    const names = Array.from({ length: FILES }, (_, i) => `${profile}-${i}.mkv`);
    await Promise.all(names.map((n) => makeSmallClip(path.join(made, n))));
    const seconds = (await probeMedia(ffprobe, path.join(made, names[0]!))).durationSeconds!;
    for (const n of names) fs.renameSync(path.join(made, n), path.join(t.inbox(profile), n));
    return { ids: await Promise.all(names.map((n) => t.waitForClaim(n))), seconds };
  }

  /** Every job completes by itself, once, with one whole output; nothing failed, nothing partial left. */
  async function expectAllComplete(profile: string, ids: string[], seconds: number) {
    const jobs = await Promise.all(ids.map((id) => t.waitForStatus(id, ['COMPLETED', 'FAILED', 'CANCELLED'], 120_000)));
    for (const job of jobs) {
      expect(job.status, job.error ?? '').toBe('COMPLETED');
      expect(job.attempts).toBe(1);
    }
    expect(finished.filter((j) => ids.includes(j.id)).map((j) => j.status)).toEqual(ids.map(() => 'COMPLETED'));
    const outbox = t.outbox(profile);
    expect(listFiles(outbox).filter((f) => f !== 'filler')).toEqual(ids.map((_, i) => `${profile}-${i}.mkv`));
    for (const file of listFiles(outbox).filter((f) => f !== 'filler')) {
      const out = (await probeMedia(ffprobe, path.join(outbox, file))).durationSeconds!;
      expect(Math.abs(out - seconds), file).toBeLessThan(0.3);
    }
    expect(listFiles(path.join(t.inbox(profile), 'failed'))).toEqual([]);
  }

  it('full: jobs wait with a reason naming the full outbox, no truncated output, and complete once space is freed', { timeout: 180_000 }, async () => {
    const outbox = t.outbox('full');
    // Leave about 1.2 MB: enough for admission to send work there, too little for any output.
    const { bavail, bsize } = fs.statfsSync(outbox);
    fs.writeFileSync(path.join(outbox, 'filler'), Buffer.alloc(bavail * bsize - 1.2 * 2 ** 20));
    const waiting = t.next('job:updated', ({ job }) => job.status === 'PENDING' && (job.waitingReason ?? '').includes(`outbox ${outbox} is full`), 60_000);
    const { ids, seconds } = await drop('full');
    const { job } = await waiting;
    expect(ids).toContain(job.id);
    expect(job.waitingReason).toMatch(/is full \(\d+(\.\d)? MB free\)/);
    expect(job.attempts).toBe(0);
    // While it is full nothing fails (an output that fitted may complete; every output is probed whole below).
    expect(finished.filter((j) => ids.includes(j.id) && j.status !== 'COMPLETED')).toEqual([]);

    fs.rmSync(path.join(outbox, 'filler'));
    await expectAllComplete('full', ids, seconds);
    expect(listFiles(path.join(outbox, '.spool-tmp'))).toEqual([]);
  });

  it('read-only: jobs wait with a reason naming the read-only outbox, and complete once it is writable again', { timeout: 180_000 }, async () => {
    const outbox = t.outbox('readonly');
    await run('mount', ['-o', 'remount,ro', outbox]);
    const waiting = t.next('job:updated', ({ job }) => job.status === 'PENDING' && (job.waitingReason ?? '').includes(`outbox ${outbox} is read-only`), 60_000);
    let ids: string[];
    let seconds: number;
    try {
      ({ ids, seconds } = await drop('readonly'));
      const { job } = await waiting;
      expect(ids).toContain(job.id);
      expect(job.attempts).toBe(0);
      expect(finished.filter((j) => ids.includes(j.id))).toEqual([]);
      // Admission sends no more work there: every job waits on the outbox, and none is started again while it stays read-only.
      const deadline = Date.now() + 30_000;
      for (;;) {
        const reasons = await Promise.all(ids.map(async (id) => (await t.agent.jobs.get(id))!.waitingReason ?? ''));
        if (reasons.every((r) => r.includes(`outbox ${outbox} is read-only; no work goes there until it can be written`))) break;
        if (Date.now() > deadline) throw new Error(`not every job waits on the read-only outbox: ${JSON.stringify(reasons)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const startsSoFar = started.filter((id) => ids.includes(id)).length;
      expect(startsSoFar).toBeLessThan(ids.length + 1);
      await new Promise((r) => setTimeout(r, 4000)); // twice the backoff the jobs were given
      expect(started.filter((id) => ids.includes(id))).toHaveLength(startsSoFar);
    } finally {
      await run('mount', ['-o', 'remount,rw', outbox]);
    }
    await expectAllComplete('readonly', ids, seconds);
  });
});
