/**
 * The agent's HTTP server: GraphQL over HTTP and WebSocket on /graphql,
 * /healthz, /readyz and /metrics; the console's files at `/` and the
 * token-checked routes beside /graphql (upload, download; see routes.ts).
 *
 * Order of checks on /graphql, cheapest first: the browser origin (a
 * foreign one is refused outright, not merely left without CORS headers),
 * then the body size, then the bearer token. Only then does Yoga parse.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLError, getOperationAST, type ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { SpoolConfig } from '../config/config.schema.js';
import type { Logger } from '../logger.js';
import { bearerToken, hasRole, type Principal, type TokenStore } from './auth.js';
import type { ConsoleFiles } from './console-files.js';
import { forbidden, type SpoolYoga } from './graphql.js';
import { bodyDeadline, type ApiRoute } from './routes.js';

export interface Readiness {
  ready: boolean;
  checks: Record<string, { ok: boolean; detail: string }>;
}

export interface ApiServerDeps {
  config: () => SpoolConfig;
  logger: Logger;
  yoga: SpoolYoga;
  tokens: TokenStore;
  readiness: () => Promise<Readiness>;
  metrics?: { contentType: string; render(): Promise<string> };
  /** Routes that need a token, by path (`/upload`, `/download`). */
  routes?: Record<string, ApiRoute>;
  /** The console's static files, for every other GET. */
  console?: ConsoleFiles;
}

export interface ApiServer {
  /** Listens on server.host:server.port; resolves with the base URL. */
  listen(): Promise<string>;
  /** The base URL once listening. */
  url(): string;
  close(): Promise<void>;
}

/** WebSocket close codes of the contract. */
export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_FORBIDDEN = 4403;

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function graphqlError(res: http.ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}) {
  json(res, status, { errors: [{ message, extensions: { code } }] }, headers);
}

