import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createProgressParser, toJobProgress, type ProgressBlock } from '../../agent/media/ffmpeg-progress.js';
import type { JobProgress } from '../../agent/jobs/job.js';
import { mulberry32 } from '../helpers/random.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/ffmpeg');
const read = (name: string) => fs.readFileSync(path.join(fixtures, name), 'utf8');

function parseAll(chunks: Iterable<string>): ProgressBlock[] {
  const blocks: ProgressBlock[] = [];
  const parser = createProgressParser((block) => blocks.push(block));
  for (const chunk of chunks) parser.push(chunk);
  return blocks;
}

function* randomChunks(text: string, next: () => number): Generator<string> {
  let at = 0;
  while (at < text.length) {
    const size = 1 + Math.floor(next() * 40);
    yield text.slice(at, at + size);
    at += size;
  }
}

const p = (percent: number | null, fps: number | null, speed: number | null, etaSeconds: number | null): JobProgress => ({ percent, fps, speed, etaSeconds });

interface FixtureCase {
  file: string;
  /** The media duration the run had, for percent and ETA. */
  duration: number;
  blocks: number;
  /** Expected progress of the first and the last block. */
  first: JobProgress;
  last: JobProgress;
  lastIsEnd: boolean;
}

const cases: FixtureCase[] = [
  // out_time_ms only (ffmpeg ~3.x), in microseconds despite the name.
  { file: 'bramp_progress-0_2016_out_time_ms-only.txt', duration: 5.312, blocks: 1, first: p(9.6, 0, 1.01, 4.8), last: p(9.6, 0, 1.01, 4.8), lastIsEnd: false },
  { file: 'bramp_progress-1_2016_out_time_ms-only_original.txt', duration: 5.312, blocks: 1, first: p(94.8, 23.4, 0.998, 0.3), last: p(94.8, 23.4, 0.998, 0.3), lastIsEnd: false },
  { file: 'bramp_progress-2_2016_progress-end.txt', duration: 5.312, blocks: 1, first: p(100, 23.1, 0.929, 0), last: p(100, 23.1, 0.929, 0), lastIsEnd: true },
  { file: 'jaffree_progress_3blocks_out_time_us.txt', duration: 167.183673, blocks: 3, first: p(3, 0, 10.1, 16.1), last: p(100, 272.38, 9.09, 0), lastIsEnd: true },
  // speed=   0x: the ETA is unknown, not infinite.
  { file: 'jaffree_progress_na-bitrate_speed-0x.txt', duration: 60, blocks: 3, first: p(0, 0, 0, null), last: p(0, 14.77, 0, null), lastIsEnd: false },
  { file: 'local-ffmpeg5.1.9_libx264-aac_progress-pipe1_stdout.txt', duration: 20, blocks: 19, first: p(0, 0, 0, null), last: p(100, 62.1, 2.07, 0), lastIsEnd: true },
];

describe('ffmpeg -progress fixtures', () => {
  it.each(cases)('$file', ({ file, duration, blocks, first, last, lastIsEnd }) => {
    const parsed = parseAll([read(file)]);
    expect(parsed).toHaveLength(blocks);
    expect(parsed.filter((b) => b.end)).toHaveLength(lastIsEnd ? 1 : 0);
    expect(parsed.at(-1)?.end).toBe(lastIsEnd);
    expect(toJobProgress(parsed[0]!, duration)).toEqual(first);
    expect(toJobProgress(parsed.at(-1)!, duration)).toEqual(last);
    const percents = parsed.map((b) => toJobProgress(b, duration).percent ?? -1);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
  });

  it.each(cases)('$file split into random chunks gives the same blocks', ({ file }) => {
    const text = read(file);
    const whole = parseAll([text]);
    for (let seed = 1; seed <= 25; seed += 1) {
      expect(parseAll(randomChunks(text, mulberry32(seed)))).toEqual(whole);
    }
    expect(parseAll(text.split(''))).toEqual(whole);
  });

  it.each(cases)('$file with CRLF line ends gives the same blocks', ({ file }) => {
    const text = read(file);
    expect(parseAll(randomChunks(text.replaceAll('\n', '\r\n'), mulberry32(7)))).toEqual(parseAll([text]));
  });

  it('keeps every field of a block, trimmed', () => {
    const [block] = parseAll([read('jaffree_progress_3blocks_out_time_us.txt')]);
    expect(block?.fields).toMatchObject({ frame: '162', stream_0_1_q: '29.0', bitrate: '828.7kbits/s', dup_frames: '4', progress: 'continue' });
  });

  it('reads the space-padded speed of a real capture', () => {
    const blocks = parseAll([read('local-ffmpeg5.1.9_libx264-aac_progress-pipe1_stdout.txt')]);
    expect(blocks.map((b) => toJobProgress(b, 20).speed)).toContain(2);
  });

  it('holds back a block until its progress line arrives', () => {
    const blocks: ProgressBlock[] = [];
    const parser = createProgressParser((block) => blocks.push(block));
    parser.push('frame=1\nout_time_us=1000000\nprogress=cont');
    expect(blocks).toHaveLength(0);
    parser.push('inue\n');
    expect(blocks).toEqual([{ fields: { frame: '1', out_time_us: '1000000', progress: 'continue' }, end: false }]);
  });
});

const block = (fields: Record<string, string>, end = false): ProgressBlock => ({ fields, end });

describe('toJobProgress', () => {
  it.each([
    ['out_time_us wins over the others', block({ out_time_us: '30000000', out_time_ms: '1', out_time: '00:00:01.000000', speed: '2x' }), 60, p(50, null, 2, 15)],
    ['out_time_ms holds microseconds', block({ out_time_ms: '15000000', speed: '1.5x' }), 60, p(25, null, 1.5, 30)],
    ['out_time as a clock', block({ out_time: '00:01:00.500000', fps: '30.0' }), 121, p(50, 30, null, null)],
    ['out_time_us N/A falls back to out_time', block({ out_time_us: 'N/A', out_time_ms: 'N/A', out_time: '00:00:06.000000' }), 12, p(50, null, null, null)],
    ['all times N/A', block({ out_time_us: 'N/A', out_time_ms: 'N/A', out_time: 'N/A', speed: 'N/A' }), 12, p(null, null, null, null)],
    ['negative time before the first frame', block({ out_time_us: '-9223372036854775807', out_time: '-2562047:47:16.854775' }), 12, p(null, null, null, null)],
    ['past the probed duration is clamped', block({ out_time_us: '13000000', speed: '1x' }), 12, p(100, null, 1, 0)],
    ['unknown duration', block({ out_time_us: '13000000', speed: '   2x', fps: '25' }), null, p(null, 25, 2, null)],
    ['zero duration counts as unknown', block({ out_time_us: '0', speed: '1x' }), 0, p(null, null, 1, null)],
    ['progress=end is 100 whatever the time', block({ out_time_us: '1000000', speed: '3x' }, true), 60, p(100, null, 3, 0)],
    ['garbage values', block({ fps: 'fast', speed: 'x', out_time_us: '12abc' }), 60, p(null, null, null, null)],
  ] as const)('%s', (_name, input, duration, expected) => {
    expect(toJobProgress(input, duration)).toEqual(expected);
  });
});
