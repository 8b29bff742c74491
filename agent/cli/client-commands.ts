/**
 * The operator commands that work over the agent's API (`submit`, `jobs`,
 * `watch` …) and `token create`: finding the command in argv, strict flag
 * parsing per command, and turning every failure into a sentence on stderr
 * and an exit code (see `EXIT` in remote.ts).
 */
import { parseArgs } from 'node:util';
import { coerceError, errnoCode } from '../errors.js';
import type { CommandContext, CommandSpec, FlagValues } from './command.js';
import { JOB_COMMANDS } from './job-commands.js';
import { CommandError, createRemote, DEFAULT_URL, EXIT, resolveConnection, type Remote } from './remote.js';
import { TOKEN_CREATE_COMMAND } from './token-command.js';
import { WATCH_COMMAND } from './watch.js';

const COMMANDS: CommandSpec[] = [...JOB_COMMANDS, WATCH_COMMAND, TOKEN_CREATE_COMMAND];

/** Words that start a two-word command (`queue pause`, `token create`). */
const GROUPS = new Map<string, string[]>();
for (const spec of COMMANDS) {
  const [group, action] = spec.name.split(' ');
  if (action) GROUPS.set(group!, [...(GROUPS.get(group!) ?? []), action]);
}

const CONNECTION_OPTIONS: CommandSpec['options'] = {
  url: { type: 'string' },
  token: { type: 'string' },
};

const COLUMN = 27;

function wrap(text: string, indent: number, width = 79): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && indent + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}

/** The commands' part of `spool help`. */
export const CLIENT_HELP = [
  `Commands that talk to a running agent (--url URL or SPOOL_URL, default`,
  `${DEFAULT_URL}; --token TOKEN or SPOOL_TOKEN):`,
  ...COMMANDS.filter((c) => c.remote).flatMap((c) => helpEntry(c)),
  '',
  'Tokens:',
  ...helpEntry(TOKEN_CREATE_COMMAND),
  '',
  'Exit codes: 0 done, 1 the agent refused or the job failed, 2 usage error,',
  '3 the agent cannot be reached or does not accept the token.',
].join('\n');

function helpEntry(spec: CommandSpec): string[] {
  const head = `  ${spec.name}${spec.usage ? ` ${spec.usage}` : ''}`;
  const summary = wrap(spec.summary, COLUMN).map((l) => `${' '.repeat(COLUMN)}${l}`);
  if (head.length < COLUMN - 1) return [`${head.padEnd(COLUMN)}${summary[0]!.trimStart()}`, ...summary.slice(1)];
  return [head, ...summary];
}

function usage(spec: CommandSpec): string {
  const connection = spec.remote ? ' [--url URL] [--token TOKEN]' : '';
  return `Usage: spool ${spec.name}${spec.usage ? ` ${spec.usage}` : ''}${connection}`;
}

/**
 * Where the command word is: the first argument that is not a flag, nor the
 * value of `--url`/`--token` (so `spool --url X jobs` works too).
 */
function commandIndex(argv: string[]): number {
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--') return -1;
    if (arg === '--url' || arg === '--token') i += 1;
    else if (!arg.startsWith('-')) return i;
  }
  return -1;
}

export interface ClientIo {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/**
 * Runs argv when it names one of these commands and resolves with the exit
 * code; null when it names another (`agent`, `doctor` …) for the caller.
 */
export function runClientCommand(argv: string[], io: ClientIo = { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() }): Promise<number> | null {
  const at = commandIndex(argv);
  const word = argv[at];
  if (at < 0 || word === undefined) return null;
  const actions = GROUPS.get(word);
  const single = COMMANDS.find((c) => c.name === word);
  if (!actions && !single) return null;

  const fail = (label: string, error: CommandError, spec?: CommandSpec): number => {
    io.stderr.write(`spool ${label}: ${error.message}\n`);
    if (error.exitCode === EXIT.usage && spec) io.stderr.write(`${usage(spec)}\n(spool ${spec.name} --help for more)\n`);
    return error.exitCode;
  };

  let words = [at];
  let spec = single;
  if (actions) {
    const action = argv[at + 1];
    spec = COMMANDS.find((c) => c.name === `${word} ${action}`);
    if (!spec) {
      const wanted = `Expected one of: ${actions.map((a) => `spool ${word} ${a}`).join(', ')}`;
      return Promise.resolve(fail(word, new CommandError(EXIT.usage, action ? `unknown action "${action}". ${wanted}` : wanted)));
    }
    words = [at, at + 1];
  }
  return run(spec!, argv.filter((_, i) => !words.includes(i)), io, fail);
}

async function run(spec: CommandSpec, rest: string[], io: ClientIo, fail: (label: string, error: CommandError, spec?: CommandSpec) => number): Promise<number> {
  let values: FlagValues;
  let args: string[];
  try {
    const parsed = parseArgs({
      args: rest,
      options: { ...spec.options, ...(spec.remote ? CONNECTION_OPTIONS : {}), help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    values = parsed.values as FlagValues;
    args = parsed.positionals;
  } catch (error) {
    if (!errnoCode(error)?.startsWith('ERR_PARSE_ARGS_')) throw error;
    return fail(spec.name, new CommandError(EXIT.usage, coerceError(error).message), spec);
  }
  if (values.help) {
    io.stdout.write(`${usage(spec)}\n\n${wrap(spec.summary, 2).map((l) => `  ${l}`).join('\n')}\n`);
    return EXIT.ok;
  }
  if (args.length < spec.args.min || args.length > spec.args.max) {
    const wanted = spec.args.max === 0 ? 'no arguments' : spec.args.names;
    return fail(spec.name, new CommandError(EXIT.usage, `Expected ${wanted}, got ${args.length === 0 ? 'none' : args.map((a) => JSON.stringify(a)).join(' ')}`), spec);
  }

  let remote: Remote | null = null;
  const ctx: CommandContext = {
    values,
    args,
    remote: () => (remote ??= createRemote(resolveConnection({ url: values.url as string | undefined, token: values.token as string | undefined }, io.env))),
    stdout: io.stdout,
    stderr: io.stderr,
    env: io.env,
    cwd: io.cwd,
  };
  try {
    return await spec.run(ctx);
  } catch (error) {
    if (error instanceof CommandError) return fail(spec.name, error, spec);
    io.stderr.write(`spool ${spec.name}: unexpected error: ${coerceError(error).stack ?? String(error)}\n`);
    return EXIT.failed;
  } finally {
    await (remote as Remote | null)?.close();
  }
}
