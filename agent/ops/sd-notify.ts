/**
 * systemd's readiness and watchdog protocol (sd_notify) without a native module.
 *
 * The protocol is one datagram of `KEY=VALUE` lines sent to the AF_UNIX
 * socket named by `NOTIFY_SOCKET`. Node cannot send it: `dgram` speaks UDP
 * only and `net` Unix sockets are streams. The npm modules that add datagram
 * sockets are native builds, and a build that fails on the target box is the
 * failure we refuse to risk for a start-up signal. So each message is handed
 * to `systemd-notify`, which ships with systemd and is therefore present
 * wherever the unit can run.
 *
 * Two consequences, both handled in `systemd/spool-agent.service`:
 * - the datagram comes from the helper's PID, not the agent's, so the unit
 *   needs `NotifyAccess=all` (systemd otherwise drops it);
 * - the helper must live until systemd has read the message, or systemd can
 *   no longer tell which unit it came from. systemd-notify (v246 and later)
 *   waits for that with a BARRIER=1 round trip before it exits.
 *
 * `NotifyAccess=all` would let a job's process (ffmpeg, an operator's
 * command) notify too; the variables are therefore taken out of the
 * environment here, at start, so no child inherits them.
 *
 * Without `NOTIFY_SOCKET` (a foreground run, tests) every call is a no-op.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { coerceError } from '../errors.js';
import type { Logger } from '../logger.js';
import { findOnPath } from '../media/locate.js';

export interface SystemdNotifier {
  /** Whether a service manager asked for notifications (NOTIFY_SOCKET was set). */
  readonly active: boolean;
  /** How often WATCHDOG=1 is sent, in ms, or null when no watchdog was asked for. */
  readonly watchdogIntervalMs: number | null;
  /** READY=1: start-up is complete. Also ends a reload. */
  notifyReady(status?: string): Promise<void>;
  /** RELOADING=1: a config reload has begun; `notifyReady` ends it. */
  notifyReloading(status?: string): Promise<void>;
  /** STOPPING=1: a graceful stop has begun. */
  notifyStopping(status?: string): Promise<void>;
  /** STATUS=: one line shown by `systemctl status`. */
  notifyStatus(text: string): Promise<void>;
  /** Stops the watchdog pings. */
  close(): void;
}

export interface SystemdNotifierOptions {
  /**
   * Where NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID are read; they are
   * removed from it so that child processes do not inherit them.
   * @default process.env
   */
  env?: NodeJS.ProcessEnv;
  /** This process, compared with WATCHDOG_PID. @default process.pid */
  pid?: number;
  /** The helper program. @default systemd-notify on PATH, else /usr/bin or /bin */
  command?: string;
  logger?: Logger;
}

/** The helper may wait for systemd's reply (BARRIER=1); a hung manager must not hang us. */
const HELPER_TIMEOUT_MS = 10_000;

export function createSystemdNotifier(options: SystemdNotifierOptions = {}): SystemdNotifier {
  const env = options.env ?? process.env;
  const socket = env.NOTIFY_SOCKET || undefined;
  const watchdogIntervalMs = watchdogInterval(env, options.pid ?? process.pid);
  delete env.NOTIFY_SOCKET;
  delete env.WATCHDOG_USEC;
  delete env.WATCHDOG_PID;

  const logger = options.logger;
  const command = socket ? (options.command ?? findHelper(env)) : undefined;
  if (socket && !command) {
    logger?.error('NOTIFY_SOCKET is set but systemd-notify was not found on PATH, in /usr/bin or /bin: systemd will not hear READY=1 and stops the unit at its start timeout');
  }

  // Logged once per outage, not once per watchdog ping.
  let failing = false;
  const send = (assignments: string[]): Promise<void> => {
    if (!socket || !command) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let stderr = '';
      const done = (problem: string | null) => {
        if (problem && !failing) logger?.warn(`systemd-notify ${assignments[0] ?? ''} failed: ${problem}`);
        if (!problem && failing) logger?.info('systemd-notify works again');
        failing = problem !== null;
        resolve();
      };
      const child = spawn(command, assignments, {
        env: { NOTIFY_SOCKET: socket },
        stdio: ['ignore', 'ignore', 'pipe'],
        timeout: HELPER_TIMEOUT_MS,
      });
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-500)));
      child.on('error', (error) => done(coerceError(error).message));
      child.on('close', (code, signal) => done(code === 0 ? null : `${signal ? `killed by ${signal}` : `exit code ${String(code)}`}${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
    });
  };

  // The pings come from a timer, so they stop when the event loop stops
  // turning (a blocking call that never returns, a busy loop): systemd then
  // kills the agent with WatchdogSignal and Restart= starts it again. Half
  // the interval, as sd_watchdog_enabled(3) advises. A ping still in flight
  // is not doubled.
  let pinging = false;
  const watchdog =
    watchdogIntervalMs !== null && socket && command
      ? setInterval(() => {
          if (pinging) return;
          pinging = true;
          void send(['WATCHDOG=1']).finally(() => (pinging = false));
        }, watchdogIntervalMs)
      : undefined;
  // The watchdog never keeps the process alive on its own.
  watchdog?.unref();

  return {
    active: socket !== undefined,
    watchdogIntervalMs: watchdog ? watchdogIntervalMs : null,
    notifyReady: (status) => send(['READY=1', ...statusLine(status)]),
    // MONOTONIC_USEC lets systemd 253+ tell this reload from an older one.
    notifyReloading: (status) => send(['RELOADING=1', `MONOTONIC_USEC=${process.hrtime.bigint() / 1000n}`, ...statusLine(status)]),
    notifyStopping: (status) => send(['STOPPING=1', ...statusLine(status)]),
    notifyStatus: (text) => send(statusLine(text)),
    close: () => clearInterval(watchdog),
  };
}

/** Half of WATCHDOG_USEC in ms, when the watchdog is meant for `pid`; else null. */
export function watchdogInterval(env: NodeJS.ProcessEnv, pid: number): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isInteger(usec) || usec <= 0) return null;
  // WATCHDOG_PID names the process the watchdog is for; unset means this one.
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return null;
  return Math.max(1, Math.floor(usec / 2000));
}

/** STATUS= is one line of the datagram: newlines would start new assignments. */
function statusLine(text: string | undefined): string[] {
  return text === undefined ? [] : [`STATUS=${text.replace(/[\r\n]+/g, ' ')}`];
}

function findHelper(env: NodeJS.ProcessEnv): string | undefined {
  const onPath = findOnPath('systemd-notify', env);
  if (onPath) return onPath;
  return ['/usr/bin/systemd-notify', '/bin/systemd-notify'].find((candidate) => {
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
