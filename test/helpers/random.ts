/**
 * mulberry32, the small well-known 32-bit PRNG: the same sequence for a seed
 * on every Node version, so a "random" pace, trace, split or resample in a
 * test or benchmark can be reproduced.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
