/**
 * The console's static files: right types and cache headers, client routes
 * fall back to index.html, and no request path reaches outside the build.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsoleFiles, defaultConsoleRoot } from '../../agent/api/console-files.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-console-files-'));
const root = path.join(tmp, 'dist');

/** GET (or another method) with the path sent exactly as written: fetch() would normalise `..` away. */
function raw(base: string, rawPath: string, options: { method?: string; headers?: Record<string, string> } = {}) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const request = http.request(base + '/', { method: options.method ?? 'GET', path: rawPath, headers: options.headers }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

function serveOn(files: ReturnType<typeof createConsoleFiles>) {
  const server = http.createServer((req, res) => void files.serve(req, res, (req.url ?? '/').split('?')[0]!));
  return new Promise<{ url: string; close: () => void }>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() })),
  );
}

describe('console files', () => {
  let url: string;
  let close: () => void;

  beforeAll(async () => {
    fs.mkdirSync(path.join(root, 'assets'), { recursive: true });
    fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>Spool</title>');
    fs.writeFileSync(path.join(root, 'assets', 'index-3f2a9c.js'), 'console.log(1)');
    fs.writeFileSync(path.join(root, 'assets', 'index-77aa00.css'), 'body{}');
    fs.writeFileSync(path.join(root, 'favicon.svg'), '<svg/>');
    fs.writeFileSync(path.join(root, '.env'), 'SECRET=1');
    fs.writeFileSync(path.join(tmp, 'secret.txt'), 'outside the build');
    fs.symlinkSync(path.join(tmp, 'secret.txt'), path.join(root, 'assets', 'link.txt'));
    ({ url, close } = await serveOn(createConsoleFiles({ root })));
  });
  afterAll(() => {
    close?.();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('serves index.html at / with the page headers, revalidated on every load', async () => {
    const page = await raw(url, '/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>Spool</title>');
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.headers['content-security-policy']).toMatch(/script-src|default-src 'self'/);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    const again = await raw(url, '/', { headers: { 'if-none-match': page.headers.etag! } });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
  });

  it('serves hashed assets with their type, cached for a year; HEAD has no body', async () => {
    const script = await raw(url, '/assets/index-3f2a9c.js');
    expect([script.status, script.headers['content-type'], script.headers['cache-control']]).toEqual([200, 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable']);
    expect((await raw(url, '/assets/index-77aa00.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    const icon = await raw(url, '/favicon.svg');
    expect([icon.headers['content-type'], icon.headers['cache-control']]).toEqual(['image/svg+xml', 'no-cache']);
    const head = await raw(url, '/assets/index-3f2a9c.js', { method: 'HEAD' });
    expect([head.status, head.headers['content-length'], head.body]).toEqual([200, '14', '']);
  });

  it('answers client routes with index.html, a missing file with 404', async () => {
    expect((await raw(url, '/jobs/edge-01/01JABC')).body).toContain('<title>Spool</title>');
    expect((await raw(url, '/assets/missing-123.js')).status).toBe(404);
  });

  it('never serves a file outside the build, a dotfile, or through a symlink that leads out', async () => {
    for (const attempt of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/assets/%2e%2e/%2e%2e/secret.txt', '/..%5csecret.txt', '/.env', '/%2eenv', '/assets/link.txt', '/index.html%00.js', '/%E0%A4%A']) {
      const response = await raw(url, attempt);
      expect(response.status, attempt).toBe(404);
      expect(response.body, attempt).not.toMatch(/outside the build|SECRET/);
    }
  });

  it('says how to build the console when there is none', async () => {
    const missing = await serveOn(createConsoleFiles({ root: path.join(tmp, 'nothing-here') }));
    try {
      const response = await raw(missing.url, '/');
      expect(response.status).toBe(503);
      expect(response.body).toMatch(/npm run build/);
    } finally {
      missing.close();
    }
  });

  it('finds console/dist beside package.json, from the sources and from dist/ alike', () => {
    expect(defaultConsoleRoot()).toBe(path.resolve(import.meta.dirname, '../../console/dist'));
  });
});
