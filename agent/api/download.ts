/**
 * Downloads of job outputs.
 *
 *   GET  /download?job=<id>&path=<output path>   with a bearer token: the file
 *   POST /download?job=<id>&path=<output path>   with a bearer token: { url }, a link for a browser
 *   GET  /download?ticket=<signed>               the file the link names, without a token
 *
 * Only a path that the database lists as an output of that job is served:
 * the endpoint can never become a way to read other files the agent's user
 * can reach. A browser cannot put an Authorization header on a plain link,
 * and a token in a URL would end up in its history; so the console asks for
 * a link that names one output, is signed with a key that lives only in this
 * process, and expires after a minute.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { JobOutput } from '../jobs/job.js';
import { contentType } from './content-types.js';
import { sendError, sendJson, type ApiRoute } from './routes.js';

/** How long a download link works. */
export const LINK_TTL_MS = 60_000;

interface Wanted {
  job: string;
  path: string;
}

/** `Content-Disposition` for a name that may hold any Unicode: an ASCII fallback and the exact name (RFC 6266). */
export function attachmentHeader(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

function createSigner(now: () => number) {
  const key = randomBytes(32);
  const mac = (payload: string) => createHmac('sha256', key).update(payload).digest();
  return {
    sign(wanted: Wanted): string {
      const payload = Buffer.from(JSON.stringify([wanted.job, wanted.path, now() + LINK_TTL_MS])).toString('base64url');
      return `${payload}.${mac(payload).toString('base64url')}`;
    },
    /** The output a ticket names, or a reason it is refused. */
    verify(ticket: string): Wanted | string {
      const [payload = '', signature = ''] = ticket.split('.');
      const given = Buffer.from(signature, 'base64url');
      const expected = mac(payload);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'the download link is not valid on this appliance (it may have restarted); open it again from the console';
      const [job, file, expires] = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as [string, string, number];
      if (now() > expires) return 'the download link has expired; open it again from the console';
      return { job, path: file };
    },
  };
}

export function createDownloadRoute(deps: { jobOutputs(jobId: string): Promise<JobOutput[] | null>; now?: () => number }): ApiRoute {
  const signer = createSigner(deps.now ?? Date.now);

  const wantedFrom = (url: URL): Wanted | string => {
    const job = url.searchParams.get('job');
    const file = url.searchParams.get('path');
    if (!job || !file) return 'say which output with ?job=<id>&path=<output path>';
    return { job: job.startsWith('Job:') ? job.slice(4) : job, path: file };
  };

  /** The output's size when `wanted` is an output of its job and still on disk; else [HTTP status, message]. */
  const check = async (wanted: Wanted): Promise<{ size: number } | [number, string]> => {
    const outputs = await deps.jobOutputs(wanted.job);
    if (!outputs) return [404, `no job with id ${wanted.job}`];
    if (!outputs.some((o) => o.path === wanted.path)) return [404, `${wanted.path} is not an output of job ${wanted.job}`];
    const stat = await fs.promises.stat(wanted.path).catch(() => null);
    if (!stat?.isFile()) return [410, `${wanted.path} is no longer on the appliance (moved or deleted since the job finished)`];
    return { size: stat.size };
  };

  const send = async (req: http.IncomingMessage, res: http.ServerResponse, wanted: Wanted, cors: Record<string, string>) => {
    const found = await check(wanted);
    if (Array.isArray(found)) return sendError(res, found[0], found[0] === 410 ? 'GONE' : 'NOT_FOUND', found[1], cors);
    res.writeHead(200, {
      ...cors,
      'content-type': contentType(wanted.path),
      'content-length': found.size,
      'content-disposition': attachmentHeader(path.basename(wanted.path)),
      'cache-control': 'private, no-store',
      'x-content-type-options': 'nosniff',
    });
    if (req.method === 'HEAD') return void res.end();
    await pipeline(fs.createReadStream(wanted.path), res);
  };

  return {
    methods: ['GET', 'HEAD', 'POST'],
    role: 'viewer',
    anonymous: (url) => url.searchParams.has('ticket'),
    async handle(req, res, { principal, cors, url }) {
      const ticket = url.searchParams.get('ticket');
      if (ticket !== null && !principal) {
        const wanted = signer.verify(ticket);
        if (typeof wanted === 'string') return sendError(res, 403, 'FORBIDDEN', wanted, cors);
        return send(req, res, wanted, cors);
      }
      const wanted = wantedFrom(url);
      if (typeof wanted === 'string') return sendError(res, 400, 'BAD_USER_INPUT', wanted, cors);
      if (req.method !== 'POST') return send(req, res, wanted, cors);
      // A link is only made for an output that can be downloaded now, so the console can say why not at once.
      const found = await check(wanted);
      if (Array.isArray(found)) return sendError(res, found[0], found[0] === 410 ? 'GONE' : 'NOT_FOUND', found[1], cors);
      sendJson(res, 200, { url: `/download?ticket=${signer.sign(wanted)}`, expiresInSeconds: LINK_TTL_MS / 1000 }, cors);
    },
  };
}
