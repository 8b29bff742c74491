/**
 * The statistics the benchmark tables are built from. A median that took the
 * lower middle of an even count understated every even-sized ratio table
 * (8 or 20 pairs), so it is pinned here.
 */
import { describe, expect, test } from 'vitest';
import { median, pairedRatio, percentile } from './report.js';

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

describe('pairedRatio', () => {
  test('the ratio is sum over sum, and equal pairs give a zero-width interval', () => {
    expect(pairedRatio([[2, 1], [4, 2]]).ratio).toBe(2);
    expect(pairedRatio([[1.1, 1], [1.1, 1], [1.1, 1]])).toEqual({ ratio: 1.1, low: 1.1, high: 1.1 });
  });

  test('the interval holds the ratio, widens with the spread, and repeats with the seed', () => {
    const tight = Array.from({ length: 20 }, (_, i) => [1.02 + (i % 2 ? 0.01 : -0.01), 1] as const);
    const loose = Array.from({ length: 20 }, (_, i) => [1.02 + (i % 2 ? 0.2 : -0.2), 1] as const);
    const a = pairedRatio(tight);
    const b = pairedRatio(loose);
    expect(a.low).toBeLessThanOrEqual(a.ratio);
    expect(a.high).toBeGreaterThanOrEqual(a.ratio);
    expect(b.high - b.low).toBeGreaterThan(10 * (a.high - a.low));
    expect(pairedRatio(loose)).toEqual(b);
  });

  test('no pairs is NaN', () => {
    expect(pairedRatio([]).ratio).toBeNaN();
  });
});
