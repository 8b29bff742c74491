import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { configSchema } from '../../agent/config/config.schema.js';
import { defaultConfig, loadConfigFile } from '../../agent/config/load-config.js';
import { SpoolError } from '../../agent/errors.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const examplePath = path.join(root, 'config/spool.example.yaml');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-config-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/**
 * Every leaf key path of the schema. Segments: `[]` is any item of a list,
 * `*` any profile, `<transcode>` a profile of that kind. Keys all profile
 * kinds share come out once under `*`, so the example documents them once.
 */
function leafPaths(schema: z.ZodType, prefix: string[] = []): string[][] {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodObject) {
    return Object.entries(inner.shape as Record<string, z.ZodType>).flatMap(([key, child]) => leafPaths(child, [...prefix, key]));
  }
  if (inner instanceof z.ZodArray && unwrap(inner.element as z.ZodType) instanceof z.ZodObject) {
    return leafPaths(inner.element as z.ZodType, [...prefix, '[]']);
  }
  if (inner instanceof z.ZodRecord) {
    const value = unwrap(inner.valueType as z.ZodType);
    if (!(value instanceof z.ZodDiscriminatedUnion)) return [prefix];
    const variants = value.options as z.ZodObject[];
    const shared = Object.keys(variants[0]!.shape).filter((key) => variants.every((v) => key in v.shape));
    const discriminator = value._zod.def.discriminator;
    return [
      ...shared.flatMap((key) => leafPaths(variants[0]!.shape[key] as z.ZodType, [...prefix, '*', key])),
      ...variants.flatMap((variant) => {
        const kind = [...(variant.shape[discriminator] as z.ZodLiteral).values][0];
        return Object.entries(variant.shape as Record<string, z.ZodType>)
          .filter(([key]) => !shared.includes(key))
          .flatMap(([key, child]) => leafPaths(child, [...prefix, `<${String(kind)}>`, key]));
      }),
    ];
  }
  return [prefix];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let inner = schema;
  while (inner instanceof z.ZodDefault || inner instanceof z.ZodPrefault || inner instanceof z.ZodOptional) inner = inner.unwrap() as z.ZodType;
  return inner;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function present(value: unknown, keyPath: string[]): boolean {
  const [head, ...rest] = keyPath;
  if (head === undefined) return value !== undefined;
  if (head === '[]') return Array.isArray(value) && value.some((item) => present(item, rest));
  if (!isRecord(value)) return false;
  if (head === '*') return Object.values(value).some((item) => present(item, rest));
  if (head.startsWith('<')) {
    return Object.values(value).some((item) => isRecord(item) && item.kind === head.slice(1, -1) && present(item, rest));
  }
  return Object.hasOwn(value, head) && present(value[head], rest);
}

/**
 * Token entries are shown in a comment: a live token in an example would be
 * copied onto real boxes and stop the first start from creating an admin token.
 */
const SHOWN_IN_COMMENTS = ['server.tokens[].name', 'server.tokens[].role', 'server.tokens[].sha256'];

describe('config/spool.example.yaml', () => {
  const text = fs.readFileSync(examplePath, 'utf8');

  it('is a valid config', () => {
    const config = loadConfigFile(examplePath);
    expect(Object.keys(config.profiles).sort()).toEqual(['chat-8mb', 'probe', 'tag', 'thumbnail', 'web']);
    expect(new Set(Object.values(config.profiles).map((p) => p.kind))).toEqual(new Set(['transcode', 'thumbnail', 'target-size', 'probe', 'command']));
    expect(config.inboxes.every((inbox) => path.isAbsolute(inbox.path) && path.isAbsolute(inbox.outbox))).toBe(true);
  });

  it('documents every key of the schema', () => {
    const raw: unknown = parse(text);
    const paths = leafPaths(configSchema).map((segments) => ({ name: segments.join('.').replaceAll('.[]', '[]'), segments }));
    // Guard the walker itself: it must reach into lists, shared and kind-specific profile keys.
    expect(paths.map((p) => p.name)).toEqual(
      expect.arrayContaining(['inboxes[].pollIntervalMs', 'profiles.*.then', 'profiles.<transcode>.video.crf', 'profiles.<command>.env', ...SHOWN_IN_COMMENTS]),
    );
    const missing = paths.filter(({ name, segments }) => {
      if (SHOWN_IN_COMMENTS.includes(name)) return !new RegExp(`^\\s*#.*\\b${segments.at(-1)}:`, 'm').test(text);
      return !present(raw, segments);
    });
    expect(missing.map((p) => p.name)).toEqual([]);
  });
});

