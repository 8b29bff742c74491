/**
 * A real Chromium for the browser tests, driven by playwright-core. Never a
 * browser download: Debian's `chromium` when it is installed, else the
 * binary the @sparticuz/chromium npm package ships (unpacked into the temp
 * folder on first use), so `npm test` runs on a machine with nothing from apt.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { findOnPath } from '../../agent/media/locate.js';

export interface ChromiumBinary {
  path: string;
  /** Where it came from, for the test log. */
  source: string;
}

export async function findChromium(): Promise<ChromiumBinary | null> {
  for (const name of ['chromium', 'chromium-browser']) {
    const onPath = findOnPath(name);
    if (onPath) return { path: fs.realpathSync(onPath), source: `${name} on PATH` };
  }
  try {
    const { default: packaged } = await import('@sparticuz/chromium');
    return { path: await packaged.executablePath(), source: '@sparticuz/chromium' };
  } catch {
    return null;
  }
}

/**
 * Headless, as root in a container: no sandbox, no GPU. The background
 * services Chromium starts would try hosts this machine cannot reach.
 */
export function launchChromium(binary: ChromiumBinary): Promise<Browser> {
  return chromium.launch({
    executablePath: binary.path,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/** test-artifacts/ at the repository root (kept out of git), for screenshots a person looks at. */
export function artifactPath(name: string): string {
  const dir = path.resolve(import.meta.dirname, '../../test-artifacts');
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}
