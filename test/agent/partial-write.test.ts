/**
 * Partial writes: a file written slowly, in chunks, over longer than the
 * stability window is taken only once it is complete: the claim comes after
 * the last write and records the whole size, and the job runs on the whole
 * file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeMedia } from '../../agent/media/ffprobe.js';
import { getMediaTools, makeClip } from '../helpers/media.js';
import { listFiles, startTestAgent, type TestAgent } from '../helpers/test-agent.js';

const CHUNKS = 10;
const CHUNK_PAUSE_MS = 200; // 10 chunks over 2 s, against a 0.5 s stability window

describe('a file written slowly in chunks', () => {
  let t: TestAgent;
  let ffprobe: string;
  let bytes: Buffer;
  let fullSeconds: number;

  beforeAll(async () => {
    ffprobe = (await getMediaTools()).ffprobe.path;
    t = await startTestAgent(
      { profiles: { web: { kind: 'transcode', encoder: 'cpu', video: { codec: 'h264', preset: 'ultrafast', crf: 30 }, audio: { codec: 'aac', bitrateKbps: 64 } } } },
      { inboxDefaults: { stableSeconds: 0.5 } },
    );
    // Matroska: every prefix of it is readable media, so taking it early would not fail, it would be wrong.
    const made = path.join(t.dir, 'source.mkv');
    await makeClip(made, { seconds: 3 });
    bytes = fs.readFileSync(made);
    fullSeconds = (await probeMedia(ffprobe, made)).durationSeconds!;
  });
  afterAll(() => t?.stop());

  /** Writes `bytes` to `file` in CHUNKS parts, CHUNK_PAUSE_MS apart; resolves with the time of the last write. */
  async function writeSlowly(file: string, mode: 'reopen' | 'held'): Promise<number> {
    const size = Math.ceil(bytes.length / CHUNKS);
    const fd = mode === 'held' ? fs.openSync(file, 'w') : null;
    let lastWrite = 0;
    for (let i = 0; i < CHUNKS; i++) {
      if (i > 0) await sleep(CHUNK_PAUSE_MS); // the writer's pace, not a wait for the agent
      const chunk = bytes.subarray(i * size, Math.min(bytes.length, (i + 1) * size));
      if (fd === null) fs.appendFileSync(file, chunk);
      else fs.writeSync(fd, chunk);
      lastWrite = Date.now();
    }
    if (fd !== null) fs.closeSync(fd);
    return lastWrite;
  }

  it.each([
    ['reopened for each chunk (a script appending)', 'reopen', 'appended.mkv'],
    ['held open between chunks (a slow copy)', 'held', 'copied.mkv'],
  ] as const)('%s: claimed only after the last write, with the full size', async (_, mode, name) => {
    let claimedAt = 0;
    const claimed = t.next('intake:claimed', (e) => path.basename(e.path) === name, 30_000).then((e) => {
      claimedAt = Date.now();
      return e.jobId;
    });
    const lastWrite = await writeSlowly(path.join(t.inbox('web'), name), mode);
    const id = await claimed;
    expect(claimedAt).toBeGreaterThanOrEqual(lastWrite);

    const job = await t.waitForStatus(id, ['COMPLETED', 'FAILED', 'CANCELLED']);
    expect(job.status, job.error ?? '').toBe('COMPLETED');
    expect(job.sizeBytes).toBe(bytes.length);
    expect(job.attempts).toBe(1);
    // The job ran on the whole file: the output is as long as the input.
    const info = await probeMedia(ffprobe, job.outputs[0]!.path);
    expect(Math.abs(info.durationSeconds! - fullSeconds)).toBeLessThan(0.25);
    expect(fs.readFileSync(path.join(t.inbox('web'), 'done', name)).equals(bytes)).toBe(true);
  });

  it('leaves only the finished sources in the inbox', () => {
    expect(listFiles(t.inbox('web'))).toEqual(['done/appended.mkv', 'done/copied.mkv']);
  });
});
