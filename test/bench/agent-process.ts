/**
 * The agent as an operator runs it (`node dist/agent/cli.js agent --config
 * FILE`, one child process), and what /proc says about a process: CPU time
 * and resident memory.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { atExit } from './report.js';

/** Clock ticks per second, the unit of /proc/<pid>/stat times. */
export const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface CpuTimes {
  /** The process's own user + system seconds. */
  self: number;
  /** User + system seconds of its children that it has waited for (ffmpeg, ffprobe, …). */
  children: number;
}

/** CPU seconds of `pid` (or "self") from /proc/<pid>/stat. */
export function cpuTimes(pid: number | 'self'): CpuTimes {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces and parentheses; fields start after its closing ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name: state is field 3, so utime (14), stime (15), cutime (16), cstime (17) are at 11..14.
  const [utime, stime, cutime, cstime] = [11, 12, 13, 14].map((i) => Number(fields[i]));
  return { self: (utime! + stime!) / CLOCK_TICKS, children: (cutime! + cstime!) / CLOCK_TICKS };
}

/** Resident memory of `pid` in MB of 10^6 bytes (VmRSS from /proc/<pid>/status, which counts KiB). */
export function rssMB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? Number.NaN);
  return (kib * 1024) / 1e6;
}

export interface AgentProcess {
  child: ChildProcess;
  pid: number;
  /** Resolves with the first stdout/stderr line matching `pattern` from now on, and the time it arrived. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<{ line: string; at: number }>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
  /** The last 30 lines it printed, for an error message. */
  tail(): string[];
}

/** The built CLI beside this built file: dist/test/bench/ → dist/agent/cli.js. */
export const CLI = fileURLToPath(new URL('../../agent/cli.js', import.meta.url));

/**
 * Starts `spool agent --config <configFile>` and resolves once it logged
 * `inboxes` inbox lines (it logs them after start-up is complete).
 */
export async function startAgentProcess(configFile: string, inboxes: number, env: NodeJS.ProcessEnv = {}): Promise<AgentProcess> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing; run npm run build first`);
  // SPOOL_BENCH_AGENT_NODE_ARGS passes Node options to the agent only, e.g.
  // `--cpu-prof --cpu-prof-dir=/tmp/prof` (Node refuses those in NODE_OPTIONS).
  const nodeArgs = (process.env.SPOOL_BENCH_AGENT_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, CLI, 'agent', '--config', configFile], {
    cwd: path.dirname(configFile),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  atExit(() => child.kill('SIGKILL'));
  const waiters = new Set<{ pattern: RegExp; resolve: (v: { line: string; at: number }) => void }>();
  const tail: string[] = [];
  const onLine = (line: string) => {
    const at = performance.timeOrigin + performance.now();
    tail.push(line);
    if (tail.length > 30) tail.shift();
    for (const w of [...waiters]) {
      if (w.pattern.test(line)) {
        waiters.delete(w);
        w.resolve({ line, at });
      }
    }
  };
  for (const stream of [child.stdout!, child.stderr!]) {
    let buffer = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffer += chunk;
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      lines.forEach(onLine);
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const waitForLine: AgentProcess['waitForLine'] = (pattern, timeoutMs = 60_000) =>
    new Promise((resolve, reject) => {
      const waiter = {
        pattern,
        resolve: (v: { line: string; at: number }) => {
          clearTimeout(timer);
          resolve(v);
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`the agent did not log ${pattern} within ${timeoutMs} ms; its last lines:\n${tail.join('\n')}`));
      }, timeoutMs);
      waiters.add(waiter);
      void exited.then((code) => {
        if (!waiters.has(waiter)) return;
        waiters.delete(waiter);
        clearTimeout(timer);
        reject(new Error(`the agent exited (${code}) before logging ${pattern}; its last lines:\n${tail.join('\n')}`));
      });
    });

  // Counted in the line handler itself: the inbox lines often arrive in one chunk.
  let seen = 0;
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the agent did not report its ${inboxes} inboxes in 60 s; its last lines:\n${tail.join('\n')}`)), 60_000);
    const counter = {
      pattern: /^<\d>inbox .+ → /,
      resolve: () => {
        seen += 1;
        if (seen < inboxes) return void waiters.add(counter);
        clearTimeout(timer);
        resolve();
      },
    };
    waiters.add(counter);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the agent exited (${code}) during start-up; its last lines:\n${tail.join('\n')}`));
    });
  });
  await ready;

  return {
    child,
    pid: child.pid!,
    waitForLine,
    tail: () => [...tail],
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Writes `config` (JSON is YAML) to `<dir>/spool.yaml` and returns the path. */
export function writeConfig(dir: string, config: Record<string, unknown>): string {
  const file = path.join(dir, 'spool.yaml');
  // Port 0 unless the benchmark names one, so agents never collide on 7420.
  fs.writeFileSync(file, JSON.stringify({ ...config, server: { port: 0, ...(config.server as object | undefined) } }, null, 2));
  return file;
}
