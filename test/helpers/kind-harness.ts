/**
 * A KindContext for running one kind for real outside the executor: exec is
 * spawnGroup (own process group, raw stdout chunks, as the executor gives
 * them), aborting the signal terminates what runs, and progress and log
 * lines are collected for assertions.
 */
import path from 'node:path';
import { profileSchema, type Kind, type Profile } from '../../agent/config/config.schema.js';
import type { JobProgress } from '../../agent/jobs/job.js';
import type { MediaTools } from '../../agent/media/locate.js';
import type { KindContext, Placement } from '../../agent/runner/kind.js';
import { spawnGroup, type ExitInfo } from '../../agent/runner/process.js';

export interface ExecCall {
  file: string;
  args: readonly string[];
  pid: number;
}

export interface KindHarness<P extends Profile> {
  ctx: KindContext<P>;
  controller: AbortController;
  progress: JobProgress[];
  logs: string[];
  execs: ExecCall[];
  /** Called on every progress report, after it is recorded; tests use it to act mid-run. */
  onProgress?: (progress: JobProgress) => void;
}

export interface HarnessOptions<P extends Profile> {
  tools: MediaTools;
  profile: P;
  inputPath: string;
  stagingDir: string;
  /** @default the input's base name */
  fileName?: string;
  /** @default cpu, no GPU */
  placement?: Placement;
}

/** A profile of `kind` with the schema's defaults filled in, as the config loader gives it. */
export function makeProfile<K extends Kind>(kind: K, fields: Record<string, unknown> = {}): Extract<Profile, { kind: K }> {
  return profileSchema.parse({ kind, ...fields }) as Extract<Profile, { kind: K }>;
}

export function createKindHarness<P extends Profile>(options: HarnessOptions<P>): KindHarness<P> {
  const controller = new AbortController();
  const fileName = options.fileName ?? path.basename(options.inputPath);
  const harness: KindHarness<P> = {
    controller,
    progress: [],
    logs: [],
    execs: [],
    ctx: {
      jobId: 'job-test',
      inputPath: options.inputPath,
      fileName,
      outputBase: fileName.replace(/\.[^.]*$/, '') || fileName,
      profile: options.profile,
      stagingDir: options.stagingDir,
      tools: options.tools,
      placement: options.placement ?? { encoder: 'cpu', gpuIndex: null },
      signal: controller.signal,
      exec(file, args, execOptions = {}): Promise<ExitInfo> {
        const child = spawnGroup(file, args, {
          cwd: execOptions.cwd,
          env: { ...process.env, ...execOptions.env },
          rawStdout: true,
          onStdout: execOptions.onStdout,
          onStderrLine: execOptions.onStderrLine,
        });
        harness.execs.push({ file, args, pid: child.pid });
        const stop = () => void child.terminate(2000);
        if (controller.signal.aborted) stop();
        controller.signal.addEventListener('abort', stop, { once: true });
        return child.exited.finally(() => controller.signal.removeEventListener('abort', stop));
      },
      progress(progress) {
        harness.progress.push(progress);
        harness.onProgress?.(progress);
      },
      log(line) {
        harness.logs.push(line);
      },
    },
  };
  return harness;
}
