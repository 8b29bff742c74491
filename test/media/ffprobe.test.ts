import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyFfmpegFailure, probeMedia } from '../../agent/media/ffprobe.js';
import type { MediaTools } from '../../agent/media/locate.js';
import { AttemptError } from '../../agent/runner/process.js';
import { getMediaTools, makeClip } from '../helpers/media.js';

describe('probeMedia', () => {
  let dir: string;
  let tools: MediaTools;

  beforeAll(async () => {
    tools = await getMediaTools();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'spool-probe-'));
    await makeClip(path.join(dir, 'clip.mp4'), { seconds: 2, width: 320, height: 240, fps: 25 });
    await makeClip(path.join(dir, 'silent.mkv'), { seconds: 1, audio: false, width: 160, height: 90, fps: 10 });
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => expect.fail('expected the probe to fail'),
      (error: unknown) => {
        expect(error).toBeInstanceOf(AttemptError);
        return error as AttemptError;
      },
    );

  it('reads duration, format and the streams of a clip', async () => {
    const info = await probeMedia(tools.ffprobe.path, path.join(dir, 'clip.mp4'));
    expect(info.durationSeconds).toBeCloseTo(2, 0);
    expect(info.formatName).toContain('mp4');
    expect(info.sizeBytes).toBeGreaterThan(0);
    expect(info.video).toMatchObject({ index: 0, codec: 'h264', width: 320, height: 240, fps: 25 });
    expect(info.audio).toMatchObject({ index: 1, codec: 'aac', channels: 1 });
    expect(info.streams).toBe(2);
    expect(info.raw).toHaveProperty('format');
  });

  it('reports no audio for a silent clip', async () => {
    const info = await probeMedia(tools.ffprobe.path, path.join(dir, 'silent.mkv'));
    expect(info.audio).toBeNull();
    expect(info.video).toMatchObject({ codec: 'h264', width: 160, height: 90 });
  });

  it('calls an empty file bad input, naming it and why', async () => {
    await fs.writeFile(path.join(dir, 'empty.mp4'), '');
    const error = await failure(probeMedia(tools.ffprobe.path, path.join(dir, 'empty.mp4')));
    expect(error.kind).toBe('bad_input');
    expect(error.message).toBe('ffprobe cannot read empty.mp4: empty.mp4: Invalid data found when processing input');
  });

  it('uses the given name in messages', async () => {
    await fs.writeFile(path.join(dir, 'noise.bin'), Buffer.alloc(4096, 0x5a));
    const error = await failure(probeMedia(tools.ffprobe.path, path.join(dir, 'noise.bin'), { name: 'My clip.mov' }));
    expect(error.kind).toBe('bad_input');
    expect(error.message).toMatch(/^ffprobe cannot read My clip\.mov: /);
  });

  it('turns a timeout into a transient failure', async () => {
    const error = await failure(probeMedia(tools.ffprobe.path, path.join(dir, 'clip.mp4'), { timeoutMs: 1 }));
    expect(error).toMatchObject({ kind: 'transient', timedOut: true });
  });

  it('turns an aborted signal into a transient, cancelled failure', async () => {
    const error = await failure(probeMedia(tools.ffprobe.path, path.join(dir, 'clip.mp4'), { signal: AbortSignal.abort() }));
    expect(error).toMatchObject({ kind: 'transient', isCanceled: true });
  });

  it('calls a missing ffprobe internal', async () => {
    const error = await failure(probeMedia(path.join(dir, 'no-ffprobe'), path.join(dir, 'clip.mp4')));
    expect(error.kind).toBe('internal');
  });
});

