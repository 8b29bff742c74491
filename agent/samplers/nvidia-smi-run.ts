/**
 * One bounded call of nvidia-smi. nvidia-smi hangs on a wedged driver (and
 * for seconds while a GPU falls off the bus), so every call has a time
 * limit: past it the child is killed and the call reported as timed out at
 * once, without waiting for the exit a process stuck in the kernel may
 * never make. Until that child has really exited, no new one is started:
 * a hung driver would otherwise collect one stuck nvidia-smi per interval.
 *
 * The program is looked up on the PATH of the injected environment (tests
 * put a fake first), and always run with an argument array, never a shell.
 */
import { spawn } from 'node:child_process';
import { systemClock, type Clock } from '../clock.js';
import { findOnPath } from '../media/locate.js';

export type NvidiaSmiResult = { ok: true; stdout: string } | { ok: false; error: string; timedOut: boolean };

export interface NvidiaSmiRunner {
  run(args: readonly string[]): Promise<NvidiaSmiResult>;
}

export interface NvidiaSmiRunnerOptions {
  /** Longest a call may take before it is killed. */
  timeoutMs: number;
  /** Whose PATH finds nvidia-smi, and the child's environment. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** @default systemClock */
  clock?: Clock;
}

/** More than any real `-q -x` of a many-GPU box; past it the output is not nvidia-smi's. */
const MAX_OUTPUT_BYTES = 32 * 1024 * 1024;

export function createNvidiaSmiRunner(options: NvidiaSmiRunnerOptions): NvidiaSmiRunner {
  const env = options.env ?? process.env;
  const clock = options.clock ?? systemClock;
  /** A child killed after its time limit that has not exited yet, and its exit. */
  let lingering: { pid: number | undefined; exited: Promise<void> } | null = null;

  /** Whether `exited` settles within one time limit. */
  const exitsInTime = (exited: Promise<void>) =>
    new Promise<boolean>((resolve) => {
      const cancel = clock.setTimeout(() => resolve(false), options.timeoutMs);
      void exited.then(() => {
        cancel();
        resolve(true);
      });
    });

  return {
    async run(args) {
      // A killed child normally exits within milliseconds; one stuck in the
      // kernel does not, and then no second one joins it.
      if (lingering && !(await exitsInTime(lingering.exited))) {
        return { ok: false, timedOut: true, error: `nvidia-smi (pid ${lingering.pid}) has not exited since it was killed; the driver may be wedged` };
      }
      const file = findOnPath('nvidia-smi', env) ?? null;
      if (!file) return { ok: false, timedOut: false, error: 'nvidia-smi not found' };
      return new Promise((resolve) => {
        const child = spawn(file, [...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        const exited = new Promise<void>((done) => child.once('close', () => done()));
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let bytes = 0;
        let settled = false;
        const finish = (result: NvidiaSmiResult) => {
          if (settled) return;
          settled = true;
          cancelTimer();
          resolve(result);
        };
        const kill = (error: string) => {
          child.kill('SIGKILL');
          if (child.exitCode === null && child.signalCode === null) {
            const entry = { pid: child.pid, exited };
            lingering = entry;
            void exited.then(() => {
              if (lingering === entry) lingering = null;
            });
          }
          finish({ ok: false, timedOut: true, error });
        };
        const cancelTimer = clock.setTimeout(() => kill(`nvidia-smi did not answer in ${options.timeoutMs} ms`), options.timeoutMs);
        child.stdout.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > MAX_OUTPUT_BYTES) kill(`nvidia-smi printed more than ${MAX_OUTPUT_BYTES} bytes`);
          else out.push(chunk);
        });
        child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
        child.on('error', (error: NodeJS.ErrnoException) => {
          finish({ ok: false, timedOut: false, error: error.code === 'ENOENT' ? 'nvidia-smi not found' : `nvidia-smi could not start: ${error.message}` });
        });
        child.on('close', (code, signal) => {
          const stdout = Buffer.concat(out).toString('utf8');
          if (code === 0) return finish({ ok: true, stdout });
          // nvidia-smi prints its own errors ("NVIDIA-SMI has failed because …") on stdout.
          const said = firstLine(Buffer.concat(err).toString('utf8')) || firstLine(stdout);
          const how = signal ? `killed by ${signal}` : `exit ${code}`;
          finish({ ok: false, timedOut: false, error: `nvidia-smi failed (${how})${said ? `: ${said}` : ''}` });
        });
      });
    },
  };
}

function firstLine(text: string): string {
  return text.split('\n').map((line) => line.trim()).find((line) => line !== '') ?? '';
}
