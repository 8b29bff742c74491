/**
 * Runs every benchmark, one after another, each in its own Node process (so
 * one's heap, JIT state and child processes do not colour the next), and
 * prints all their tables. Exits non-zero if one of them failed; a missed
 * goal is printed, not a failure.
 *
 * Usage: npm run build && npm run bench   (or node dist/test/bench/run-all.js)
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCHMARKS = ['drop-latency', 'queue-throughput', 'agent-overhead', 'idle-agent', 'service-times', 'console-render', 'memory-bounds'] as const;

async function main(): Promise<number> {
  const failed: string[] = [];
  for (const name of BENCHMARKS) {
    const script = fileURLToPath(new URL(`./${name}.js`, import.meta.url));
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [script], { stdio: 'inherit' });
      child.on('close', (exitCode) => resolve(exitCode));
    });
    if (code !== 0) failed.push(`${name} (exit ${code})`);
  }
  if (failed.length > 0) process.stderr.write(`failed: ${failed.join(', ')}\n`);
  return failed.length === 0 ? 0 : 1;
}

main().then((code) => process.exit(code));
