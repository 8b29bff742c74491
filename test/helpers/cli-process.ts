/**
 * The operator's `spool` command as a child process: `node dist/agent/cli.js
 * …` with an argument array, stdout and stderr kept apart. Always spawned
 * asynchronously, so an agent running in the test process keeps serving.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { requireBuiltCli } from './agent-process.js';

export interface CliOptions {
  /** Added to the environment; a key set to undefined is removed (e.g. SPOOL_TOKEN). */
  env?: Record<string, string | undefined>;
  cwd?: string;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcess;
  /** Everything printed on stdout so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout line that matches; rejects if the process ends first. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  result: Promise<CliResult>;
}

export function startCli(args: string[], options: CliOptions = {}): CliProcess {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // The tests say which agent and token they mean; a developer's own must not leak in.
  delete env.SPOOL_URL;
  delete env.SPOOL_TOKEN;
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  const child = spawn(process.execPath, [requireBuiltCli(), ...args], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const wakers = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    for (const wake of [...wakers]) wake();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  let ended = false;
  const result = new Promise<CliResult>((resolve) => {
    // 'close', not 'exit': all output has been read by then.
    child.on('close', (code, signal) => {
      ended = true;
      for (const wake of [...wakers]) wake();
      resolve({ code, signal, stdout: out, stderr: err });
    });
  });

  const waitForLine = (pattern: RegExp, timeoutMs = 30_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const line = out.split('\n').find((l, i, all) => i < all.length - 1 && pattern.test(l));
        if (line !== undefined) return finish(() => resolve(line));
        if (ended) finish(() => reject(new Error(`spool ${args.join(' ')} ended before printing ${pattern}\nstdout:\n${out}\nstderr:\n${err}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`timed out waiting for ${pattern} from spool ${args.join(' ')}\nstdout:\n${out}\nstderr:\n${err}`))), timeoutMs);
      const finish = (then: () => void) => {
        clearTimeout(timer);
        wakers.delete(check);
        then();
      };
      wakers.add(check);
      check();
    });

  return { child, stdout: () => out, stderr: () => err, waitForLine, result };
}

/** Runs `spool ARGS…` to the end. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return startCli(args, options).result;
}
