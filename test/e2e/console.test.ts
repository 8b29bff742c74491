/**
 * The built console in real Chromium against two real agents: sign in, add
 * the second appliance, drop a file onto its inbox and watch the job
 * complete and its output download, cancel and retry a running job, and
 * see an appliance go offline and come back while the other keeps updating.
 *
 * Skipped, with the reason, only when no Chromium can be found (neither
 * Debian's nor the one in @sparticuz/chromium).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConsoleRoot } from '../../agent/api/console-files.js';
import { serverConfig, TOKENS } from '../helpers/api.js';
import { artifactPath, findChromium, launchChromium } from '../helpers/browser.js';
import { createFakeGpu, type FakeGpu } from '../helpers/fake-gpu/index.js';
import { startTestAgent, type TestAgent } from '../helpers/test-agent.js';

const binary = await findChromium();
if (!binary) console.warn('console e2e tests skipped: no Chromium (install Debian\u2019s chromium, or npm install the @sparticuz/chromium dev dependency)');

/** Holds its job RUNNING until `<input>.go` appears, then writes one output. */
const HOLD = 'const fs=require("fs");const f=process.argv[1]+".go";console.log("holding until",f);const t=setInterval(()=>{if(fs.existsSync(f)){clearInterval(t);fs.writeFileSync(process.argv[2]+"/"+process.argv[3]+".out","ok")}},50)';
/** Copies its input to `<name>.copy`, logging a line. */
const COPY = 'const fs=require("fs");console.log("copying",process.argv[1]);fs.copyFileSync(process.argv[1],process.argv[2]+"/"+process.argv[3]+".copy")';

const command = (script: string) => ({ kind: 'command', command: [process.execPath, '-e', script, '{input}', '{outputDir}', '{outputBase}'] });

