/**
 * What one `spool` sub-command declares, and the argument checks they share.
 * The dispatcher (client-commands.ts) parses the flags a command declares,
 * strictly, so a mistyped flag is a usage error and never silently ignored.
 */
import type { ParseArgsConfig } from 'node:util';
import { JOB_STATUSES, type JobStatus } from '../jobs/job.js';
import { CommandError, EXIT, type ExitCode, type Remote } from './remote.js';

export type FlagValues = Record<string, string | boolean | string[] | undefined>;

export interface CommandContext {
  values: FlagValues;
  /** Positional arguments after the command's name (and its action word, for `queue` and `token`). */
  args: string[];
  /** The agent's API from `--url`/`--token` or the environment, made on first use. */
  remote(): Remote;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface CommandSpec {
  /** As typed: `submit`, `queue pause`, `token create`. */
  name: string;
  /** What follows the name in the usage line. */
  usage: string;
  /** One line for `spool help`. */
  summary: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** How many positional arguments it takes. */
  args: { min: number; max: number; names: string };
  /** Whether it talks to an agent (adds `--url` and `--token`). */
  remote: boolean;
  run(ctx: CommandContext): Promise<ExitCode>;
}

export function usageError(message: string): CommandError {
  return new CommandError(EXIT.usage, message);
}

export function stringFlag(values: FlagValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function requiredFlag(values: FlagValues, name: string, example: string): string {
  const value = stringFlag(values, name);
  if (value === undefined || value === '') throw usageError(`Expected \`--${name}\`, e.g. --${name} ${example}`);
  return value;
}

/** A whole number in [min, max] from a flag or argument, worded like the config's errors. */
export function integerArg(label: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const value = /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw usageError(`Expected \`${label}\` to be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** `running,failed` (any case, repeatable) as API statuses. */
export function statusList(raw: string[] | undefined): JobStatus[] | undefined {
  if (!raw || raw.length === 0) return undefined;
  const statuses = raw.flatMap((r) => r.split(',')).map((s) => s.trim().toUpperCase()).filter(Boolean);
  for (const status of statuses) {
    if (!(JOB_STATUSES as readonly string[]).includes(status)) {
      throw usageError(`Expected \`--status\` to be one or more of ${JOB_STATUSES.map((s) => s.toLowerCase()).join(', ')} (comma-separated), got ${JSON.stringify(status.toLowerCase())}`);
    }
  }
  return [...new Set(statuses)] as JobStatus[];
}

export function writeJson(stdout: NodeJS.WriteStream, value: unknown): void {
  stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
