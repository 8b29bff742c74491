/**
 * command: an operator's own program (an AI tagger, a scene detector) run
 * with an argv from the profile, never through a shell. Whatever it leaves
 * in {outputDir} becomes the job's outputs.
 *
 * It may report progress by printing lines such as `progress=42` or
 * `PROGRESS: 42%` on stdout; every other stdout line goes to the job log.
 */
import path from 'node:path';
import type { CommandProfile } from '../../config/config.schema.js';
import type { KindContext, KindRunner } from '../kind.js';
import { AttemptError } from '../process.js';
import { FINISHED, formatCommand, throwIfAborted } from './run-ffmpeg.js';

const PROGRESS_LINE = /^progress[=:]\s*(\d+(?:\.\d+)?)\s*%?$/i;

export interface CommandPlaceholders {
  input: string;
  outputDir: string;
  outputBase: string;
}

/** Replaces {input}, {outputDir} and {outputBase} anywhere inside each argument; other braces stay as they are. */
export function expandCommand(argv: readonly string[], values: CommandPlaceholders): string[] {
  return argv.map((arg) => arg.replace(/\{(input|outputDir|outputBase)\}/g, (_, key: keyof CommandPlaceholders) => values[key]));
}

/** The percent a stdout line reports, or null for any other line. */
export function commandProgress(line: string): number | null {
  const match = PROGRESS_LINE.exec(line.trim());
  return match ? Math.min(100, Number(match[1])) : null;
}

export const runCommand: KindRunner<CommandProfile> = async (ctx: KindContext<CommandProfile>) => {
  throwIfAborted(ctx.signal, 'the command');
  const [file, ...args] = expandCommand(ctx.profile.command, { input: ctx.inputPath, outputDir: ctx.stagingDir, outputBase: ctx.outputBase });
  if (file === undefined || file === '') throw new AttemptError('internal', 'the profile\'s command is empty');
  ctx.log(formatCommand(file, args));

  let pending = '';
  const takeLine = (line: string) => {
    if (line.trim() === '') return;
    const percent = commandProgress(line);
    if (percent === null) ctx.log(line);
    else ctx.progress({ percent, fps: null, speed: null, etaSeconds: null });
  };
  const exit = await ctx.exec(file, args, {
    env: ctx.profile.env,
    // The work folder beside the input, so scratch files a program drops in its cwd are not taken for outputs.
    cwd: path.dirname(ctx.inputPath),
    onStdout: (chunk) => {
      const lines = (pending + chunk).split(/\r\n|\n|\r/);
      pending = lines.pop() ?? '';
      lines.forEach(takeLine);
    },
  });
  takeLine(pending);
  throwIfAborted(ctx.signal, 'the command');

  const details = { exitCode: exit.exitCode, signal: exit.signal, stderrTail: exit.stderrTail };
  const lastLine = [...exit.stderrTail].reverse().find((line) => line.trim() !== '')?.trim();
  if (exit.signal !== null) {
    throw new AttemptError('transient', `command was stopped by ${exit.signal}${lastLine ? `: ${lastLine}` : ''}`, details);
  }
  if (exit.exitCode !== 0) {
    throw new AttemptError('transient', `command exited with code ${exit.exitCode ?? 'unknown'}: ${lastLine ?? 'no error message'}`, details);
  }
  ctx.progress(FINISHED);
  return {};
};
