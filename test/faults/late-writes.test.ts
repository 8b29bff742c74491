/**
 * A writer that goes on filling a file after Spool finished with it (a copy
 * that stalled past every check, resumed by its open handle) is never
 * silently ignored: the change in done/ or failed/ is logged with what to do.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../agent/logger.js';
import { startTestAgent, type TestAgent } from '../helpers/test-agent.js';

const node = process.execPath;

let t: TestAgent | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

function capture(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, logger: { error: (m) => warnings.push(m), warn: (m) => warnings.push(m), info() {}, debug() {} } };
}

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not reached in ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function drop(profile: string, name: string): Promise<string> {
  fs.writeFileSync(path.join(t!.dir, name), 'first half\n');
  const claimed = t!.waitForClaim(name);
  fs.renameSync(path.join(t!.dir, name), path.join(t!.inbox(profile), name));
  return claimed;
}

describe('files that change after their job', () => {
  it('a write to a source in done/ or failed/ is logged, naming the file and what to do; Spool’s own notes are not', async () => {
    const { logger, warnings } = capture();
    t = await startTestAgent(
      {
        profiles: {
          quick: { kind: 'command', command: [node, '-e', ''] },
          broken: { kind: 'command', maxAttempts: 1, command: [node, '-e', 'process.exit(1)'] },
        },
      },
      { logger },
    );
    const done = await t.waitForStatus(await drop('quick', 'clip one.mp4'), ['COMPLETED']);
    const failed = await t.waitForStatus(await drop('broken', 'clip two.mp4'), ['FAILED']);
    const inDone = path.join(t.inbox('quick'), 'done', 'clip one.mp4');
    const inFailed = path.join(t.inbox('broken'), 'failed', 'clip two.mp4');
    expect(done.sourcePath).toBe(inDone);
    expect(failed.sourcePath).toBe(inFailed);
    expect(fs.existsSync(`${inFailed}.error.txt`)).toBe(true);
    // The watch on done/ starts when the folder first appears; give it a moment.
    await new Promise((r) => setTimeout(r, 300));
    const before = warnings.length;

    fs.appendFileSync(inDone, 'second half\n');
    await until(() => warnings.some((w) => w.includes(inDone)), 'a warning naming the file in done/');
    const warning = warnings.find((w) => w.includes(inDone))!;
    expect(warning).toMatch(/changed after Spool had finished with it \(now 23 bytes/);
    expect(warning).toContain(`drop the whole file into ${t.inbox('quick')} again`);

    fs.appendFileSync(inFailed, 'second half\n');
    await until(() => warnings.some((w) => w.includes(inFailed)), 'a warning naming the file in failed/');
    // Spool's own .error.txt was written before; appending to the source is the only news.
    expect(warnings.slice(before).filter((w) => w.includes('.error.txt'))).toEqual([]);
    // A writer that goes on and on is reported once, not per write.
    for (let i = 0; i < 5; i++) fs.appendFileSync(inDone, 'more\n');
    await new Promise((r) => setTimeout(r, 300));
    expect(warnings.filter((w) => w.includes(inDone))).toHaveLength(1);
  });
});
