/**
 * The console's static files at `/`, from the Vite build in `console/dist`.
 *
 * Paths are decoded once and joined segment by segment; any segment that
 * starts with a dot (`..`, dotfiles) is refused, and the real path must stay
 * under the build folder, so no request reads a file outside it. A path
 * with no file extension that matches no file is a client route and gets
 * index.html. Vite names every file under assets/ by its content hash, so
 * those are cached for a year; everything else is revalidated by ETag, so
 * a new build shows up on the next load.
 */
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { contentType } from './content-types.js';

export interface ConsoleFiles {
  /** The build folder served. */
  readonly root: string;
  /** Answers a GET or HEAD for `pathname`. */
  serve(req: http.IncomingMessage, res: http.ServerResponse, pathname: string): Promise<void>;
}

/**
 * `<repository>/console/dist`: the nearest folder above this file with a
 * package.json, so it is found from `agent/api/` (tests on the sources) and
 * from `dist/agent/api/` (the built agent) alike.
 */
export function defaultConsoleRoot(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'console', 'dist');
    if (path.dirname(dir) === dir) return path.resolve('console', 'dist');
  }
}

/**
 * The console talks to other appliances too (any URL the operator adds), so
 * connect-src stays open; scripts and styles come only from this origin.
 */
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'self'; connect-src * ws: wss:; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

function text(res: http.ServerResponse, status: number, body: string) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end(body);
}

export function createConsoleFiles(options: { root?: string } = {}): ConsoleFiles {
  const root = path.resolve(options.root ?? defaultConsoleRoot());

  /** The file for a URL path, or null when the path may not be served. */
  const resolve = (pathname: string): string | null => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return null;
    }
    if (decoded.includes('\0') || decoded.includes('\\')) return null;
    const segments = decoded.split('/').filter((s) => s !== '');
    if (segments.some((s) => s.startsWith('.'))) return null;
    return path.join(root, ...segments);
  };

  const inside = (file: string, realRoot: string) => file === realRoot || file.startsWith(realRoot + path.sep);

  return {
    root,
    async serve(req, res, pathname) {
      const realRoot = await fs.promises.realpath(root).catch(() => null);
      if (!realRoot || !fs.existsSync(path.join(realRoot, 'index.html'))) {
        return text(res, 503, `The console is not built (no ${path.join(root, 'index.html')}).\nRun \`npm run build\` in the Spool folder. The API is at /graphql.\n`);
      }
      const wanted = resolve(pathname);
      if (wanted === null) return text(res, 404, 'not found\n');
      let file = wanted;
      let stat = await fs.promises.stat(file).catch(() => null);
      if (stat?.isDirectory()) {
        file = path.join(file, 'index.html');
        stat = await fs.promises.stat(file).catch(() => null);
      }
      if (!stat && path.extname(wanted) === '') {
        file = path.join(root, 'index.html');
        stat = await fs.promises.stat(file).catch(() => null);
      }
      if (!stat?.isFile()) return text(res, 404, `not found: ${pathname}\n`);
      const real = await fs.promises.realpath(file);
      if (!inside(real, realRoot)) return text(res, 404, 'not found\n');

      const etag = `W/"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
      const hashed = path.relative(realRoot, real).startsWith(`assets${path.sep}`);
      const isPage = real.endsWith('.html');
      const headers: Record<string, string | number> = {
        'content-type': contentType(real),
        'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
        etag,
        'x-content-type-options': 'nosniff',
        ...(isPage ? PAGE_HEADERS : {}),
      };
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, headers).end();
        return;
      }
      res.writeHead(200, { ...headers, 'content-length': stat.size });
      if (req.method === 'HEAD') return void res.end();
      await pipeline(fs.createReadStream(real), res);
    },
  };
}