describe('defaultConfig', () => {
  it('has one inbox per built-in profile under ./var/inbox/<profile>, with absolute paths', () => {
    const base = path.join(tmp, 'base');
    const config = defaultConfig(base);
    expect(config.dataDir).toBe(path.join(base, 'var'));
    expect(config.inboxes).toHaveLength(4);
    for (const inbox of config.inboxes) {
      expect(config.profiles[inbox.profile]).toBeDefined();
      expect(inbox.path).toBe(path.join(base, 'var', 'inbox', inbox.profile));
      expect(inbox.outbox).toBe(path.join(base, 'var', 'outbox', inbox.profile));
    }
  });

  it('resolves against the working directory by default', () => {
    expect(defaultConfig().inboxes.every((inbox) => inbox.path.startsWith(path.join(process.cwd(), 'var', 'inbox') + path.sep))).toBe(true);
  });
});

const valid = `
profiles:
  web: { kind: transcode }
inboxes:
  - { path: /srv/spool/inbox/web, profile: web, outbox: /srv/spool/outbox/web }
`;

describe('loadConfigFile rejects a bad config with the key, the value and what was expected', () => {
  const cases: { name: string; yaml: string; says: string[] }[] = [
    {
      name: 'a negative concurrency',
      yaml: `${valid}resources:\n  categories:\n    cpu: { concurrency: -1 }\n`,
      says: ['resources.categories.cpu.concurrency: got -1, expected a number >= 0'],
    },
    {
      name: 'a misspelt kind',
      yaml: 'profiles:\n  web: { kind: transcodee }\n',
      says: ['profiles.web.kind: got "transcodee", expected one of "transcode", "thumbnail", "target-size", "probe", "command"'],
    },
    {
      name: 'an unknown key (crf belongs under video)',
      yaml: 'profiles:\n  web: { kind: transcode, crf: 18 }\n',
      says: ['profiles.web.crf: got 18, expected no such key', 'video'],
    },
    {
      name: 'an inbox naming an unknown profile',
      yaml: valid.replace('profile: web', 'profile: webb'),
      says: ['inboxes[0].profile: got "webb", expected one of: web'],
    },
    {
      name: 'then: naming an unknown profile',
      yaml: valid.replace('{ kind: transcode }', '{ kind: transcode, then: [thumb] }'),
      says: ['profiles.web.then[0]: got "thumb", expected one of: web'],
    },
    {
      name: 'a then-cycle',
      yaml: 'profiles:\n  a: { kind: probe, then: [b] }\n  b: { kind: probe, then: [a] }\n',
      says: ['profiles.a.then: got a cycle a -> b -> a'],
    },
    {
      name: 'a port that is not a number',
      yaml: `${valid}server: { port: "abc" }\n`,
      says: ['server.port: got "abc", expected a number'],
    },
    {
      name: 'a thumbnail position that is neither seconds nor a percentage',
      yaml: 'profiles:\n  thumb: { kind: thumbnail, at: soon }\n',
      says: ['profiles.thumb.at: got "soon", expected', 'a percentage such as "10%"'],
    },
    {
      name: 'invalid YAML',
      yaml: 'profiles:\n  web: { kind: transcode\n',
      says: ['is not valid YAML', 'line'],
    },
  ];

  it.each(cases)('$name', ({ yaml, says }) => {
    const file = path.join(tmp, `${Math.random().toString(36).slice(2)}.yaml`);
    fs.writeFileSync(file, yaml);
    const message = messageOf(() => loadConfigFile(file));
    expect(message).toContain(file);
    for (const part of says) expect(message).toContain(part);
  });

  it('a missing file', () => {
    const file = path.join(tmp, 'nope.yaml');
    const message = messageOf(() => loadConfigFile(file));
    expect(message).toContain(`cannot read config file ${file}`);
    expect(message).toContain('ENOENT');
  });
});

function messageOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(SpoolError);
    expect((error as SpoolError).code).toBe('CONFIG_INVALID');
    return (error as SpoolError).message;
  }
  throw new Error('expected the config to be rejected');
}
