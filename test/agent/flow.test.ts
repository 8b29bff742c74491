/**
 * The whole flow for each kind: a clip dropped into an inbox comes out of
 * the outbox, checked with ffprobe; the source ends in done/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeMedia } from '../../agent/media/ffprobe.js';
import { getMediaTools, makeClip } from '../helpers/media.js';
import { listFiles, startTestAgent, type TestAgent } from '../helpers/test-agent.js';

describe('a dropped file becomes a finished job', () => {
  let t: TestAgent;
  let ffprobe: string;

  beforeAll(async () => {
    ffprobe = (await getMediaTools()).ffprobe.path;
    t = await startTestAgent({
      profiles: {
        web: { kind: 'transcode', encoder: 'auto', video: { codec: 'h264', preset: 'ultrafast', crf: 30 }, audio: { codec: 'aac', bitrateKbps: 64 } },
        thumb: { kind: 'thumbnail', at: '50%', width: 160, format: 'jpeg' },
        webp: { kind: 'thumbnail', at: 0.5, width: 120, format: 'webp' },
        squeeze: { kind: 'target-size', targetMb: 0.15, preset: 'ultrafast', audioBitrateKbps: 32 },
        probe: { kind: 'probe' },
        tag: { kind: 'command', command: [process.execPath, '-e', 'require("fs").writeFileSync(process.argv[2] + "/" + process.argv[3] + ".tags.json", JSON.stringify({input: process.argv[1]}))', '{input}', '{outputDir}', '{outputBase}'] },
      },
      resources: { categories: { cpu: { concurrency: 2 } } },
    });
  });
  afterAll(() => t?.stop());

  async function drop(profile: string, name: string, seconds = 2) {
    const staging = path.join(t.dir, `src-${profile}-${name}`);
    await makeClip(staging, { seconds });
    fs.renameSync(staging, path.join(t.inbox(profile), name));
    const id = await t.waitForClaim(name);
    return t.waitForStatus(id, ['COMPLETED', 'FAILED']);
  }

  it('transcode: H.264 + AAC MP4 of the same duration', async () => {
    const job = await drop('web', 'clip one.mkv', 3);
    expect(job.status, job.error ?? '').toBe('COMPLETED');
    expect(job.progress).toBe(100);
    expect(job.outputs).toHaveLength(1);
    const out = job.outputs[0]!;
    expect(out.path).toBe(path.join(t.outbox('web'), 'clip one.mp4'));
    const info = await probeMedia(ffprobe, out.path);
    expect(info.video?.codec).toBe('h264');
    expect(info.audio?.codec).toBe('aac');
    expect(info.durationSeconds).toBeGreaterThan(2.8);
    expect(info.durationSeconds).toBeLessThan(3.2);
    expect(listFiles(t.inbox('web'))).toEqual(['done/clip one.mkv']);
    expect(job.sourcePath).toBe(path.join(t.inbox('web'), 'done', 'clip one.mkv'));
    expect(job.inputPath).toBe(path.join(t.inbox('web'), 'clip one.mkv'));
  });

  it('thumbnail: a JPEG and a WebP of the requested width', async () => {
    const jpeg = await drop('thumb', 'a.mp4');
    expect(jpeg.status, jpeg.error ?? '').toBe('COMPLETED');
    const jpegInfo = await probeMedia(ffprobe, jpeg.outputs[0]!.path);
    expect(jpeg.outputs[0]!.path.endsWith('a.jpg')).toBe(true);
    expect(jpegInfo.video).toMatchObject({ codec: 'mjpeg', width: 160 });
    const webp = await drop('webp', 'b.mp4');
    expect(webp.status, webp.error ?? '').toBe('COMPLETED');
    const webpInfo = await probeMedia(ffprobe, webp.outputs[0]!.path);
    expect(webpInfo.video).toMatchObject({ codec: 'webp', width: 120 });
  });

  it('target-size: the output is at or under the target', async () => {
    const job = await drop('squeeze', 'big.mp4', 4);
    expect(job.status, job.error ?? '').toBe('COMPLETED');
    const out = job.outputs[0]!;
    expect(out.sizeBytes).toBeLessThanOrEqual(150_000);
    expect(fs.statSync(out.path).size).toBe(out.sizeBytes);
    const info = await probeMedia(ffprobe, out.path);
    expect(info.durationSeconds).toBeGreaterThan(3.5);
  });

  it('probe: ffprobe JSON is the result, no output file', async () => {
    const job = await drop('probe', 'p.mp4');
    expect(job.status).toBe('COMPLETED');
    expect(job.outputs).toEqual([]);
    const result = job.result as { streams: { codec_name: string }[]; format: { duration: string } };
    expect(result.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    expect(Number(result.format.duration)).toBeGreaterThan(1.5);
  });

  it('command: the files it leaves in {outputDir} are the outputs', async () => {
    const job = await drop('tag', 'tagme.mp4');
    expect(job.status, job.error ?? '').toBe('COMPLETED');
    expect(job.outputs.map((o) => path.basename(o.path))).toEqual(['tagme.tags.json']);
    const written = JSON.parse(fs.readFileSync(job.outputs[0]!.path, 'utf8')) as { input: string };
    expect(path.basename(written.input)).toBe('tagme.mp4');
    expect(listFiles(t.outbox('tag'))).toEqual(['tagme.tags.json']);
  });

  it('leaves no work or staging folder behind', () => {
    expect(listFiles(path.join(t.dir, 'data', 'work'))).toEqual([]);
    for (const profile of ['web', 'thumb', 'squeeze', 'tag']) {
      expect(fs.existsSync(path.join(t.outbox(profile), '.spool-tmp')) ? listFiles(path.join(t.outbox(profile), '.spool-tmp')) : []).toEqual([]);
    }
  });
});
