/**
 * A network copy that stalls half-way for longer than the stability window,
 * then goes on through the same open file. The agent claims the half file
 * (nothing can tell a paused remote writer from a finished one) and must notice
 * from the result instead: half a Matroska file transcodes "successfully" to
 * half an output (its header declares the full duration), half an MP4 with
 * its index at the end cannot be read at all. Either way the job waits with
 * "file looks incomplete", uses up no attempt, and runs on the whole file
 * once the writer is done. A file nobody finishes is bad input once the
 * grace has run out.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../agent/jobs/job.js';
import { probeMedia } from '../../agent/media/ffprobe.js';
import { getMediaTools, makeClip } from '../helpers/media.js';
import { listFiles, makeTempDir, startTestAgent, type TestAgent } from '../helpers/test-agent.js';

const TRANSCODE = { kind: 'transcode', encoder: 'cpu', container: 'mkv', video: { codec: 'h264', preset: 'ultrafast', crf: 30 }, audio: { codec: 'aac', bitrateKbps: 64 } };

let t: TestAgent;
let ffprobe: string;
let made: string;

beforeAll(async () => {
  ffprobe = (await getMediaTools()).ffprobe.path;
  made = makeTempDir();
  t = await startTestAgent({
    profiles: { web: TRANSCODE, strict: TRANSCODE },
    inboxes: [
      // incompleteGraceSeconds left at its default (60 s): the pause below is far shorter.
      { path: 'inbox/web', profile: 'web', outbox: 'outbox/web', stableSeconds: 0.5 },
      { path: 'inbox/strict', profile: 'strict', outbox: 'outbox/strict', stableSeconds: 0.5, incompleteGraceSeconds: 3 },
    ],
  });
});
afterAll(() => t?.stop());

/** Every state the job passed through, from its job:updated events. */
function history(id: () => string | undefined): Job[] {
  const seen: Job[] = [];
  t.agent.events.on('job:updated', ({ job }) => {
    if (job.id === id()) seen.push(job);
  });
  return seen;
}

describe.each([
  // Matroska writes its duration into the header: half of it is readable media that ffmpeg transcodes to half an output, exit 0.
  ['Matroska', 'stalled-matroska.mkv', /short/],
  // ffmpeg writes an MP4's index (moov) at the end unless told +faststart: half of it cannot be opened until the last byte lands.
  ['MP4 with its index at the end', 'stalled-index-at-end.mp4', /cannot read|moov atom|invalid data/i],
])('a copy of a %s that stalls half-way', (_, name, why) => {
  it('waits as "file looks incomplete", then completes on the whole file with no attempt used up', { timeout: 90_000 }, async () => {
    const source = path.join(made, `whole-${name}`);
    await makeClip(source, { seconds: 4 });
    const bytes = fs.readFileSync(source);
    const whole = (await probeMedia(ffprobe, source)).durationSeconds!;
    let id: string | undefined;
    const states = history(() => id);
    const finished: Job[] = [];
    t.agent.events.on('job:finished', ({ job }) => job.id === id && finished.push(job));

    // A writer on another machine (an NFS or SMB client) holds no descriptor this box can see in /proc, and its
    // handle follows the file's inode wherever the agent moves it. A hard link outside the inbox plays that handle.
    const half = Math.floor(bytes.length / 2);
    const dropped = path.join(t.inbox('web'), name);
    const handle = path.join(made, `handle-${name}`);
    fs.writeFileSync(dropped, bytes.subarray(0, half));
    fs.linkSync(dropped, handle);
    id = await t.waitForClaim(name);
    // The writer's pause lasts until the agent has run on the half file and said why it waits (far past the 0.5 s window).
    const waiting = await t.next('job:updated', ({ job }) => job.id === id && job.status === 'PENDING' && /^file looks incomplete: /.test(job.waitingReason ?? ''), 60_000);
    expect(waiting.job.waitingReason).toMatch(why);
    expect(waiting.job.attempts).toBe(0);
    expect(listFiles(t.outbox('web')).filter((f) => f.includes(path.parse(name).name))).toEqual([]);
    fs.appendFileSync(handle, bytes.subarray(half));
    const writtenAt = Date.now();

    const job = await t.waitForStatus(id, ['COMPLETED', 'FAILED', 'CANCELLED'], 60_000);
    expect(job.status, job.error ?? '').toBe('COMPLETED');
    expect(finished.map((j) => j.status)).toEqual(['COMPLETED']);
    expect(states.filter((s) => s.status === 'COMPLETED').every((s) => s.finishedAt! >= writtenAt)).toBe(true);
    expect(job.sizeBytes).toBe(bytes.length);
    expect(job.attempts).toBe(1);
    const outputs = (await t.agent.jobs.get(id))!.outputs;
    expect(outputs).toHaveLength(1);
    const out = (await probeMedia(ffprobe, outputs[0]!.path)).durationSeconds!;
    expect(Math.abs(out - whole)).toBeLessThan(0.3);
    expect(fs.readFileSync(path.join(t.inbox('web'), 'done', name)).equals(bytes)).toBe(true);
    expect(listFiles(path.join(t.inbox('web'), 'failed'))).toEqual([]);
  });
});

it('a half file nobody finishes waits out incompleteGraceSeconds, then fails as bad input with its .error.txt', { timeout: 60_000 }, async () => {
  const source = path.join(made, 'abandoned-whole.mp4');
  await makeClip(source, { seconds: 2 });
  const bytes = fs.readFileSync(source);
  const half = bytes.subarray(0, Math.floor(bytes.length / 2));
  fs.writeFileSync(path.join(t.inbox('strict'), 'abandoned.mp4'), half);
  const id = await t.waitForClaim('abandoned.mp4');
  const waiting = await t.next('job:updated', ({ job }) => job.id === id && /^file looks incomplete: /.test(job.waitingReason ?? ''), 30_000);
  expect(waiting.job.status).toBe('PENDING');

  const job = await t.waitForStatus(id, ['COMPLETED', 'FAILED', 'CANCELLED'], 30_000);
  expect(job.status).toBe('FAILED');
  expect(job.errorKind).toBe('bad_input');
  expect(job.attempts).toBe(1);
  const failed = path.join(t.inbox('strict'), 'failed', 'abandoned.mp4');
  expect(fs.readFileSync(failed).equals(half)).toBe(true);
  expect(fs.readFileSync(`${failed}.error.txt`, 'utf8')).toMatch(/Why: +.*(moov atom|invalid data)/i);
  expect(listFiles(t.outbox('strict'))).toEqual([]);
});
