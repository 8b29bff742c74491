/**
 * The agent as operators run it: `node dist/agent/cli.js agent --config FILE`
 * in a child process, its stdout and stderr read line by line. Tests wait for
 * log lines, kill it with real signals and start it again on the same files.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built CLI (`npm test` builds it first through `pretest`). */
export const CLI_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/agent/cli.js');

/** Throws a readable error when dist/ has not been built. */
export function requireBuiltCli(): string {
  if (!fs.existsSync(CLI_PATH)) {
    throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first (\`npm test\` does it through pretest)`);
  }
  return CLI_PATH;
}

export interface AgentProcess {
  child: ChildProcess;
  pid: number;
  /** Every line printed so far, stdout and stderr interleaved as they arrived. */
  lines: string[];
  /** Resolves with the first line (from index `from` on) that matches. */
  waitForLine(pattern: RegExp, options?: { from?: number; timeoutMs?: number }): Promise<string>;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startAgentProcess(configFile: string, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): AgentProcess {
  const cli = requireBuiltCli();
  const child = spawn(process.execPath, [cli, 'agent', '--config', configFile], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  const take = (stream: NodeJS.ReadableStream) => {
    let buffer = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffer += chunk;
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      if (parts.length === 0) return;
      lines.push(...parts);
      for (const wake of [...waiters]) wake();
    });
  };
  take(child.stdout!);
  take(child.stderr!);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // 'close', not 'exit': every line the process printed has been read by then.
    child.on('close', (code, signal) => {
      done = true;
      resolve({ code, signal });
      for (const wake of [...waiters]) wake();
    });
  });

  const waitForLine: AgentProcess['waitForLine'] = (pattern, { from = 0, timeoutMs = 30_000 } = {}) =>
    new Promise((resolve, reject) => {
      let index = from;
      const check = () => {
        for (; index < lines.length; index += 1) {
          if (pattern.test(lines[index]!)) {
            finish();
            resolve(lines[index]!);
            return;
          }
        }
        if (done) {
          finish();
          reject(new Error(`agent exited before printing ${pattern}; last lines:\n${lines.slice(-20).join('\n')}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out waiting for ${pattern}; last lines:\n${lines.slice(-20).join('\n')}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  return { child, pid: child.pid ?? -1, lines, waitForLine, exited };
}
