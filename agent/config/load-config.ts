/**
 * Reads and validates the config once at start. A bad file stops the agent
 * with one line per problem naming the key, the value and what was expected.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { SpoolError } from '../errors.js';
import { configSchema, type SpoolConfig } from './config.schema.js';

/** Parses a config object (already read from YAML) and resolves its paths against `baseDir`. */
export function parseConfig(raw: unknown, baseDir: string): SpoolConfig {
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) {
    throw new SpoolError('CONFIG_INVALID', formatIssues(result.error, raw));
  }
  const config = result.data;
  config.dataDir = path.resolve(baseDir, config.dataDir);
  for (const inbox of config.inboxes) {
    inbox.path = path.resolve(baseDir, inbox.path);
    inbox.outbox = path.resolve(baseDir, inbox.outbox);
  }
  config.server.inputRoots = config.server.inputRoots.map((root) => path.resolve(baseDir, root));
  for (const hook of config.notifications.webhooks) {
    if (hook.secretFile !== undefined) hook.secretFile = path.resolve(baseDir, hook.secretFile);
  }
  const problems = crossCheck(config);
  if (problems.length > 0) throw new SpoolError('CONFIG_INVALID', problems.join('\n'));
  return config;
}

/** Reads `file` (YAML) and parses it; relative paths in it are relative to the file. */
export function loadConfigFile(file: string): SpoolConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new SpoolError('CONFIG_INVALID', `cannot read config file ${file}: ${(error as Error).message}`, { cause: error });
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    throw new SpoolError('CONFIG_INVALID', `${file} is not valid YAML: ${first.message}`);
  }
  try {
    return parseConfig(doc.toJS(), path.dirname(path.resolve(file)));
  } catch (error) {
    if (error instanceof SpoolError) {
      throw new SpoolError('CONFIG_INVALID', `invalid config ${file}:\n${error.message}`);
    }
    throw error;
  }
}

/**
 * The embedded default of `npm start`: data in `./var`, one inbox per
 * built-in profile under `./var/inbox/<profile>`, results in `./var/outbox/<profile>`.
 */
export function defaultConfig(baseDir = process.cwd()): SpoolConfig {
  const profiles = {
    web: { kind: 'transcode', encoder: 'auto' },
    thumbnail: { kind: 'thumbnail', at: '10%', width: 640, format: 'jpeg' },
    'chat-8mb': { kind: 'target-size', targetMb: 8 },
    probe: { kind: 'probe' },
  };
  return parseConfig(
    {
      dataDir: './var',
      profiles,
      inboxes: Object.keys(profiles).map((name) => ({
        path: `./var/inbox/${name}`,
        profile: name,
        outbox: `./var/outbox/${name}`,
      })),
    },
    baseDir,
  );
}

function crossCheck(config: SpoolConfig): string[] {
  const problems: string[] = [];
  const names = Object.keys(config.profiles);
  const known = `one of: ${names.join(', ') || '(no profiles defined)'}`;
  config.inboxes.forEach((inbox, i) => {
    if (!config.profiles[inbox.profile]) {
      problems.push(`inboxes[${i}].profile: got "${inbox.profile}", expected ${known}`);
    }
    if (inbox.outbox === inbox.path || inbox.outbox.startsWith(inbox.path + path.sep)) {
      problems.push(`inboxes[${i}].outbox: got "${inbox.outbox}", expected a folder outside the inbox ${inbox.path}`);
    }
    config.inboxes.slice(0, i).forEach((other, j) => {
      if (other.path === inbox.path) {
        problems.push(`inboxes[${i}].path: got "${inbox.path}", expected a folder no other inbox watches (inboxes[${j}] does)`);
      }
    });
  });
  for (const [name, profile] of Object.entries(config.profiles)) {
    profile.then.forEach((next, i) => {
      if (!config.profiles[next]) problems.push(`profiles.${name}.then[${i}]: got "${next}", expected ${known}`);
    });
  }
  const cycle = findThenCycle(config);
  if (cycle) problems.push(`profiles.${cycle[0]}.then: got a cycle ${cycle.join(' -> ')}, expected follow-on steps that end`);
  return problems;
}

