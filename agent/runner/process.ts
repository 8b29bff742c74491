/**
 * Child processes of attempts: argv arrays only (never a shell), each in its
 * own process group so that pause, resume and kill reach ffmpeg's or a
 * script's children too.
 */
import { spawn } from 'node:child_process';
import type { FailureKind } from '../jobs/job.js';

/** How a child process ended. */
export interface ExitInfo {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines of stderr, for error messages. */
  stderrTail: string[];
}

/**
 * An attempt that did not succeed, as data: the kind decides between failing
 * at once (bad input) and retrying (transient), the message is for humans, the
 * flags say how the process ended (execa's habit).
 */
export class AttemptError extends Error {
  override readonly name = 'AttemptError';
  readonly kind: FailureKind;
  exitCode: number | null = null;
  signal: NodeJS.Signals | null = null;
  stderrTail: string[] = [];
  timedOut = false;
  isCanceled = false;

  constructor(kind: FailureKind, message: string, details: Partial<Pick<AttemptError, 'exitCode' | 'signal' | 'stderrTail' | 'timedOut' | 'isCanceled'>> = {}) {
    super(message);
    this.kind = kind;
    Object.assign(this, details);
  }
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Called with each complete stdout line (or raw chunks when `rawStdout`). */
  onStdout?: (text: string) => void;
  rawStdout?: boolean;
  onStderrLine?: (line: string) => void;
  /** Lines of stderr kept for error messages. @default 20 */
  tailLines?: number;
}

export interface GroupProcess {
  pid: number;
  /** Resolves when the process has exited (never rejects; spawn errors become exitCode 127). */
  exited: Promise<ExitInfo>;
  /** SIGSTOP / SIGCONT to the whole group. */
  pause(): void;
  resume(): void;
  /** SIGTERM to the group, then SIGKILL after `graceMs` if it is still alive. */
  terminate(graceMs: number): Promise<ExitInfo>;
}

export function spawnGroup(file: string, args: readonly string[], options: SpawnOptions = {}): GroupProcess {
  const tailLines = options.tailLines ?? 20;
  const stderrTail: string[] = [];
  const child = spawn(file, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true, // own process group: kill(-pid) reaches every descendant
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let spawnError: Error | undefined;
  let running = true;

  const pushTail = (line: string) => {
    stderrTail.push(line);
    if (stderrTail.length > tailLines) stderrTail.shift();
  };
  splitLines(child.stderr, (line) => {
    if (line.trim() === '') return;
    pushTail(line);
    options.onStderrLine?.(line);
  });
  if (options.rawStdout) {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => options.onStdout?.(chunk));
  } else {
    splitLines(child.stdout, (line) => options.onStdout?.(line));
  }

  const exited = new Promise<ExitInfo>((resolve) => {
    child.on('error', (error) => {
      spawnError = error;
    });
    child.on('close', (code, signal) => {
      running = false;
      if (spawnError) {
        pushTail(`cannot start ${file}: ${spawnError.message}`);
        resolve({ exitCode: 127, signal: null, stderrTail });
        return;
      }
      resolve({ exitCode: code, signal, stderrTail });
    });
  });

  const signalGroup = (signal: NodeJS.Signals) => {
    if (!running || child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // The group is already gone.
    }
  };

  return {
    pid: child.pid ?? -1,
    exited,
    pause: () => signalGroup('SIGSTOP'),
    resume: () => signalGroup('SIGCONT'),
    async terminate(graceMs) {
      signalGroup('SIGTERM');
      // A stopped group cannot act on SIGTERM until it is continued.
      signalGroup('SIGCONT');
      const timer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
      const info = await exited;
      clearTimeout(timer);
      // Descendants that ignored SIGTERM may outlive the leader.
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Nothing left in the group.
        }
      }
      return info;
    },
  };
}

/**
 * Longest line passed on whole. A longer one (a tool printing a huge tag, or
 * garbage without line ends) is passed on in pieces of exactly this length,
 * the last one shorter, so memory stays bounded and a reader can tell a
 * piece from a line.
 */
export const MAX_LINE = 64 * 1024;

function splitLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buffer = '';
  const emit = (line: string) => {
    let rest = line;
    while (rest.length > MAX_LINE) {
      onLine(rest.slice(0, MAX_LINE));
      rest = rest.slice(MAX_LINE);
    }
    onLine(rest);
  };
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffer += chunk;
    // ffmpeg's stats use \r between updates; treat it as a line end too.
    const parts = buffer.split(/\r\n|\n|\r/);
    buffer = parts.pop() ?? '';
    for (const part of parts) emit(part);
    while (buffer.length > MAX_LINE) {
      onLine(buffer.slice(0, MAX_LINE));
      buffer = buffer.slice(MAX_LINE);
    }
  });
  stream.on('end', () => {
    if (buffer !== '') onLine(buffer);
  });
}
