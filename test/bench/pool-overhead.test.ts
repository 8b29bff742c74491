/** The pooling script reads the per-run lines agent-overhead writes to stderr; a pair cut off by a time limit is dropped. */
import { describe, expect, test } from 'vitest';
import { parseRunLines, poolRow } from './pool-overhead.js';

const RUN = [
  '1280x720 pair 1/3 agent: wall 4.000 s, CPU 8.000 s',
  '1280x720 pair 1/3 direct: wall 3.900 s, CPU 7.800 s',
  '1280x720 pair 2/3 direct: wall 4.100 s, CPU 8.100 s',
  '1280x720 pair 2/3 agent: wall 4.000 s, CPU 8.000 s',
  'some other line',
  '1280x720 pair 3/3 agent: wall 4.200 s, CPU 8.300 s',
].join('\n');

describe('pool-overhead', () => {
  test('pairs are matched by size and number, whatever the order; an incomplete one is left out', () => {
    const pairs = parseRunLines(RUN);
    expect(pairs).toEqual([
      { size: '1280x720', agent: { wall: 4, cpu: 8 }, direct: { wall: 3.9, cpu: 7.8 } },
      { size: '1280x720', agent: { wall: 4, cpu: 8 }, direct: { wall: 4.1, cpu: 8.1 } },
    ]);
  });

  test('a row gives the ratio of sums, the per-pair median and the count of slower agent runs', () => {
    const row = poolRow('1280x720', parseRunLines(RUN));
    expect(row[0]).toBe('1280x720');
    expect(row[1]).toBe('2');
    expect(row[2]).toMatch(/^1\.000 \(/);
    expect(row[6]).toBe('1 of 2');
  });
});
