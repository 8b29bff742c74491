/**
 * A stand-in for systemd's notification socket: a Unix datagram socket that
 * records every message sent to it. Node cannot open one (no Unix datagram
 * sockets), so a few lines of Perl do, with the Socket module of perl-base,
 * which every Debian system has (it is Essential). Elsewhere `available()`
 * says why not, and the tests that need it are skipped with that reason.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Binds the socket, prints "listening", then one line per datagram (newlines escaped as \n). */
const LISTENER = [
  'use strict; use warnings; use Socket;',
  'socket(my $s, PF_UNIX, SOCK_DGRAM, 0) or die "socket: $!";',
  'bind($s, pack_sockaddr_un($ARGV[0])) or die "bind: $!";',
  '$| = 1; print "listening\\n";',
  'while (defined(recv($s, my $buf, 65536, 0))) { $buf =~ s/\\\\/\\\\\\\\/g; $buf =~ s/\\n/\\\\n/g; print "$buf\\n"; }',
].join('\n');

export interface NotifyMessage {
  /** The datagram's assignments in order, e.g. ["READY=1", "STATUS=running"]. */
  assignments: string[];
  at: number;
}

export interface NotifySocket {
  /** The socket's path: pass it as NOTIFY_SOCKET. */
  path: string;
  messages: NotifyMessage[];
  /** Resolves with the first message (from index `from` on) that has `assignment`. */
  waitFor(assignment: string, options?: { from?: number; timeoutMs?: number }): Promise<NotifyMessage>;
  close(): Promise<void>;
}

/** Null when a listener can be started here, else the reason it cannot. */
export function notifySocketUnavailable(): string | null {
  const probe = spawnSync('perl', ['-MSocket', '-e', 'socket(my $s, PF_UNIX, SOCK_DGRAM, 0) or die $!'], { encoding: 'utf8' });
  if (probe.error) return `perl is not available (${probe.error.message}); it stands in for systemd's notification socket`;
  if (probe.status !== 0) return `perl cannot open a Unix datagram socket: ${probe.stderr.trim()}`;
  return null;
}

export async function listenNotifySocket(): Promise<NotifySocket> {
  // sockaddr_un holds about 108 bytes: a short folder under the temp dir.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-notify-'));
  const socketPath = path.join(dir, 'notify.sock');
  const child = spawn('perl', ['-e', LISTENER, socketPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  const messages: NotifyMessage[] = [];
  const wakers = new Set<() => void>();
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));

  await new Promise<void>((resolve, reject) => {
    let buffer = '';
    let listening = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffer += chunk;
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        if (!listening) {
          listening = line === 'listening';
          if (listening) resolve();
          continue;
        }
        messages.push({ assignments: unescape(line).split('\n').filter((a) => a !== ''), at: Date.now() });
      }
      for (const wake of [...wakers]) wake();
    });
    void exited.then(() => reject(new Error(`notify socket listener exited: ${stderr.trim()}`)));
  });

  return {
    path: socketPath,
    messages,
    waitFor(assignment, { from = 0, timeoutMs = 30_000 } = {}) {
      return new Promise((resolve, reject) => {
        let index = from;
        const check = () => {
          for (; index < messages.length; index += 1) {
            if (messages[index]!.assignments.includes(assignment)) {
              finish();
              resolve(messages[index]!);
              return;
            }
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`timed out waiting for ${assignment} on the notify socket; got: ${JSON.stringify(messages.map((m) => m.assignments))}`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          wakers.delete(check);
        };
        wakers.add(check);
        check();
      });
    },
    async close() {
      child.kill('SIGTERM');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function unescape(line: string): string {
  return line.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
}
