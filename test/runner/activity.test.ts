/**
 * A tool that prints faster than the log is written: the agent holds at most
 * about 2 × jobs.maxLogLines lines of it between writes, says how many it
 * did not keep, and the accounting is exact (lines passed on + lines said to
 * be skipped = lines printed, give or take the agent's own line or two).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '../helpers/test-agent.js';

let t: TestAgent | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

const LINES = 50_000;
const FLOOD = `for (let i = 1; i <= ${LINES}; i++) process.stderr.write('flood line ' + i + '\\n')`;

it('a flooding tool: at most 2 × maxLogLines lines held per write, the rest counted in one line, the newest kept', async () => {
  t = await startTestAgent({ jobs: { maxLogLines: 100 }, profiles: { chatty: { kind: 'command', command: [process.execPath, '-e', FLOOD] } } });
  const toolLines: string[] = [];
  let skipped = 0;
  let largestBatch = 0;
  t.agent.events.on('job:log', ({ lines }) => {
    largestBatch = Math.max(largestBatch, lines.length);
    for (const l of lines) {
      const marker = /^… (\d+) lines not kept: more than 100 lines came between two writes of the job's log/.exec(l.line);
      if (marker) skipped += Number(marker[1]);
      else if (l.stream === 'stderr') toolLines.push(l.line);
    }
  });
  const input = path.join(t.dir, 'in.txt');
  fs.writeFileSync(input, 'x');
  const job = await t.agent.jobs.submit({ profile: 'chatty', inputPath: input });
  expect((await t.waitForStatus(job.id, ['COMPLETED', 'FAILED'])).status).toBe('COMPLETED');

  expect(skipped).toBeGreaterThan(0);
  // Lines not kept are counted whoever wrote them: the tool's, and the agent's own one or two ("attempt 1 … started").
  expect(toolLines.length + skipped - LINES).toBeGreaterThanOrEqual(0);
  expect(toolLines.length + skipped - LINES).toBeLessThanOrEqual(3);
  expect(toolLines.at(-1)).toBe(`flood line ${LINES}`);
  // What was passed on came in order.
  const numbers = toolLines.map((l) => Number(l.split(' ').at(-1)));
  expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
  // The agent held at most two caps' worth (plus its own lines) at any write.
  expect(largestBatch).toBeLessThanOrEqual(2 * 100 + 5);
});
