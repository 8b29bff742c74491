import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford base32

/**
 * Random bytes drawn 256 ids at a time: one getrandom call per id was about
 * 8 µs of the queue benchmark's enqueue (test/bench/queue-throughput.ts).
 */
const pool = Buffer.alloc(16 * 256);
let poolAt = pool.length;

/**
 * A new job id: 10 characters of millisecond time then 16 of randomness
 * (the ULID layout). Ids sort by creation time, are safe as folder names and
 * need no database round trip, so a file can be claimed into
 * `work/<id>/` before its row exists.
 */
export function newJobId(now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  if (poolAt + 16 > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  let rest = '';
  for (let i = 0; i < 16; i++) rest += ALPHABET[pool[poolAt + i]! % 32];
  poolAt += 16;
  return time + rest;
}