export function createApiServer(deps: ApiServerDeps): ApiServer {
  const { logger } = deps;
  let baseUrl = '';

  /** Whether a browser origin may use the API: the agent's own (same host as the request) or one configured. */
  const originAllowed = (origin: string | undefined, host: string | undefined): boolean => {
    if (!origin) return true; // not a browser (CLI, curl, scripts): the token decides
    try {
      if (host && new URL(origin).host === host) return true;
    } catch {
      return false;
    }
    return deps.config().server.allowedOrigins.includes(origin);
  };

  const corsHeaders = (origin: string | undefined): Record<string, string> =>
    origin
      ? {
          'access-control-allow-origin': origin,
          'access-control-allow-methods': 'GET, POST, OPTIONS',
          'access-control-allow-headers': 'authorization, content-type, accept',
          'access-control-max-age': '600',
          vary: 'Origin',
        }
      : {};

  const handleGraphql = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const origin = req.headers.origin;
    if (!originAllowed(origin, req.headers.host)) {
      graphqlError(res, 403, 'FORBIDDEN', `origin ${origin} is not allowed; add it to server.allowedOrigins`);
      return;
    }
    const cors = corsHeaders(origin);
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors);
      res.end();
      return;
    }
    const limit = deps.config().server.maxRequestKb * 1024;
    if (req.method === 'POST') {
      const length = req.headers['content-length'];
      if (length === undefined) {
        graphqlError(res, 411, 'BAD_USER_INPUT', 'a Content-Length header is required', cors);
        return;
      }
      if (Number(length) > limit) {
        graphqlError(res, 413, 'BAD_USER_INPUT', `request body of ${length} bytes is over the limit of ${limit} (server.maxRequestKb)`, { ...cors, connection: 'close' });
        req.resume();
        return;
      }
    } else if ((req.url?.length ?? 0) > limit) {
      graphqlError(res, 414, 'BAD_USER_INPUT', `request URL is over the limit of ${limit} bytes`, cors);
      return;
    }
    const token = bearerToken(req.headers.authorization);
    const principal = deps.tokens.verify(token);
    if (!principal) {
      graphqlError(res, 401, 'UNAUTHENTICATED', token ? 'the bearer token is not valid on this appliance' : 'send Authorization: Bearer <token>', {
        ...cors,
        'www-authenticate': 'Bearer realm="spool"',
      });
      return;
    }
    for (const [name, value] of Object.entries(cors)) res.setHeader(name, value);
    await deps.yoga(req, res, { principal });
  };

  /** A token-checked route: the same origin and token checks as /graphql, then the route's role. */
  const handleRoute = async (route: ApiRoute, req: http.IncomingMessage, res: http.ServerResponse) => {
    const origin = req.headers.origin;
    if (!originAllowed(origin, req.headers.host)) {
      graphqlError(res, 403, 'FORBIDDEN', `origin ${origin} is not allowed; add it to server.allowedOrigins`);
      return;
    }
    const cors = { ...corsHeaders(origin), ...(origin ? { 'access-control-allow-methods': [...route.methods, 'OPTIONS'].join(', '), 'access-control-expose-headers': 'content-disposition' } : {}) };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors).end();
      return;
    }
    if (!route.methods.includes(req.method ?? '')) {
      graphqlError(res, 405, 'BAD_USER_INPUT', `${req.method} is not served here; use ${route.methods.join(' or ')}`, { ...cors, allow: route.methods.join(', ') });
      return;
    }
    const url = new URL(req.url ?? '/', 'http://agent');
    const token = bearerToken(req.headers.authorization);
    const principal = deps.tokens.verify(token);
    if (!principal && !(token === null && route.anonymous?.(url))) {
      graphqlError(res, 401, 'UNAUTHENTICATED', token ? 'the bearer token is not valid on this appliance' : 'send Authorization: Bearer <token>', { ...cors, 'www-authenticate': 'Bearer realm="spool"' });
      return;
    }
    if (principal && !hasRole(principal, route.role)) {
      graphqlError(res, 403, 'FORBIDDEN', `token "${principal.name}" has the ${principal.role} role; this needs ${route.role} or higher`, cors);
      return;
    }
    await route.handle(req, res, { principal, cors, url });
  };

  const handleReady = async (res: http.ServerResponse) => {
    const readiness = await deps.readiness().catch((error: Error) => ({ ready: false, checks: { agent: { ok: false, detail: error.message } } }));
    json(res, readiness.ready ? 200 : 503, { status: readiness.ready ? 'ready' : 'not ready', checks: readiness.checks });
  };

  const handleMetrics = async (res: http.ServerResponse) => {
    if (!deps.metrics) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics are not enabled\n');
      return;
    }
    const body = await deps.metrics.render();
    res.writeHead(200, { 'content-type': deps.metrics.contentType });
    res.end(body);
  };

  const server = http.createServer((req, res) => {
    const pathname = (req.url ?? '/').split('?')[0];
    const extra = deps.routes?.[pathname ?? ''];
    if (!extra?.streamsBody) bodyDeadline(req, res, 60_000);
    const route = async () => {
      if (pathname === '/graphql') return handleGraphql(req, res);
      if (extra) return handleRoute(extra, req, res);
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
        return;
      }
      if (pathname === '/healthz') return json(res, 200, { status: 'ok' });
      if (pathname === '/readyz') return handleReady(res);
      if (pathname === '/metrics') return handleMetrics(res);
      if (deps.console) return deps.console.serve(req, res, pathname ?? '/');
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`not found: ${pathname}\nThe API is at /graphql.\n`);
    };
    route().catch((error: Error) => {
      logger.error(`HTTP ${req.method} ${pathname} failed: ${error.stack ?? error.message}`);
      if (!res.headersSent) json(res, 500, { errors: [{ message: 'Internal error; the agent log has the details', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      else res.destroy();
    });
  });
  // Slow-loris and idle connections must not pile up. The whole-request
  // deadline is set per request above (bodyDeadline): Node's own
  // requestTimeout would also cut a long upload.
  server.requestTimeout = 0;
  server.headersTimeout = 20_000;

  const sockets = new WebSocketServer({ noServer: true, maxPayload: deps.config().server.maxRequestKb * 1024 });
  const principals = new WeakMap<WebSocket, Principal>();

  server.on('upgrade', (req, socket, head) => {
    if ((req.url ?? '').split('?')[0] !== '/graphql') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => {
      if (!originAllowed(req.headers.origin, req.headers.host)) {
        ws.close(CLOSE_FORBIDDEN, 'Forbidden: origin not allowed');
        return;
      }
      sockets.emit('connection', ws, req);
      // graphql-ws prints socket errors to the console; an oversized or
      // malformed frame is the client's fault, ws has already closed the
      // socket with the right code (1009, 1002), so a debug line is enough.
      ws.removeAllListeners('error');
      ws.on('error', (error) => logger.debug(`WebSocket from ${req.socket.remoteAddress} closed: ${error.message}`));
    });
  });

  const yoga = deps.yoga;
  useServer<Record<string, unknown> | undefined, { socket: WebSocket; request: http.IncomingMessage }>(
    {
      onConnect(ctx) {
        const raw = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        const principal = deps.tokens.verify(bearerToken(typeof raw === 'string' ? raw : null));
        if (!principal) {
          ctx.extra.socket.close(CLOSE_UNAUTHORIZED, 'Unauthorized: connectionParams.authorization needs "Bearer <token>"');
          return false;
        }
        principals.set(ctx.extra.socket, principal);
        return true;
      },
      async onSubscribe(ctx, _id, params) {
        const principal = principals.get(ctx.extra.socket)!;
        // `req`, not `request`: Yoga reads `request` as a Fetch request and would refuse a mutation on the upgrade's GET.
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({ principal, req: ctx.extra.request, params });
        let document;
        try {
          document = parse(params.query);
        } catch (error) {
          return [error instanceof GraphQLError ? error : new GraphQLError(String(error))];
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
        const operation = getOperationAST(document, params.operationName);
        if (operation?.operation === 'mutation' && !hasRole(principal, 'operator')) {
          ctx.extra.socket.close(CLOSE_FORBIDDEN, 'Forbidden: mutations need the operator role');
          return [forbidden(`token "${principal.name}" has the ${principal.role} role; changing jobs or the queue needs operator or admin`)];
        }
        return {
          schema,
          operationName: params.operationName,
          document,
          variableValues: params.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
      },
      execute: (args: ExecutionArgs) => (args.rootValue as { execute: (a: ExecutionArgs) => unknown }).execute(args) as never,
      subscribe: (args: ExecutionArgs) => (args.rootValue as { subscribe: (a: ExecutionArgs) => unknown }).subscribe(args) as never,
    },
    sockets,
  );

  return {
    listen() {
      const { host, port } = deps.config().server;
      return new Promise<string>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address() as AddressInfo;
          const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          baseUrl = `http://${shown}:${address.port}`;
          resolve(baseUrl);
        });
      });
    },
    url: () => baseUrl,
    async close() {
      for (const client of sockets.clients) client.close(1001, 'agent stopping');
      await new Promise<void>((resolve) => sockets.close(() => resolve()));
      server.closeIdleConnections();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Long-lived streams (SSE) would hold close() open: cut them after a moment.
        setTimeout(() => server.closeAllConnections(), 1000).unref();
      });
    },
  };
}
