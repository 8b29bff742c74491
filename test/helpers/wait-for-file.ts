/**
 * Resolves once a file exists: how a test hears that a job's own process has
 * started (the command writes a marker), without polling on a guessed sleep.
 */
import fs from 'node:fs';
import path from 'node:path';

export function waitForFile(file: string, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const watcher = fs.watch(path.dirname(file), () => check());
    const timer = setTimeout(() => finish(new Error(`timed out waiting for ${file}`)), timeoutMs);
    const finish = (error?: Error) => {
      clearTimeout(timer);
      watcher.close();
      if (error) reject(error);
      else resolve();
    };
    const check = () => {
      if (fs.existsSync(file)) finish();
    };
    check();
  });
}
