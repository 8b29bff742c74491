/**
 * The notifier against a real Unix datagram socket standing in for systemd's
 * (see test/helpers/notify-socket.ts), through the real systemd-notify.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, type LogLevel } from '../../agent/logger.js';
import { findOnPath } from '../../agent/media/locate.js';
import { createSystemdNotifier, watchdogInterval, type SystemdNotifier } from '../../agent/ops/sd-notify.js';
import { listenNotifySocket, notifySocketUnavailable, type NotifySocket } from '../helpers/notify-socket.js';

const noSocket = notifySocketUnavailable();
const noHelper = findOnPath('systemd-notify') ? null : 'systemd-notify is not installed (Debian package systemd)';
const skipReason = noSocket ?? noHelper;

function capture() {
  const lines: { level: LogLevel; line: string }[] = [];
  return { lines, logger: createLogger({ level: 'debug', write: (level, line) => lines.push({ level, line }) }) };
}

describe('watchdogInterval', () => {
  it.each([
    { env: {}, pid: 10, expected: null, why: 'no watchdog asked for' },
    { env: { WATCHDOG_USEC: '30000000' }, pid: 10, expected: 15_000, why: 'half of 30 s' },
    { env: { WATCHDOG_USEC: '30000000', WATCHDOG_PID: '10' }, pid: 10, expected: 15_000, why: 'meant for this process' },
    { env: { WATCHDOG_USEC: '30000000', WATCHDOG_PID: '11' }, pid: 10, expected: null, why: 'meant for another process' },
    { env: { WATCHDOG_USEC: '0' }, pid: 10, expected: null, why: 'zero' },
    { env: { WATCHDOG_USEC: 'soon' }, pid: 10, expected: null, why: 'not a number' },
    { env: { WATCHDOG_USEC: '1500' }, pid: 10, expected: 1, why: 'below a millisecond rounds up to 1 ms' },
  ])('$why', ({ env, pid, expected }) => {
    expect(watchdogInterval(env, pid)).toBe(expected);
  });
});

describe('without NOTIFY_SOCKET', () => {
  it('does nothing, logs nothing and never looks for the helper', async () => {
    const { lines, logger } = capture();
    const env: NodeJS.ProcessEnv = { WATCHDOG_USEC: '1000', PATH: '' };
    const notifier = createSystemdNotifier({ env, logger, command: '/nonexistent/systemd-notify' });
    expect(notifier.active).toBe(false);
    expect(notifier.watchdogIntervalMs).toBeNull();
    await notifier.notifyReady('up');
    await notifier.notifyStopping();
    notifier.close();
    expect(lines).toEqual([]);
  });
});

describe('a helper that cannot run', () => {
  it('is reported once as a warning, never thrown', async () => {
    const { lines, logger } = capture();
    const notifier = createSystemdNotifier({ env: { NOTIFY_SOCKET: '/nonexistent.sock' }, logger, command: '/nonexistent/systemd-notify' });
    await notifier.notifyReady();
    await notifier.notifyStatus('still failing');
    expect(lines.map((l) => l.level)).toEqual(['warn']);
    expect(lines[0]!.line).toMatch(/^<4>systemd-notify READY=1 failed: .*ENOENT/);
  });
});

describe.skipIf(skipReason !== null)(`through systemd-notify to a listening socket${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let socket: NotifySocket | undefined;
  let notifier: SystemdNotifier | undefined;
  afterEach(async () => {
    notifier?.close();
    await socket?.close();
  });

  it('sends READY=1 with a status, STATUS=, RELOADING=1 and STOPPING=1, in order', async () => {
    socket = await listenNotifySocket();
    notifier = createSystemdNotifier({ env: { NOTIFY_SOCKET: socket.path, PATH: process.env.PATH } });
    expect(notifier.active).toBe(true);
    await notifier.notifyReady('running; 2 inboxes');
    await notifier.notifyStatus('line one\nline two');
    await notifier.notifyReloading();
    await notifier.notifyStopping();
    // systemd-notify adds a BARRIER=1 round trip after each message.
    const sent = socket.messages.map((m) => m.assignments).filter((a) => !a.includes('BARRIER=1'));
    expect(sent[0]).toEqual(['READY=1', 'STATUS=running; 2 inboxes']);
    expect(sent[1]).toEqual(['STATUS=line one line two']);
    expect(sent[2]![0]).toBe('RELOADING=1');
    expect(sent[2]![1]).toMatch(/^MONOTONIC_USEC=\d+$/);
    expect(sent[3]).toEqual(['STOPPING=1']);
  });

  it('pings WATCHDOG=1 at half of WATCHDOG_USEC and stops when closed', async () => {
    socket = await listenNotifySocket();
    const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: socket.path, WATCHDOG_USEC: '200000', WATCHDOG_PID: String(process.pid), PATH: process.env.PATH };
    const started = Date.now();
    notifier = createSystemdNotifier({ env });
    expect(notifier.watchdogIntervalMs).toBe(100);
    // Taken out so children (ffmpeg, operators' commands) cannot notify.
    expect(env).toEqual({ PATH: process.env.PATH });
    const first = await socket.waitFor('WATCHDOG=1', { timeoutMs: 5000 });
    let third = first;
    for (let i = 0; i < 2; i++) third = await socket.waitFor('WATCHDOG=1', { from: socket.messages.indexOf(third) + 1, timeoutMs: 5000 });
    expect(first.at - started).toBeGreaterThanOrEqual(90);
    expect(third.at - first.at).toBeGreaterThanOrEqual(150);
    notifier.close();
    const count = socket.messages.length;
    // One more interval and a half: a ping already in flight may still land, no new one starts.
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(socket.messages.filter((m, i) => i >= count && m.assignments.includes('WATCHDOG=1')).length).toBeLessThanOrEqual(1);
  });
});
