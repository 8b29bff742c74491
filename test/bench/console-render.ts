/**
 * Benchmark: the console with 5,000 jobs across two appliances while 50 job
 * updates a second arrive. Measured in Chromium: the time from navigation
 * to the first rows of the job list and to all 5,000 listed, and the main
 * thread's long tasks (over 50 ms: count, total, longest) in a 10 s window
 * of updates. Goal: first render under 1 s, no long task over 50 ms.
 *
 * Two real agents run in this process with their queues paused, so every
 * job stays PENDING; the updates are real priority changes (job service,
 * SQLite, event bus, jobUpdated over graphql-ws), 25 a second on each.
 *
 *   npm run build && node dist/test/bench/console-render.js
 */
import fs from 'node:fs';
import path from 'node:path';
import { createAgent, type Agent } from '../../agent/agent.js';
import { parseConfig } from '../../agent/config/load-config.js';
import { silentLogger } from '../../agent/logger.js';
import { serverConfig, TOKENS } from '../helpers/api.js';
import { findChromium, launchChromium } from '../helpers/browser.js';
import { createQuietSystemSampler, pathWithoutNvidiaSmi } from '../helpers/fake-system.js';
import { envNumber, fixed, nowMs, printHeader, printTable, runIfMain, sleep, tempDir } from './report.js';

const LONG_TASK_MS = 50;

async function startAgent(name: string, allowedOrigins: string[]): Promise<Agent> {
  const dir = tempDir(`console-${name}`);
  fs.mkdirSync(path.join(dir, 'library'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'library', 'source.bin'), 'x');
  const config = parseConfig(
    {
      appliance: { name },
      dataDir: 'data',
      server: serverConfig({ allowedOrigins, inputRoots: ['library'] }),
      profiles: { web: { kind: 'probe' } },
      inboxes: [{ path: 'inbox', profile: 'web', outbox: 'outbox' }],
    },
    dir,
  );
  const agent = await createAgent(config, { logger: silentLogger, createFolders: true, env: pathWithoutNvidiaSmi(), samplers: { system: createQuietSystemSampler() } });
  await agent.start();
  await agent.jobs.pauseQueue();
  return agent;
}

/** `count` PENDING jobs on `agent` (read in place from one library file); their ids. */
async function fill(agent: Agent, count: number, name: string): Promise<string[]> {
  const ids: string[] = [];
  const input = path.join(agent.config.dataDir, '..', 'library', 'source.bin');
  for (let i = 0; i < count; i++) ids.push((await agent.jobs.submit({ profile: 'web', inputPath: input, priority: 5 })).id);
  process.stdout.write(`${name}: ${count} jobs queued\n`);
  return ids;
}

/** Installed before the page's own scripts: records long tasks and when the job list first shows rows and all of them. */
function instrument(expected: number) {
  const w = window as unknown as { __bench: { longTasks: { start: number; duration: number }[]; firstRows: number | null; allRows: number | null } };
  w.__bench = { longTasks: [], firstRows: null, allRows: null };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) w.__bench.longTasks.push({ start: entry.startTime, duration: entry.duration });
  }).observe({ type: 'longtask', buffered: true });
  const check = () => {
    if (w.__bench.firstRows === null && document.querySelector('.job-row')) w.__bench.firstRows = performance.now();
    const count = document.querySelector('[data-testid="job-count"]')?.textContent ?? '';
    if (w.__bench.allRows === null && count.startsWith(`${expected.toLocaleString()} shown`)) w.__bench.allRows = performance.now();
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, characterData: true });
}