function findThenCycle(config: SpoolConfig): string[] | undefined {
  const visit = (name: string, trail: string[]): string[] | undefined => {
    if (trail.includes(name)) return [...trail.slice(trail.indexOf(name)), name];
    for (const next of config.profiles[name]?.then ?? []) {
      const cycle = visit(next, [...trail, name]);
      if (cycle) return cycle;
    }
    return undefined;
  };
  for (const name of Object.keys(config.profiles)) {
    const cycle = visit(name, []);
    if (cycle) return cycle;
  }
  return undefined;
}

function formatIssues(error: z.ZodError, raw: unknown): string {
  return error.issues
    .flatMap((issue) => {
      // One line per unknown key, each at its own path, so a typo reads
      // "profiles.web.crf: got 18" rather than dumping the whole profile.
      if (issue.code === 'unrecognized_keys') {
        const known = knownKeys(issue.path, raw);
        const hint = known.length > 0 ? `; keys here: ${known.join(', ')}` : '';
        return issue.keys.map((key) => describeIssue([...issue.path, key], raw, `no such key (check the spelling and the nesting${hint})`));
      }
      return [describeIssue(issue.path, raw, describeExpected(issue))];
    })
    .join('\n');
}

function describeIssue(keyPath: PropertyKey[], raw: unknown, expected: string): string {
  const key = keyPath.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('') || '(top level)';
  const value = valueAt(raw, keyPath);
  // A config error goes to the journal and to whoever reads it: never print a secret.
  const got = value === undefined ? 'nothing' : keyPath.at(-1) === 'secret' && typeof value === 'string' ? `a secret of ${value.length} characters` : JSON.stringify(value);
  return `${key}: got ${got}, expected ${expected}`;
}

function describeExpected(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_value':
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_union':
      if ('options' in issue && issue.options) return `one of ${issue.options.map((v) => JSON.stringify(v)).join(', ')}`;
      // A plain union (thumbnail `at`): say what each alternative wanted.
      return issue.errors.map((alternative) => (alternative[0] ? describeExpected(alternative[0]) : 'another form')).join(' or ');
    case 'too_small':
      return issue.origin === 'array' || issue.origin === 'string'
        ? `at least ${String(issue.minimum)} ${issue.origin === 'array' ? 'items' : 'characters'}`
        : `a number ${issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}`;
    case 'too_big':
      return `a number ${issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}`;
    case 'invalid_type':
      return issue.expected === 'int' ? 'a whole number' : `a ${issue.expected === 'record' ? 'mapping of names to settings' : issue.expected}`;
    default:
      return issue.message;
  }
}

/** The keys the schema allows at `keyPath`, picking a profile's variant by its `kind`. */
function knownKeys(keyPath: PropertyKey[], raw: unknown): string[] {
  let schema: z.ZodType | undefined = configSchema;
  for (let i = 0; schema && i <= keyPath.length; i++) {
    schema = resolve(schema, valueAt(raw, keyPath.slice(0, i)));
    if (i === keyPath.length) break;
    const key = keyPath[i]!;
    if (schema instanceof z.ZodObject) schema = schema.shape[String(key)] as z.ZodType | undefined;
    else if (schema instanceof z.ZodRecord) schema = schema.valueType as z.ZodType;
    else if (schema instanceof z.ZodArray) schema = schema.element as z.ZodType;
    else schema = undefined;
  }
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

/** Strips defaults and optionals; a discriminated union becomes the variant `value` names. */
function resolve(schema: z.ZodType, value: unknown): z.ZodType | undefined {
  let inner = schema;
  while (inner instanceof z.ZodDefault || inner instanceof z.ZodPrefault || inner instanceof z.ZodOptional) {
    inner = inner.unwrap() as z.ZodType;
  }
  if (!(inner instanceof z.ZodDiscriminatedUnion)) return inner;
  const discriminator = inner._zod.def.discriminator;
  const tag = valueAt(value, [discriminator]);
  return (inner.options as z.ZodType[]).find((option) => {
    const literal = option instanceof z.ZodObject ? option.shape[discriminator] : undefined;
    return literal instanceof z.ZodLiteral && (literal.values as ReadonlySet<unknown>).has(tag);
  });
}

function valueAt(raw: unknown, keyPath: PropertyKey[]): unknown {
  let value = raw;
  for (const key of keyPath) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}
