import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createFfmpegInputReader, type FfmpegInput } from '../../agent/media/ffmpeg-input.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/ffmpeg');

function read(lines: readonly string[]): FfmpegInput | null {
  const reader = createFfmpegInputReader();
  for (const line of lines) reader.push(line);
  return reader.input;
}
const fixture = (name: string) => fs.readFileSync(path.join(fixtures, name), 'utf8').split('\n');

describe('what ffmpeg prints about its input', () => {
  it('reads the duration and streams of an MP4, not those of the output section', () => {
    expect(read(fixture('local-ffmpeg5.1.9_input-mp4-multiline-title_stderr.txt'))).toEqual({ durationSeconds: 3, hasVideo: true, hasAudio: true });
  });

  it('does not count cover art as video', () => {
    expect(read(fixture('local-ffmpeg5.1.9_input-mp3-cover-art-no-video_stderr.txt'))).toEqual({ durationSeconds: 3.03, hasVideo: false, hasAudio: true });
  });

  it('reads only the first input, and an unknown duration as null', () => {
    // ffmpeg's stderr of a lavfi run (test/fixtures/SOURCES.md): two inputs, each "Duration: N/A".
    const lavfi = fs.readFileSync(path.join(fixtures, 'local-ffmpeg5.1.9_libx264-aac_stderr-stats_cr-separated.txt'), 'utf8');
    expect(read(lavfi.split(/\r|\n/))).toEqual({ durationSeconds: null, hasVideo: true, hasAudio: false });
  });

  it('takes hours and fractions, and ignores a forged line outside the header', () => {
    const lines = ["Input #0, matroska,webm, from 'file:/in/a.mkv':", '  Duration: 01:02:03.45, start: 0.000000, bitrate: 900 kb/s', '  Stream #0:0: Audio: opus, 48000 Hz, stereo, fltp (default)'];
    expect(read(lines)).toEqual({ durationSeconds: 3723.45, hasVideo: false, hasAudio: true });
    expect(read(['  Duration: 00:00:09.00, start: 0', '  Stream #0:0: Video: h264'])).toBeNull();
    expect(read([...lines, 'Stream mapping:', '  Duration: 00:00:01.00', '  Stream #0:1: Video: h264'])).toEqual({ durationSeconds: 3723.45, hasVideo: false, hasAudio: true });
  });
});