async function main(): Promise<void> {
  printHeader('Console: 5,000 jobs, 50 updates a second, in Chromium');
  const perAppliance = envNumber('SPOOL_BENCH_JOBS', 5000) / 2;
  const updatesPerSecond = envNumber('SPOOL_BENCH_UPDATES', 50);
  const windowSeconds = envNumber('SPOOL_BENCH_SECONDS', 10);
  const binary = await findChromium();
  if (!binary) throw new Error('no Chromium: install Debian\u2019s chromium or the @sparticuz/chromium dev dependency');

  const a = await startAgent('bench-a', []);
  const b = await startAgent('bench-b', [a.api.url()]);
  const ids = [...(await fill(a, perAppliance, 'bench-a')).map((id) => [a, id] as const), ...(await fill(b, perAppliance, 'bench-b')).map((id) => [b, id] as const)];
  const browser = await launchChromium(binary);
  let updates = 0;
  let ticker: NodeJS.Timeout | undefined;
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const appliances = [a, b].map((agent, i) => ({ id: `app${i}`, url: agent.api.url(), token: TOKENS.viewer, name: agent.config.appliance.name }));
    await page.addInitScript((saved) => localStorage.setItem('spool.appliances', saved), JSON.stringify(appliances));
    await page.addInitScript(instrument, perAppliance * 2);

    // Updates arrive from the start, as they would on a busy fleet; a late
    // timer catches up, so the rate holds on a busy machine.
    const tickerStart = nowMs();
    ticker = setInterval(() => {
      const due = Math.floor(((nowMs() - tickerStart) / 1000) * updatesPerSecond);
      while (updates < due) {
        const [agent, id] = ids[updates++ % ids.length]!;
        void agent.jobs.setPriority(id, 1 + (updates % 10));
      }
    }, 10);

    const navigated = nowMs();
    await page.goto(a.api.url());
    await page.waitForFunction(() => (window as unknown as { __bench: { allRows: number | null } }).__bench.allRows !== null, undefined, { timeout: 120_000 });
    const loaded = await page.evaluate(() => (window as unknown as { __bench: { firstRows: number; allRows: number } }).__bench);
    const loadTasks = await page.evaluate(() => (window as unknown as { __bench: { longTasks: { duration: number }[] } }).__bench.longTasks.map((t) => t.duration));

    const windowStart = await page.evaluate(() => performance.now());
    const updatesBefore = updates;
    await sleep(windowSeconds * 1000);
    const windowEnd = await page.evaluate(() => performance.now());
    const sent = updates - updatesBefore;
    const tasks = await page.evaluate(
      ([from, to]) => (window as unknown as { __bench: { longTasks: { start: number; duration: number }[] } }).__bench.longTasks.filter((t) => t.start >= from! && t.start < to!).map((t) => t.duration),
      [windowStart, windowEnd],
    );
    // Scrolling to the end of the list while updates go on: the virtual list renders only a window.
    const scrollStart = await page.evaluate(() => performance.now());
    await page.evaluate(async () => {
      const list = document.querySelector('.vlist')!;
      for (let i = 0; i < 200; i++) {
        list.scrollTop += 400;
        await new Promise((r) => requestAnimationFrame(r));
      }
    });
    const scrollTasks = await page.evaluate(
      (from) => (window as unknown as { __bench: { longTasks: { start: number; duration: number }[] } }).__bench.longTasks.filter((t) => t.start >= from).map((t) => t.duration),
      scrollStart,
    );
    const rendered = await page.evaluate(() => document.querySelectorAll('.job-row').length);

    const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
    const max = (xs: number[]) => (xs.length ? Math.max(...xs) : 0);
    printTable(
      `Load (${(perAppliance * 2).toLocaleString()} jobs on two appliances, ${updatesPerSecond} updates/s arriving; ${binary.source})`,
      ['measure', 'value', 'goal'],
      [
        ['navigation to first job rows', `${fixed(loaded.firstRows, 0)} ms`, 'under 1000 ms'],
        ['navigation to all jobs listed', `${fixed(loaded.allRows, 0)} ms`, ''],
        ['long tasks while loading: count / total / longest', `${loadTasks.length} / ${fixed(sum(loadTasks), 0)} ms / ${fixed(max(loadTasks), 0)} ms`, ''],
        ['job rows in the DOM (virtual list)', rendered, ''],
      ],
    );
    printTable(
      `Steady state, ${windowSeconds} s window`,
      ['measure', 'value', 'goal'],
      [
        ['updates sent', `${sent} (${fixed(sent / windowSeconds, 1)}/s)`, `${updatesPerSecond}/s`],
        [`long tasks (>${LONG_TASK_MS} ms) per ${windowSeconds} s`, tasks.length, '0'],
        ['long-task time total', `${fixed(sum(tasks), 0)} ms`, ''],
        ['longest task', `${fixed(max(tasks), 0)} ms`, `under ${LONG_TASK_MS} ms`],
        ['long tasks while scrolling 80,000 px', `${scrollTasks.length} (longest ${fixed(max(scrollTasks), 0)} ms)`, ''],
      ],
    );
    process.stdout.write(`(navigation started at ${new Date(navigated).toISOString()})\n`);
  } finally {
    clearInterval(ticker);
    await browser.close();
    await a.stop();
    await b.stop();
  }
}

runIfMain(import.meta.url, main);