describe.skipIf(!binary)('console in Chromium', () => {
  let a: TestAgent;
  let b: TestAgent;
  let bPort: number;
  /** box-b has a (fake) GPU: the real sampler reads a fake nvidia-smi whose figures the test sets. */
  let gpu: FakeGpu;
  let browser: Browser;
  let page: Page;

  const startB = (port: number, dir?: string) =>
    startTestAgent(
      { appliance: { name: 'box-b' }, server: serverConfig({ port, allowedOrigins: [a.agent.api.url()] }), profiles: { copy: command(COPY) } },
      { env: gpu.env, ...(dir ? { dir } : {}) },
    );
  const card = (name: string) => page.locator(`[data-appliance="${name}"]`);
  const row = (fileName: string) => page.locator('.job-row', { has: page.getByRole('link', { name: fileName, exact: true }) });

  beforeAll(async () => {
    if (!fs.existsSync(path.join(defaultConsoleRoot(), 'index.html'))) throw new Error(`no console build in ${defaultConsoleRoot()}: run npm run build first`);
    gpu = createFakeGpu({ gpus: [{ name: 'NVIDIA GeForce RTX 4080', memoryTotalMb: 16384, utilizationPercent: 35 }], foreign: [{ pid: 4242, gpu: 0, usedMemoryMb: 5120 }] });
    a = await startTestAgent({ appliance: { name: 'box-a' }, server: serverConfig(), profiles: { hold: command(HOLD), copy: command(COPY) } });
    b = await startB(0);
    bPort = Number(new URL(b.agent.api.url()).port);
    browser = await launchChromium(binary!);
    page = await (await browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 1100 } })).newPage();
    page.setDefaultTimeout(15_000);
  });
  afterAll(async () => {
    await browser?.close();
    await a?.stop();
    await b?.stop();
    gpu?.cleanup();
  });

  it('signs in to the appliance that served it, with its token', async () => {
    await page.goto(a.agent.api.url());
    await page.getByRole('heading', { name: 'Spool console' }).waitFor();
    await page.getByLabel('Token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('does not accept this token').waitFor();

    await page.getByLabel('Token').fill(TOKENS.operator);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await card('box-a').locator('[data-link-status="online"]').waitFor();
    await card('box-a').getByRole('meter', { name: 'CPU' }).waitFor();
  });

  it('adds a second appliance and shows both fleets', async () => {
    await page.getByRole('link', { name: 'Appliances' }).click();
    await page.getByRole('button', { name: 'Add an appliance' }).click();
    const form = page.getByRole('region', { name: 'Add an appliance' });
    await form.getByLabel('Appliance URL').fill(b.agent.api.url());
    await form.getByLabel('Token').fill(TOKENS.operator);
    await form.getByRole('button', { name: 'Add' }).click();
    await page.getByRole('status').getByText('Added box-b').waitFor();

    await page.getByRole('link', { name: 'Fleet & jobs' }).click();
    await card('box-b').locator('[data-link-status="online"]').waitFor();
    await card('box-b').getByRole('meter', { name: 'Memory' }).waitFor();
    expect(await page.getByTestId('fleet-summary').textContent()).toBe('2 of 2 online');

    // box-b's GPU as its sampler read it: VRAM used (by another process here) of total, utilisation.
    await card('box-b').getByText('GPU 0: NVIDIA GeForce RTX 4080').waitFor();
    expect(await card('box-b').getByRole('meter', { name: 'GPU 0 VRAM' }).getAttribute('aria-valuetext')).toBe('5.0 GiB of 16.0 GiB');
    expect(await card('box-b').getByRole('img', { name: /GPU 0 utilisation, last minutes; now 35%/ }).count()).toBe(1);
    expect(await card('box-a').getByText('No GPU figures: nvidia-smi not found').count()).toBe(1);
  });

  it('uploads a dropped file to the second appliance; its job appears live, completes, and its output downloads', async () => {
    const content = 'frames '.repeat(5000);
    // A real drop event with a DataTransfer, as the browser makes one when a file is dragged in.
    await card('box-b')
      .getByTestId('dropzone')
      .evaluate((zone, text) => {
        const data = new DataTransfer();
        data.items.add(new File([text], 'take 7.mov', { type: 'video/quicktime' }));
        zone.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
      }, content);
    await card('box-b').getByText('Uploaded, in the inbox as take 7.mov').waitFor();
    const id = await b.waitForClaim('take 7.mov');

    await row('take 7.mov').and(page.locator('[data-status="COMPLETED"]')).waitFor();
    expect(await row('take 7.mov').locator('.job-appliance').textContent()).toBe('box-b');

    await page.getByRole('link', { name: 'take 7.mov', exact: true }).click();
    await page.getByRole('heading', { name: 'take 7.mov' }).waitFor();
    await page.locator('.job-head [data-status="COMPLETED"]').waitFor();
    await page.locator('.log-line', { hasText: /copying \// }).waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download take 7.copy' }).click()]);
    expect(download.suggestedFilename()).toBe('take 7.copy');
    expect(fs.readFileSync((await download.path())!, 'utf8')).toBe(content);
    expect((await b.waitForStatus(id, ['COMPLETED'])).outputs).toHaveLength(1);
  });

  it('cancels a running job and shows it within a second, then retries it', async () => {
    await page.getByRole('link', { name: '← All jobs' }).click();
    const file = path.join(a.inbox('hold'), 'long render.mxf');
    fs.writeFileSync(file, 'x');
    const id = await a.waitForClaim('long render.mxf');
    await a.waitForStatus(id, ['RUNNING']);
    await row('long render.mxf').and(page.locator('[data-status="RUNNING"]')).waitFor();
    await page.getByRole('link', { name: 'long render.mxf', exact: true }).click();
    await page.locator('.job-head [data-status="RUNNING"]').waitFor();
    // The live log shows what the job printed.
    await page.locator('.log-line', { hasText: /holding until \// }).waitFor();
    await page.screenshot({ path: artifactPath('console-job.png'), fullPage: true });

    const clicked = Date.now();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('.job-head [data-status="CANCELLED"]').waitFor({ timeout: 1000 });
    expect(Date.now() - clicked).toBeLessThan(1000);
    await page.getByRole('status').getByText('Cancelled: long render.mxf on box-a').waitFor();
    expect((await a.agent.jobs.get(id))!.status).toBe('CANCELLED');

    await page.getByRole('button', { name: 'Retry' }).click();
    await page.getByRole('status').getByText('Queued again: long render.mxf on box-a').waitFor();
    await page.locator('.job-head [data-status="RUNNING"]').waitFor();
    // The retried attempt holds again; let it finish.
    await a.waitForStatus(id, ['RUNNING']);
    fs.writeFileSync(`${(await a.agent.jobs.get(id))!.sourcePath}.go`, '');
    await page.locator('.job-head [data-status="COMPLETED"]').waitFor();
    await page.getByRole('table').getByText('cancelled').first().waitFor();
  });

  it('shows an appliance offline while the other keeps updating, and back online when it returns', async () => {
    await page.getByRole('link', { name: '← All jobs' }).click();
    const bDir = b.dir;
    await b.stop();
    await card('box-b').locator('[data-link-status="offline"]').waitFor();
    await card('box-b').getByText('box-b is not reachable; retrying.').waitFor();
    expect(await page.getByTestId('fleet-summary').textContent()).toBe('1 of 2 online');

    // box-a goes on: a new job shows up and completes while box-b is away.
    fs.writeFileSync(path.join(a.inbox('copy'), 'while b is away.txt'), 'hello');
    await row('while b is away.txt').and(page.locator('[data-status="COMPLETED"]')).waitFor();
    expect(await card('box-a').locator('[data-link-status="online"]').count()).toBe(1);
    await page.screenshot({ path: artifactPath('console-fleet.png'), fullPage: true });

    b = await startB(bPort, bDir);
    await card('box-b').locator('[data-link-status="online"]').waitFor();
    // Its jobs are loaded again after the reconnection.
    await row('take 7.mov').and(page.locator('[data-status="COMPLETED"]')).waitFor();
    expect(await page.getByTestId('fleet-summary').textContent()).toBe('2 of 2 online');
  });
});
