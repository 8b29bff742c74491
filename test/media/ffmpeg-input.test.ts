import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createFfmpegInputReader, type FfmpegInput } from '../../agent/media/ffmpeg-input.js';
import { MAX_LINE } from '../../agent/runner/process.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/ffmpeg');

function read(lines: readonly string[]): FfmpegInput | null {
  const reader = createFfmpegInputReader();
  for (const line of lines) reader.push(line);
  return reader.input;
}
const fixture = (name: string) => fs.readFileSync(path.join(fixtures, name), 'utf8').split('\n');

describe('what ffmpeg prints about its input', () => {
  it('reads the duration and streams of an MP4, not those of the output section', () => {
    expect(read(fixture('local-ffmpeg5.1.9_input-mp4-multiline-title_stderr.txt'))).toEqual({ durationSeconds: 3, streams: 2, hasVideo: true, hasAudio: true });
  });

  it('does not count cover art as video', () => {
    expect(read(fixture('local-ffmpeg5.1.9_input-mp3-cover-art-no-video_stderr.txt'))).toEqual({ durationSeconds: 3.03, streams: 2, hasVideo: false, hasAudio: true });
  });

  it('reads only the first input, and an unknown duration as null', () => {
    // ffmpeg's stderr of a lavfi run (test/fixtures/SOURCES.md): two inputs, each "Duration: N/A".
    const lavfi = fs.readFileSync(path.join(fixtures, 'local-ffmpeg5.1.9_libx264-aac_stderr-stats_cr-separated.txt'), 'utf8');
    expect(read(lavfi.split(/\r|\n/))).toEqual({ durationSeconds: null, streams: 1, hasVideo: true, hasAudio: false });
  });

  it('takes hours and fractions, and ignores lines outside the first input', () => {
    const lines = ["Input #0, matroska,webm, from 'file:/in/a.mkv':", '  Duration: 01:02:03.45, start: 0.000000, bitrate: 900 kb/s', '  Stream #0:0: Audio: opus, 48000 Hz, stereo, fltp (default)'];
    const opus = { durationSeconds: 3723.45, streams: 1, hasVideo: false, hasAudio: true };
    expect(read(lines)).toEqual(opus);
    expect(read(['  Duration: 00:00:09.00, start: 0', '  Stream #0:0: Video: h264'])).toBeNull();
    expect(read([...lines, 'Stream mapping:', '  Duration: 00:00:01.00, start: 0', '  Stream #0:1: Video: h264'])).toEqual(opus);
  });

  // A file's own tags are printed inside the section: an MP4 whose tag names read
  // "Duration: 09:00:00.00 x" and "Stream #0:7: Audio: aac" (test/fixtures/SOURCES.md).
  it.each([
    ['ffmpeg 5.1 (streams two spaces deep)', 'local-ffmpeg5.1.9_input-forged-tags_stderr.txt'],
    ['the npm package\'s 2018 ffmpeg (streams four spaces deep)', 'npm-ffmpeg-installer-2018_input-forged-tags_stderr.txt'],
  ])('is not fooled by tags that look like its lines: %s', (_name, file) => {
    const lines = fixture(file);
    expect(lines.some((line) => line.includes('Duration: 09:00:00.00'))).toBe(true);
    expect(read(lines)).toEqual({ durationSeconds: 3, streams: 1, hasVideo: true, hasAudio: false });
  });

  it('reads the streams of an MPEG-TS program, past its metadata', () => {
    expect(read(fixture('local-ffmpeg5.1.9_input-mpegts-program_stderr.txt'))).toEqual({ durationSeconds: 3.02, streams: 2, hasVideo: true, hasAudio: true });
  });

  it('skips a line the stderr splitter had to cut, and the rest of it', () => {
    const header = ["Input #0, matroska,webm, from 'file:/in/a.mkv':", '  Metadata:'];
    // A tag longer than a line may be: its second piece starts where the cut fell, shaped like ffmpeg's own line.
    const piece = `    title           : ${'x'.repeat(MAX_LINE - 22)}`;
    expect(piece.length).toBe(MAX_LINE);
    const forged = '  Duration: 09:00:00.00, start: 0.000000, bitrate: 1 kb/s';
    const real = ['  Duration: 00:00:05.00, start: 0.000000, bitrate: 900 kb/s', '  Stream #0:0: Video: vp9, yuv420p, 320x240'];
    expect(read([...header, piece, forged, ...real])).toEqual({ durationSeconds: 5, streams: 1, hasVideo: true, hasAudio: false });
  });
});
