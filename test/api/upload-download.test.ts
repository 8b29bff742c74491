/**
 * The console's upload and download endpoints against a running agent over
 * real HTTP: a file sent to /upload becomes a job like a dropped file, its
 * output comes back from /download, and everything a browser or a stranger
 * might try is refused.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sanitizeUploadName } from '../../agent/api/upload.js';
import { must, serverConfig, TOKENS } from '../helpers/api.js';
import { listFiles, startTestAgent, type TestAgent } from '../helpers/test-agent.js';

/** A command profile that copies its input to `<name>.copy`: quick, and needs no ffmpeg. */
const COPY = 'const fs=require("fs");fs.copyFileSync(process.argv[1],process.argv[2]+"/"+process.argv[3]+".copy")';
const CONSOLE_ORIGIN = 'http://console.example:8080';

describe('POST /upload and /download', () => {
  let t: TestAgent;
  let url: string;

  beforeAll(async () => {
    t = await startTestAgent({
      server: serverConfig({ maxUploadMb: 1, allowedOrigins: [CONSOLE_ORIGIN] }),
      profiles: { copy: { kind: 'command', command: [process.execPath, '-e', COPY, '{input}', '{outputDir}', '{outputBase}'] } },
    });
    url = t.agent.api.url();
  });
  afterAll(async () => t?.stop());

  const upload = (query: string, body: Uint8Array<ArrayBuffer> | string, token: string | null = TOKENS.operator, headers: Record<string, string> = {}) =>
    fetch(`${url}/upload?${query}`, { method: 'POST', body, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/octet-stream', ...headers } });

  /** Files the upload left in the inbox besides what the watcher took: temporary dot-names must never stay. */
  const leftovers = () => listFiles(t.inbox('copy')).filter((f) => path.basename(f).startsWith('.'));

  it('streams the file into the inbox, where it becomes a job that completes; its output downloads through a signed link', async () => {
    const content = Buffer.from('frame data '.repeat(1000));
    const response = await upload('inbox=copy&name=' + encodeURIComponent('shot 01 é.bin'), new Uint8Array(content));
    expect(response.status).toBe(201);
    const placed = (await response.json()) as { name: string; path: string; profile: string; sizeBytes: number };
    expect(placed).toMatchObject({ name: 'shot 01 é.bin', profile: 'copy', sizeBytes: content.length, path: path.join(t.inbox('copy'), 'shot 01 é.bin') });

    const id = await t.waitForClaim('shot 01 é.bin');
    const job = await t.waitForStatus(id, ['COMPLETED', 'FAILED']);
    expect(job.status).toBe('COMPLETED');
    expect(leftovers()).toEqual([]);
    const output = job.outputs[0]!.path;

    // A browser asks for a link with its token, then opens the link without one.
    const linkResponse = await fetch(`${url}/download?job=${id}&path=${encodeURIComponent(output)}`, { method: 'POST', headers: { authorization: `Bearer ${TOKENS.viewer}` } });
    expect(linkResponse.status).toBe(200);
    const { url: link } = (await linkResponse.json()) as { url: string };
    expect(link).toMatch(/^\/download\?ticket=/);
    const file = await fetch(url + link);
    expect(file.status).toBe(200);
    expect(Buffer.from(await file.arrayBuffer()).equals(content)).toBe(true);
    expect(file.headers.get('content-disposition')).toBe(`attachment; filename="shot 01 _.copy"; filename*=UTF-8''${encodeURIComponent('shot 01 é.copy')}`);
    expect(file.headers.get('content-length')).toBe(String(content.length));

    // Scripts send the token directly.
    const direct = await fetch(`${url}/download?job=${id}&path=${encodeURIComponent(output)}`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } });
    expect(Buffer.from(await direct.arrayBuffer()).equals(content)).toBe(true);

    // Only outputs of that job: not its input, not any other file, not a tampered link.
    const source = job.sourcePath;
    for (const wanted of [source, '/etc/passwd', `${output}/../../${path.basename(output)}`]) {
      const refused = await fetch(`${url}/download?job=${id}&path=${encodeURIComponent(wanted)}`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } });
      expect(refused.status).toBe(404);
    }
    const unknownJob = await fetch(`${url}/download?job=NOPE&path=${encodeURIComponent(output)}`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } });
    expect(unknownJob.status).toBe(404);
    const forged = await fetch(url + link.slice(0, -3) + 'AAA');
    expect(forged.status).toBe(403);
    const noToken = await fetch(`${url}/download?job=${id}&path=${encodeURIComponent(output)}`);
    expect(noToken.status).toBe(401);
  });

  it('never overwrites: a taken name gets a number before its extension', async () => {
    // A directory is never taken by the watcher, so the name stays taken.
    fs.mkdirSync(path.join(t.inbox('copy'), 'same.bin'));
    const response = await upload('inbox=copy&name=same.bin', 'second');
    expect(response.status).toBe(201);
    expect(((await response.json()) as { name: string }).name).toBe('same (1).bin');
    await t.waitForClaim('same (1).bin');
  });

  it('names lose path separators, control characters and leading dots', async () => {
    const response = await upload(`inbox=${encodeURIComponent(t.inbox('copy'))}&name=${encodeURIComponent('../../etc/cron.d/x\u0007.bin')}`, 'x');
    expect(response.status).toBe(201);
    const placed = (await response.json()) as { name: string; path: string };
    expect(placed.name).toBe('_.._etc_cron.d_x_.bin');
    expect(path.dirname(placed.path)).toBe(t.inbox('copy'));
    await t.waitForClaim(placed.name);

    expect([['clip.mp4', 'clip.mp4'], ['.hidden.mov', 'hidden.mov'], ['a/b\\c', 'a_b_c'], [' ..\u0000x', '_x']].map(([raw]) => sanitizeUploadName(raw!))).toEqual(['clip.mp4', 'hidden.mov', 'a_b_c', '_x']);
    for (const bad of ['', '...', 'movie.mp4.part', 'x.crdownload', 'y'.repeat(300)]) expect(() => sanitizeUploadName(bad), bad).toThrow();
  });

  it('refuses what it must, in words, and leaves nothing behind', async () => {
    const cases: [string, Promise<Response>, number, RegExp][] = [
      ['no token', upload('inbox=copy&name=a.bin', 'x', null), 401, /Bearer/],
      ['viewer token', upload('inbox=copy&name=a.bin', 'x', TOKENS.viewer), 403, /viewer role/],
      ['foreign origin', upload('inbox=copy&name=a.bin', 'x', TOKENS.operator, { origin: 'http://evil.example' }), 403, /origin/],
      ['unknown inbox', upload('inbox=nope&name=a.bin', 'x'), 404, /no inbox "nope".*copy/],
      ['temporary name', upload('inbox=copy&name=a.part', 'x'), 400, /ignore names/],
      ['over the limit (declared)', upload('inbox=copy&name=big.bin', new Uint8Array(1024 * 1024 + 1)), 413, /upload limit of 1048576 bytes/],
    ];
    for (const [what, pending, status, message] of cases) {
      const response = await pending;
      expect(response.status, what).toBe(status);
      const { errors } = (await response.json()) as { errors: { message: string }[] };
      expect(errors[0]!.message, what).toMatch(message);
    }
    expect(leftovers()).toEqual([]);
  });

  it('stops a chunked body at the limit and removes the partial file', async () => {
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = http.request(`${url}/upload?inbox=copy&name=chunked.bin`, { method: 'POST', headers: { authorization: `Bearer ${TOKENS.operator}`, 'transfer-encoding': 'chunked' } }, (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode!, body: text }));
      });
      request.on('error', reject);
      // 2 MiB in 64 KiB chunks; the agent answers and closes after the first MiB.
      const chunk = Buffer.alloc(64 * 1024, 1);
      let sent = 0;
      const pump = () => {
        while (sent < 32) {
          sent++;
          if (!request.write(chunk)) return void request.once('drain', pump);
        }
        request.end();
      };
      pump();
    });
    expect(status).toBe(413);
    expect(body).toMatch(/upload limit/);
    expect(leftovers()).toEqual([]);
    expect(fs.existsSync(path.join(t.inbox('copy'), 'chunked.bin'))).toBe(false);
  });

  it('answers a CORS preflight from an allowed console origin, and tells the limit', async () => {
    const preflight = await fetch(`${url}/upload?inbox=copy&name=a.bin`, { method: 'OPTIONS', headers: { origin: CONSOLE_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(CONSOLE_ORIGIN);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    expect(preflight.headers.get('access-control-allow-methods')).toMatch(/POST/);
    const limits = await fetch(`${url}/upload`, { headers: { authorization: `Bearer ${TOKENS.operator}`, origin: CONSOLE_ORIGIN } });
    expect(limits.headers.get('access-control-allow-origin')).toBe(CONSOLE_ORIGIN);
    expect(await limits.json()).toEqual({ maxBytes: 1024 * 1024 });
    // The GraphQL API keeps working beside these routes.
    expect((await must(url, TOKENS.viewer, '{ appliance { name } }')).appliance.name).toBeTruthy();
  });
});
