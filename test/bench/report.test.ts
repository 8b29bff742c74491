/**
 * The statistics the benchmark tables are built from. A median that took the
 * lower middle of an even count understated every even-sized ratio table
 * (8 or 20 pairs), so it is pinned here.
 */
import { describe, expect, test } from 'vitest';
import { median, percentile } from './report.js';

describe('median', () => {
  test('an odd count gives the middle sample', () => {
    expect(median([3, 1, 2])).toBe(2);
  });

  test('an even count gives the mean of the two middle samples', () => {
    expect(median([1.094, 1.019, 1.082, 1.05, 0.949, 0.98])).toBeCloseTo(1.0345, 10);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  test('no samples is NaN; the input is not reordered', () => {
    expect(median([])).toBeNaN();
    const samples = [3, 1, 2, 0];
    median(samples);
    expect(samples).toEqual([3, 1, 2, 0]);
  });
});

describe('percentile', () => {
  test('nearest rank: p95 of 1..20 is 19, p100 the largest, p0 the smallest', () => {
    const samples = Array.from({ length: 20 }, (_, i) => 20 - i);
    expect(percentile(samples, 95)).toBe(19);
    expect(percentile(samples, 100)).toBe(20);
    expect(percentile(samples, 0)).toBe(1);
  });
});
