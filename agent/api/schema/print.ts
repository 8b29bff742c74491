/**
 * Writes the printed SDL to schema/spool.graphql (`npm run schema`). The
 * schema test fails when the file is stale, so a schema change and its SDL
 * land in the same commit.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { printSpoolSchema } from './index.js';

/** schema/spool.graphql at the repository root, from source or from dist/. */
export function schemaFile(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'schema', 'spool.graphql');
    if (path.dirname(dir) === dir) throw new Error('package.json not found above the schema printer');
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  fs.mkdirSync(path.dirname(schemaFile()), { recursive: true });
  fs.writeFileSync(schemaFile(), printSpoolSchema());
  process.stdout.write(`wrote ${schemaFile()}\n`);
}
