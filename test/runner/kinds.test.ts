import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeMedia, type MediaInfo } from '../../agent/media/ffprobe.js';
import type { MediaTools } from '../../agent/media/locate.js';
import { runKind } from '../../agent/runner/kinds/index.js';
import { formatCommand } from '../../agent/runner/kinds/run-ffmpeg.js';
import { runCommand } from '../../agent/runner/kinds/command.js';
import { runProbe } from '../../agent/runner/kinds/probe.js';
import { planVideoKbps, runTargetSize } from '../../agent/runner/kinds/target-size.js';
import { runThumbnail, thumbnailTime } from '../../agent/runner/kinds/thumbnail.js';
import { needsProbe, planTranscode, runTranscode } from '../../agent/runner/kinds/transcode.js';
import { AttemptError } from '../../agent/runner/process.js';
import { createKindHarness, makeProfile } from '../helpers/kind-harness.js';
import { getMediaTools, makeClip } from '../helpers/media.js';

let dir: string;
let tools: MediaTools;
let clip: string;
let silent: string;
let stagingCount = 0;
const execFileAsync = promisify(execFile);

beforeAll(async () => {
  tools = await getMediaTools();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'spool-kinds-'));
  clip = path.join(dir, 'clip.mp4');
  silent = path.join(dir, 'silent.mp4');
  await Promise.all([makeClip(clip, { seconds: 3, width: 320, height: 240, fps: 25 }), makeClip(silent, { seconds: 2, audio: false, fps: 25 })]);
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function staging(): Promise<string> {
  stagingCount += 1;
  const folder = path.join(dir, `staging-${stagingCount}`);
  await fs.mkdir(folder);
  return folder;
}

const probe = (file: string): Promise<MediaInfo> => probeMedia(tools.ffprobe.path, file);

async function attemptError(promise: Promise<unknown>): Promise<AttemptError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AttemptError);
    return error as AttemptError;
  }
  return expect.fail('expected the kind to fail');
}

