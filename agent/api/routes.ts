/**
 * HTTP routes besides /graphql that need a token (upload, download). The
 * server checks the origin and the bearer token the same way it does for
 * /graphql, answers CORS preflights, and only then hands the request over.
 */
import type http from 'node:http';
import type { Principal, Role } from './auth.js';

export interface RouteContext {
  /** Who sent the request; null only on a request the route let through without a token (see `anonymous`). */
  principal: Principal | null;
  /** CORS headers to send with every answer (empty for a same-origin or non-browser request). */
  cors: Record<string, string>;
  url: URL;
}

export interface ApiRoute {
  /** Methods served; OPTIONS (the CORS preflight) is answered by the server. */
  methods: readonly string[];
  /** The role a bearer token needs. */
  role: Role;
  /**
   * Whether this request may arrive without a bearer token because it
   * carries its own proof (a signed download link a browser opens directly,
   * which cannot send an Authorization header). The route must then check it.
   */
  anonymous?(url: URL): boolean;
  /** Streams a request body: Node's whole-request deadline must not cut it (the route watches for stalls itself). */
  streamsBody?: boolean;
  handle(req: http.IncomingMessage, res: http.ServerResponse, ctx: RouteContext): Promise<void>;
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

/** An error answer in the shape GraphQL errors have, so a client reads both the same way. */
export function sendError(res: http.ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { errors: [{ message, extensions: { code } }] }, headers);
}

/**
 * Node's `server.requestTimeout` counts the whole request, body included,
 * so it would cut any upload longer than a minute. The server turns it off
 * and calls this for every request that is not a streamed upload: the same
 * deadline, per request.
 */
export function bodyDeadline(req: http.IncomingMessage, res: http.ServerResponse, ms: number): void {
  const timer = setTimeout(() => {
    if (req.complete) return;
    if (!res.headersSent) res.writeHead(408, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }).end('request body took too long\n');
    req.destroy();
  }, ms);
  timer.unref();
  res.once('close', () => clearTimeout(timer));
}