describe('classifyFfmpegFailure', () => {
  const tail = (...lines: string[]) => ({ exitCode: 1, signal: null, stderrTail: lines });
  it.each([
    ['moov atom not found', tail('[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55d0c8a2e1c0] moov atom not found', 'file:/srv/work/a/clip.mp4: Invalid data found when processing input'), 'bad_input', 'ffmpeg cannot read the input: clip.mp4: Invalid data found when processing input'],
    ['truncated h264', tail('[h264 @ 0x5592] Invalid NAL unit size (1291 > 870).', 'Conversion failed!'), 'bad_input', 'ffmpeg cannot read the input: Invalid NAL unit size (1291 > 870).'],
    ['no codec parameters', tail('[mpegts @ 0x1] Could not find codec parameters for stream 0 (Video: h264): unspecified size'), 'bad_input', 'ffmpeg cannot read the input: Could not find codec parameters for stream 0 (Video: h264): unspecified size'],
    ['no stream to map', tail('Output file #0 does not contain any stream'), 'bad_input', 'ffmpeg cannot read the input: Output file #0 does not contain any stream'],
    ['disk full', tail('av_interleaved_write_frame(): No space left on device', 'Error writing trailer of file:/out/x.mp4: No space left on device', 'Conversion failed!'), 'transient', 'ffmpeg ran out of disk space: Error writing trailer of file:/out/x.mp4: No space left on device'],
    ['NVENC sessions used up', tail('[h264_nvenc @ 0x55] OpenEncodeSessionEx failed: incompatible client key (21): (no details)', 'Error initializing output stream 0:0 -- Error while opening encoder for output stream #0:0 - maybe incorrect parameters such as bit_rate, rate, width or height', 'Conversion failed!'), 'transient', 'ffmpeg could not use the GPU encoder: OpenEncodeSessionEx failed: incompatible client key (21): (no details)'],
    ['no GPU', tail('[h264_nvenc @ 0x55] No capable devices found'), 'transient', 'ffmpeg could not use the GPU encoder: No capable devices found'],
    ['CUDA error', tail('[AVHWDeviceContext @ 0x5] cu->cuInit(0) failed -> CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected'), 'transient', 'ffmpeg could not use the GPU encoder: cu->cuInit(0) failed -> CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected'],
    ['GPU memory', tail('[h264_nvenc @ 0x55] InitializeEncoder failed: out of memory (10)'), 'transient', 'ffmpeg ran out of memory: InitializeEncoder failed: out of memory (10)'],
    // A decode error that the machine caused is not the file's fault.
    ['decoder out of memory', tail('Error while decoding stream #0:0: Cannot allocate memory'), 'transient', 'ffmpeg ran out of memory: Error while decoding stream #0:0: Cannot allocate memory'],
    ['unknown encoder', tail('Unknown encoder \'libsvtav1\''), 'internal', "ffmpeg does not support what the profile asks for: Unknown encoder 'libsvtav1'"],
    ['unknown failure', tail('Some new message', 'Conversion failed!'), 'transient', 'ffmpeg exited with code 1: Some new message'],
    ['no stderr at all', tail(), 'transient', 'ffmpeg exited with code 1: no error message'],
  ] as const)('%s', (_name, exit, kind, message) => {
    const error = classifyFfmpegFailure({ ...exit, stderrTail: [...exit.stderrTail] }, 'ffmpeg');
    expect(error).toBeInstanceOf(AttemptError);
    expect(error.kind).toBe(kind);
    expect(error.message).toBe(message);
    expect(error.exitCode).toBe(1);
  });

  // With what ffmpeg printed about its input (a transcode reads it instead of probing first).
  const opened = (streams: number, hasVideo: boolean) => ({ input: { durationSeconds: 3, streams, hasVideo, hasAudio: streams > 0 }, name: 'a b.mkv' });
  it.each([
    ['never opened the input, unfamiliar words', tail('file:/srv/work/a/a b.mkv: End of file'), null, 'bad_input', 'ffmpeg cannot read the input: a b.mkv: End of file'],
    ['never opened the input, I/O error', tail('file:/srv/work/a/a b.mkv: Input/output error'), null, 'bad_input', 'ffmpeg cannot read the input: a b.mkv: Input/output error'],
    ['opened, then an unfamiliar failure', tail('Some new message'), opened(2, true), 'transient', 'ffmpeg exited with code 1: Some new message'],
    ['opened, no streams', tail("Stream map '0:V:0' matches no streams."), opened(0, false), 'bad_input', 'ffmpeg cannot read a b.mkv: it holds no audio or video streams'],
    ['opened, audio only', tail("Stream map '0:V:0' matches no streams.", "To ignore this, add a trailing '?' to the map."), opened(1, false), 'bad_input', 'a b.mkv has no video stream'],
    ['never opened, but the disk is full', tail('file:/srv/work/a/a b.mkv: No space left on device'), null, 'transient', 'ffmpeg ran out of disk space: a b.mkv: No space left on device'],
  ] as const)('%s', (_name, exit, input, kind, message) => {
    const error = classifyFfmpegFailure({ ...exit, stderrTail: [...exit.stderrTail] }, 'ffmpeg', input ?? { input: null, name: 'a b.mkv' });
    expect(error).toMatchObject({ kind, message, exitCode: 1 });
  });

  it('calls a process killed by a signal transient', () => {
    const error = classifyFfmpegFailure({ exitCode: null, signal: 'SIGKILL', stderrTail: ['frame=  10'] }, 'ffmpeg');
    expect(error).toMatchObject({ kind: 'transient', signal: 'SIGKILL', message: 'ffmpeg was stopped by SIGKILL (last message: frame=  10)' });
  });
});