describe('transcode', () => {
  it('encodes H.264 and AAC into MP4 at the profile width, reporting progress', async () => {
    const profile = makeProfile('transcode', { encoder: 'cpu', video: { preset: 'ultrafast', width: 160 }, audio: { bitrateKbps: 64 } });
    const h = createKindHarness({ tools, profile, inputPath: clip, stagingDir: await staging() });
    const { result, mediaSeconds } = await runTranscode(h.ctx);

    const out = await probe(path.join(h.ctx.stagingDir, 'clip.mp4'));
    expect(out.video).toMatchObject({ codec: 'h264', width: 160, height: 120 });
    expect(out.audio?.codec).toBe('aac');
    expect(out.durationSeconds).toBeCloseTo(3, 0);
    expect(mediaSeconds).toBeCloseTo(3, 0);
    expect(result).toEqual({ videoEncoder: 'libx264', audioEncoder: 'aac', container: 'mp4' });
    expect(h.progress.at(-1)?.percent).toBe(100);
    // ffmpeg's own last report, its percent taken against the duration ffmpeg printed for the input;
    // no ffprobe ran (a probe logs "input: …").
    expect(h.progress.at(-2)?.percent).toBeGreaterThan(90);
    expect(h.logs.filter((line) => line.startsWith('input: '))).toEqual([]);
    expect(h.execs).toHaveLength(1);
    expect(h.execs[0]?.args).toEqual(expect.arrayContaining(['-nostdin', '-progress', 'pipe:1', '-nostats', '-movflags', '+faststart', `file:${clip}`]));
    expect(h.logs).toContain(formatCommand(tools.ffmpeg.path, h.execs[0]!.args));
  });

  it('maps no audio from an input without any', async () => {
    const profile = makeProfile('transcode', { encoder: 'cpu', video: { preset: 'ultrafast' } });
    const h = createKindHarness({ tools, profile, inputPath: silent, stagingDir: await staging() });
    const { result, mediaSeconds } = await runTranscode(h.ctx);
    const out = await probe(path.join(h.ctx.stagingDir, 'silent.mp4'));
    expect(out.video?.codec).toBe('h264');
    expect(out.audio).toBeNull();
    expect(h.logs).toContain('the input has no audio stream; the output has none either');
    expect(result).toMatchObject({ audioEncoder: null });
    expect(mediaSeconds).toBeCloseTo(2, 1);
  });

  it('picks VP9 and Opus for WebM when the profile asks for codecs WebM cannot hold', async () => {
    const profile = makeProfile('transcode', { encoder: 'cpu', container: 'webm', video: { codec: 'h264', preset: 'ultrafast', crf: 40, width: 160 }, audio: { codec: 'aac', bitrateKbps: 48 } });
    const h = createKindHarness({ tools, profile, inputPath: clip, stagingDir: await staging() });
    await runTranscode(h.ctx);
    const out = await probe(path.join(h.ctx.stagingDir, 'clip.webm'));
    expect(out.video?.codec).toBe('vp9');
    expect(out.audio?.codec).toBe('opus');
    expect(h.logs).toEqual(expect.arrayContaining(['webm cannot hold h264 video, encoding vp9 instead', 'webm cannot hold aac audio, encoding opus instead']));
  });

  it('encodes HEVC into MKV and drops the audio when asked', async () => {
    const profile = makeProfile('transcode', { encoder: 'cpu', container: 'mkv', video: { codec: 'hevc', preset: 'ultrafast', width: 160 }, audio: { codec: 'none' } });
    const h = createKindHarness({ tools, profile, inputPath: clip, stagingDir: await staging() });
    await runTranscode(h.ctx);
    const out = await probe(path.join(h.ctx.stagingDir, 'clip.mkv'));
    expect(out.video?.codec).toBe('hevc');
    expect(out.audio).toBeNull();
  });

  const info: MediaInfo = {
    durationSeconds: 10, formatName: 'mov,mp4', sizeBytes: 1, bitRate: 1, streams: 2, raw: {},
    video: { index: 0, codec: 'h264', width: 1920, height: 1080, fps: 30 },
    audio: { index: 1, codec: 'aac', channels: 2, bitRate: 128000 },
  };
  const withEncoders = (...names: string[]): MediaTools => ({ ...tools, encoders: new Set([...tools.encoders, ...names]) });

  it('builds NVENC arguments and pins the placed GPU', () => {
    const profile = makeProfile('transcode', { encoder: 'nvenc', video: { codec: 'hevc', preset: 'veryslow', crf: 28, maxBitrateKbps: 4000 } });
    const plan = planTranscode({ profile, info: null, placement: { encoder: 'nvenc', gpuIndex: 1 }, tools: withEncoders('hevc_nvenc'), inputPath: '/in/a.mov', outputPath: '/out/a.mp4' });
    expect(plan.videoEncoder).toBe('hevc_nvenc');
    expect(plan.args.join(' ')).toBe(
      '-i file:/in/a.mov -map 0:V:0 -c:v hevc_nvenc -gpu 0 -preset p7 -rc vbr -cq 28 -b:v 0 -maxrate 4000k -bufsize 8000k -tag:v hvc1 ' +
        '-map 0:a:0? -c:a aac -b:a 128k -f mp4 -movflags +faststart file:/out/a.mp4',
    );
    expect(plan.env).toEqual({ CUDA_VISIBLE_DEVICES: '1', CUDA_DEVICE_ORDER: 'PCI_BUS_ID' });
  });

  it('plans a stream copy from the probe, and everything else without one', async () => {
    const copy = makeProfile('transcode', { encoder: 'cpu', container: 'webm', video: { codec: 'copy' }, audio: { codec: 'copy' } });
    expect(needsProbe(copy)).toBe(true);
    expect(() => planTranscode({ profile: copy, info: null, placement: { encoder: 'cpu', gpuIndex: null }, tools, inputPath: '/a', outputPath: '/b.webm' })).toThrow(/probed video/);
    const copied = planTranscode({ profile: copy, info, placement: { encoder: 'cpu', gpuIndex: null }, tools, inputPath: '/a', outputPath: '/b.webm' });
    expect(copied.notes).toEqual(['webm cannot hold h264 video, encoding vp9 instead', 'webm cannot hold aac audio, encoding opus instead']);
    expect(copied.args).toEqual(expect.arrayContaining(['0:a:0']));

    expect(needsProbe(makeProfile('transcode', { video: { codec: 'copy' } }))).toBe(true);
    expect(needsProbe(makeProfile('transcode', { audio: { codec: 'copy' } }))).toBe(true);
    expect(needsProbe(makeProfile('transcode', {}))).toBe(false);

    // An audio-only file: without a probe, ffmpeg itself finds no picture, and the job says so.
    const song = path.join(dir, 'song.m4a');
    await execFileAsync(tools.ffmpeg.path, ['-v', 'error', '-f', 'lavfi', '-i', 'sine=duration=1', '-c:a', 'aac', song]);
    const h = createKindHarness({ tools, profile: makeProfile('transcode', { encoder: 'cpu' }), inputPath: song, stagingDir: await staging() });
    const error = await attemptError(runTranscode(h.ctx));
    expect(error).toMatchObject({ kind: 'bad_input', message: 'song.m4a has no video stream', exitCode: 1 });
  });

  it.each([
    [40, 'End of file'],
    [300, 'Input/output error'],
  ])('fails as bad input on a Matroska file cut off %i bytes in, inside its header', async (bytes, words) => {
    const whole = path.join(dir, `whole-${bytes}.mkv`);
    await execFileAsync(tools.ffmpeg.path, ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=duration=1:size=160x120:rate=25', '-c:v', 'libx264', '-preset', 'ultrafast', whole]);
    const cut = path.join(dir, `cut ${bytes}.mkv`);
    await fs.writeFile(cut, (await fs.readFile(whole)).subarray(0, bytes));
    const h = createKindHarness({ tools, profile: makeProfile('transcode', { encoder: 'cpu' }), inputPath: cut, stagingDir: await staging() });
    const error = await attemptError(runTranscode(h.ctx));
    // bad_input, not transient: a file still being copied then waits as "looks incomplete" instead of using up its attempts.
    expect(error).toMatchObject({ kind: 'bad_input', message: `ffmpeg cannot read the input: cut ${bytes}.mkv: ${words}` });
  });

  it('fails as internal when ffmpeg lacks the NVENC encoder', () => {
    const profile = makeProfile('transcode', { encoder: 'nvenc' });
    const bare: MediaTools = { ...tools, encoders: new Set(['libx264', 'aac']) };
    expect(() => planTranscode({ profile, info, placement: { encoder: 'nvenc', gpuIndex: 0 }, tools: bare, inputPath: '/a', outputPath: '/b.mp4' })).toThrow(
      expect.objectContaining({ kind: 'internal', message: expect.stringMatching(/^ffmpeg has no h264_nvenc encoder/) }),
    );
  });
});

describe('thumbnail', () => {
  it.each([
    ['10%', 3, 25, 0.3],
    [1.5, 3, 25, 1.5],
    [999, 3, 25, 2.5],
    ['100%', 3, 1, 1],
    ['50%', null, null, 0],
    [4, null, null, 4],
  ] as const)('at %s of %s s (%s fps) seeks to %s s', (at, duration, fps, expected) => {
    expect(thumbnailTime(at, duration, fps)).toBe(expected);
  });

  it('writes a JPEG of the profile width at a share of the duration', async () => {
    const profile = makeProfile('thumbnail', { at: '50%', width: 160 });
    const h = createKindHarness({ tools, profile, inputPath: clip, stagingDir: await staging() });
    const { result } = await runThumbnail(h.ctx);
    const out = await probe(path.join(h.ctx.stagingDir, 'clip.jpg'));
    expect(out.video).toMatchObject({ codec: 'mjpeg', width: 160, height: 120 });
    expect(result).toMatchObject({ atSeconds: 1.5 });
    expect(h.progress.at(-1)?.percent).toBe(100);
    expect(h.execs[0]?.args.slice(6, 10)).toEqual(['-ss', '1.500', '-i', `file:${clip}`]);
  });

  it('writes a WebP even when asked for a time past the end', async () => {
    const profile = makeProfile('thumbnail', { at: 999, width: 200, format: 'webp' });
    const h = createKindHarness({ tools, profile, inputPath: clip, stagingDir: await staging() });
    await runThumbnail(h.ctx);
    expect(await fs.readdir(h.ctx.stagingDir)).toEqual(['clip.webp']);
    expect((await probe(path.join(h.ctx.stagingDir, 'clip.webp'))).video?.codec).toBe('webp');
  });
});

describe('target-size', () => {
  it.each([
    [1_000_000, 10, 96, 664],
    [10_000_000, 60, 0, 1266],
    [100_000, 10, 96, -20],
  ])('%s bytes over %s s with %s kbit/s audio leave %s kbit/s for video', (bytes, seconds, audio, expected) => {
    expect(planVideoKbps(bytes, seconds, audio)).toBe(expected);
  });

  it('squeezes the clip under the target and reports its passes', async () => {
    const profile = makeProfile('target-size', { targetMb: 0.1, preset: 'ultrafast', audioBitrateKbps: 48 });
    const h = createKindHarness({ tools, profile, inputPath: clip, stagingDir: await staging() });
    const { result } = await runTargetSize(h.ctx);
    const output = path.join(h.ctx.stagingDir, 'clip.mp4');
    const { size } = await fs.stat(output);
    expect(size).toBeLessThanOrEqual(100_000);
    const { passes, targetBytes } = result as { passes: Array<{ videoKbps: number; sizeBytes: number }>; targetBytes: number };
    expect(targetBytes).toBe(100_000);
    expect(passes.length).toBeGreaterThanOrEqual(1);
    expect(passes.at(-1)?.sizeBytes).toBe(size);
    const out = await probe(output);
    expect(out.video?.codec).toBe('h264');
    expect(out.audio?.codec).toBe('aac');
    expect(h.progress.at(-1)?.percent).toBe(100);
  });

  // A 3 s clip at ~70 kbit/s overshoots by a fifth on the first pass: the encoder's buffer fills at the start.
  it('encodes again with less bitrate when a pass comes out over the target', async () => {
    const profile = makeProfile('target-size', { targetMb: 0.05, preset: 'ultrafast', audioBitrateKbps: 48 });
    const h = createKindHarness({ tools, profile, inputPath: clip, stagingDir: await staging() });
    const { result } = await runTargetSize(h.ctx);
    const { passes } = result as { passes: Array<{ videoKbps: number; sizeBytes: number }> };
    expect(passes.length).toBeGreaterThanOrEqual(2);
    expect(passes[1]!.videoKbps).toBeLessThan(passes[0]!.videoKbps);
    expect(passes[0]!.sizeBytes).toBeGreaterThan(50_000);
    expect(passes.at(-1)!.sizeBytes).toBeLessThanOrEqual(50_000);
    expect(h.logs).toContain(`pass 1: ${Number((passes[0]!.sizeBytes / 1e6).toPrecision(3))} MB is over 0.05 MB; trying ${passes[1]!.videoKbps} kbit/s`);
    const percents = h.progress.map((p) => p.percent ?? 0);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
  });

  it('fails as bad input when the audio alone is over the target', async () => {
    const profile = makeProfile('target-size', { targetMb: 0.01, audioBitrateKbps: 96 });
    const h = createKindHarness({ tools, profile, inputPath: clip, stagingDir: await staging() });
    const error = await attemptError(runTargetSize(h.ctx));
    expect(error.kind).toBe('bad_input');
    expect(error.message).toMatch(/^cannot squeeze clip\.mp4 under 0\.01 MB: its 3\.0 s of audio at 96 kbit\/s alone take 0\.036 MB$/);
    expect(h.execs).toHaveLength(0);
  });
});

describe('probe', () => {
  it('gives ffprobe\'s JSON as the result and writes nothing', async () => {
    const h = createKindHarness({ tools, profile: makeProfile('probe'), inputPath: clip, stagingDir: await staging() });
    const { result, mediaSeconds } = await runKind(h.ctx);
    expect(result).toMatchObject({ streams: [{ codec_name: 'h264' }, { codec_name: 'aac' }], format: { nb_streams: 2 } });
    expect(mediaSeconds).toBeCloseTo(3, 0);
    expect(h.progress).toEqual([{ percent: 100, fps: null, speed: null, etaSeconds: 0 }]);
    expect(await fs.readdir(h.ctx.stagingDir)).toEqual([]);
  });
});

describe('command', () => {
  const script = [
    "const fs = require('node:fs');",
    "console.log('hello from the tagger');",
    "console.log('progress=50');",
    "console.log('PROGRESS: 75%');",
    "const out = process.argv.find((a) => a.startsWith('--out=')).slice(6);",
    "fs.writeFileSync(out, process.argv[1] + ' ' + process.env.TAGGER_MODE);",
  ].join('\n');

  it('fills placeholders inside arguments, passes env, and reads progress lines', async () => {
    const profile = makeProfile('command', { command: [process.execPath, '-e', script, '{input}', '--out={outputDir}/{outputBase}.tags.txt'], env: { TAGGER_MODE: 'fast' } });
    const h = createKindHarness({ tools, profile, inputPath: clip, stagingDir: await staging() });
    await runCommand(h.ctx);
    expect(await fs.readFile(path.join(h.ctx.stagingDir, 'clip.tags.txt'), 'utf8')).toBe(`${clip} fast`);
    expect(h.progress.map((p) => p.percent)).toEqual([50, 75, 100]);
    expect(h.logs).toContain('hello from the tagger');
  });

  it('fails transient with the exit code and the last stderr line', async () => {
    const profile = makeProfile('command', { command: [process.execPath, '-e', "console.error('model not loaded'); process.exit(3)"] });
    const h = createKindHarness({ tools, profile, inputPath: clip, stagingDir: await staging() });
    const error = await attemptError(runCommand(h.ctx));
    expect(error).toMatchObject({ kind: 'transient', exitCode: 3, message: 'command exited with code 3: model not loaded' });
  });

  it('fails transient when the program is killed by a signal', async () => {
    const profile = makeProfile('command', { command: [process.execPath, '-e', "process.kill(process.pid, 'SIGKILL')"] });
    const h = createKindHarness({ tools, profile, inputPath: clip, stagingDir: await staging() });
    const error = await attemptError(runCommand(h.ctx));
    expect(error).toMatchObject({ kind: 'transient', signal: 'SIGKILL', message: 'command was stopped by SIGKILL' });
  });
});

describe('inputs', () => {
  it.each([
    ['random bytes', 'noise.mp4', Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 7919 + (i >> 3) * 31) & 0xff))],
    ['an empty file', 'empty.mp4', Buffer.alloc(0)],
  ])('%s named .mp4 fail as bad input, naming the file', async (_name, fileName, bytes) => {
    const input = path.join(dir, fileName);
    await fs.writeFile(input, bytes);
    const name = fileName.replace('.', '\\.');
    // A thumbnail probes first (it needs the duration to pick its frame) and starts no ffmpeg.
    const thumb = createKindHarness({ tools, profile: makeProfile('thumbnail'), inputPath: input, stagingDir: await staging() });
    const probeError = await attemptError(runKind(thumb.ctx));
    expect(probeError.kind).toBe('bad_input');
    expect(probeError.message).toMatch(new RegExp(`^ffprobe cannot read ${name}: `));
    expect(thumb.execs).toHaveLength(0);
    // A transcode starts ffmpeg at once, which fails on opening the input before it writes anything.
    const transcodeStaging = await staging();
    const transcode = createKindHarness({ tools, profile: makeProfile('transcode', { encoder: 'cpu' }), inputPath: input, stagingDir: transcodeStaging });
    const ffmpegError = await attemptError(runKind(transcode.ctx));
    expect(ffmpegError.kind).toBe('bad_input');
    expect(ffmpegError.message).toMatch(new RegExp(`^ffmpeg cannot read the input: ${name}: Invalid data found`));
    expect(transcode.execs).toHaveLength(1);
    expect(await fs.readdir(transcodeStaging)).toEqual([]);
  });

  it.each(['-rf.mp4', 'concat:a.mp4|b.mp4', 'http:x.mp4'])('%s is read as a plain file', async (fileName) => {
    const input = path.join(dir, fileName);
    await fs.copyFile(clip, input);
    const profile = makeProfile('transcode', { encoder: 'cpu', video: { codec: 'copy' }, audio: { codec: 'copy' } });
    const h = createKindHarness({ tools, profile, inputPath: input, stagingDir: await staging() });
    await runTranscode(h.ctx);
    const out = await probe(path.join(h.ctx.stagingDir, fileName));
    expect(out.video?.codec).toBe('h264');
    expect(out.durationSeconds).toBeCloseTo(3, 0);
  });
});

describe('cancellation', () => {
  it('ends ffmpeg when the signal is aborted mid-transcode', async () => {
    const long = path.join(dir, 'long.mp4');
    await makeClip(long, { seconds: 8, width: 640, height: 480 });
    const profile = makeProfile('transcode', { encoder: 'cpu', video: { preset: 'veryslow' } });
    const h = createKindHarness({ tools, profile, inputPath: long, stagingDir: await staging() });
    h.onProgress = () => h.controller.abort();
    const error = await attemptError(runTranscode(h.ctx));
    expect(error).toMatchObject({ kind: 'cancelled', isCanceled: true });
    expect(h.progress[0]?.percent).toBeLessThan(100);
    const pid = h.execs[0]?.pid ?? -1;
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  });

  it('starts nothing when the signal is already aborted', async () => {
    const h = createKindHarness({ tools, profile: makeProfile('transcode'), inputPath: clip, stagingDir: await staging() });
    h.controller.abort();
    await expect(runTranscode(h.ctx)).rejects.toMatchObject({ kind: 'cancelled', isCanceled: true });
    expect(h.execs).toHaveLength(0);
  });
});
