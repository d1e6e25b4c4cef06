/**
 * The local stand-in for API Gateway (HTTP API): a node:http server that routes by the
 * topology's routes, turns each request into a payload 2.0 event for the route's HTTP
 * function, and writes the function's result back. What API Gateway or Elasticsearch's
 * REST layer would answer without a function (unknown path, wrong method, body too
 * large, function crash) is answered here with Elasticsearch's bodies.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import FindMyWay from 'find-my-way';
import { ContentTooLongError, EsError, InternalError } from '../domain/errors.ts';
import { routeKey, type HttpFunctionName, type RouteDefinition } from '../runtime/topology.ts';
import { toApiGatewayEvent, toHttpResponse, type HttpResponse } from './events.ts';
import { createLambdaContext, type HttpHandler } from './lambda.ts';

/** Elasticsearch's `RestRequest.Method` order, used to list allowed methods as it does. */
const ES_METHOD_ORDER = ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH'] as const;

/** Result of matching a request against the routes. */
export type RouteMatch =
  | { kind: 'route'; route: RouteDefinition; routeKey: string; pathParameters: Record<string, string> }
  | { kind: 'options'; allow: string[] }
  | { kind: 'error'; response: HttpResponse };

/** `{"error":"no handler found for uri [<uri>] and method [<METHOD>]","status":400}`, Elasticsearch's answer to an unknown path. */
export function noHandlerFoundBody(uri: string, method: string): { error: string; status: 400 } {
  return { error: `no handler found for uri [${uri}] and method [${method}]`, status: 400 };
}

/** Elasticsearch's 405 body for a known path with a method it does not serve; `allowed` in Elasticsearch's order. */
export function methodNotAllowedBody(uri: string, method: string, allowed: readonly string[]): { error: string; status: 405 } {
  return { error: `Incorrect HTTP method for uri [${uri}] and method [${method}], allowed: [${allowed.join(', ')}]`, status: 405 };
}

/** A JSON response produced by the local runtime itself (never by a function), with the Elasticsearch product header. */
export function localJsonResponse(statusCode: number, body: unknown, extraHeaders: Record<string, string> = {}): HttpResponse {
  const buf = Buffer.from(JSON.stringify(body), 'utf8');
  return {
    statusCode,
    headers: {
      'content-type': 'application/json',
      'x-elastic-product': 'Elasticsearch',
      'content-length': String(buf.length),
      ...extraHeaders,
    },
    body: buf,
  };
}

/** The local response for an `EsError` (413, 500, 503 …): its Elasticsearch body and status. */
export function esErrorResponse(err: EsError, extraHeaders: Record<string, string> = {}): HttpResponse {
  return localJsonResponse(err.status, err.toBody(), extraHeaders);
}

interface RouteStore {
  route: RouteDefinition;
}

/** The request router: API Gateway's matching (static segments before `{param}`, a parameter never empty) over the topology's routes. */
export interface Router {
  /**
   * Matches `method` and the request target `url` (path and query; the query is
   * ignored for matching but quoted in error bodies, as Elasticsearch quotes the URI).
   * A known path with another method gives Elasticsearch's 405 with `Allow`; OPTIONS
   * on a known path gives the allowed methods; anything else unknown gives 400.
   */
  match(method: string, url: string): RouteMatch;
}

/** Builds the router from topology routes (`{param}` segments become find-my-way's `:param`). */
export function createRouter(routes: readonly RouteDefinition[]): Router {
  const fmw = FindMyWay({ caseSensitive: true, ignoreTrailingSlash: false, maxParamLength: 2048 });
  const methods = new Set<string>();
  for (const route of routes) {
    const path = route.path.replace(/\{([^}]+)\}/g, ':$1');
    fmw.on(route.method, path, () => undefined, { route } satisfies RouteStore);
    methods.add(route.method);
  }

  const find = (method: string, path: string): { store: RouteStore; params: Record<string, string> } | null => {
    if (!methods.has(method)) return null;
    let found: ReturnType<typeof fmw.find>;
    try {
      found = fmw.find(method as FindMyWay.HTTPMethod, path);
    } catch {
      return null;
    }
    if (!found) return null;
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(found.params)) {
      // API Gateway never binds an empty path segment to a parameter.
      if (v === undefined || v === '') return null;
      params[k] = v;
    }
    return { store: found.store as RouteStore, params };
  };

  return {
    match(method, url) {
      const q = url.indexOf('?');
      const path = q === -1 ? url : url.slice(0, q);
      const hit = path.startsWith('/') ? find(method, path) : null;
      if (hit) {
        return { kind: 'route', route: hit.store.route, routeKey: routeKey(hit.store.route), pathParameters: hit.params };
      }
      const allowed = path.startsWith('/') ? ES_METHOD_ORDER.filter((m) => m !== method && find(m, path) !== null) : [];
      if (allowed.length === 0) return { kind: 'error', response: localJsonResponse(400, noHandlerFoundBody(url, method)) };
      if (method === 'OPTIONS') return { kind: 'options', allow: allowed };
      return {
        kind: 'error',
        response: localJsonResponse(405, methodNotAllowedBody(url, method, allowed), { allow: allowed.join(',') }),
      };
    },
  };
}

/** Options of {@link startHttpServer}. */
export interface HttpServerOptions {
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /** Interface to bind (default `127.0.0.1`). */
  host?: string;
  routes: readonly RouteDefinition[];
  /** Returns the handler of an HTTP function (loaded once, like a cold start). */
  resolveHandler: (fn: HttpFunctionName) => Promise<HttpHandler>;
  /** Largest accepted body, in bytes; larger requests get Elasticsearch's 413 before the body is read. */
  maxBodyBytes: number;
  /** Region for the Lambda context ARN. */
  region: string;
  /**
   * API Gateway's integration timeout, in ms (default 30 000): a function that has not
   * answered by then gets a 503, and its Lambda context counts down from it.
   */
  integrationTimeoutMs?: number;
  log?: (line: string) => void;
}

/** A running local HTTP server. */
export interface LocalHttpServer {
  server: Server;
  port: number;
  /** Stops accepting connections, lets in-flight requests finish (closing idle keep-alive connections), then resolves. */
  stop(): Promise<void>;
}

function writeResponse(req: IncomingMessage, res: ServerResponse, r: HttpResponse): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(r.statusCode, r.headers);
  // Node sends no body for HEAD; API Gateway answers HEAD with the headers only.
  res.end(req.method === 'HEAD' ? undefined : r.body);
}

/**
 * Reads the body as UTF-8, rejecting with `ContentTooLongError` as soon as it is known
 * to exceed `maxBytes` (from `content-length` before reading, or while streaming),
 * so an oversized body is never buffered whole.
 */
function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > maxBytes) {
      reject(new ContentTooLongError(maxBytes));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        done = true;
        chunks.length = 0;
        req.off('data', onData);
        reject(new ContentTooLongError(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => {
      if (!done) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', (err) => {
      if (!done) reject(err);
    });
  });
}

/**
 * Starts the local API Gateway on `opts.port` (keep-alive on). Each matched request
 * becomes a payload 2.0 event (`toApiGatewayEvent`) for the route's function, invoked
 * with a Lambda context; the result is written back (`toHttpResponse`). Local answers:
 * 400 unknown path, 405 wrong method (with `Allow`), 413 body too large, 500 function
 * crash or missing, 503 integration timeout; each with an Elasticsearch body and
 * `x-elastic-product: Elasticsearch`. Resolves once listening.
 */
export async function startHttpServer(opts: HttpServerOptions): Promise<LocalHttpServer> {
  const router = createRouter(opts.routes);
  const log = opts.log ?? (() => undefined);
  const timeoutMs = opts.integrationTimeoutMs ?? 30_000;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = req.url ?? '/';
    const match = router.match(method, url);
    if (match.kind === 'error') return writeResponse(req, res, match.response);
    if (match.kind === 'options') {
      res.writeHead(200, { allow: match.allow.join(','), 'x-elastic-product': 'Elasticsearch', 'content-length': '0' });
      res.end();
      return;
    }

    let body: string;
    try {
      body = await readBody(req, opts.maxBodyBytes);
    } catch (err) {
      if (err instanceof ContentTooLongError) {
        // The rest of the body is not read: close the connection after the answer.
        writeResponse(req, res, esErrorResponse(err, { connection: 'close' }));
        res.once('finish', () => req.destroy());
        return;
      }
      throw err;
    }

    const requestId = randomBytes(11).toString('base64');
    res.setHeader('apigw-requestid', requestId);
    const event = toApiGatewayEvent({
      method,
      url,
      httpVersion: req.httpVersion,
      rawHeaders: req.rawHeaders,
      body,
      sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
      routeKey: match.routeKey,
      pathParameters: match.pathParameters,
      requestId,
    });
    const fn = match.route.fn;
    let timer: NodeJS.Timeout | undefined;
    try {
      const handler = await opts.resolveHandler(fn);
      const context = createLambdaContext({ functionName: fn, timeoutMs, region: opts.region });
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const result = await Promise.race([handler(event, context), timedOut]);
      if (result === 'timeout') {
        log(`http: ${fn} did not answer ${match.routeKey} within ${timeoutMs} ms`);
        writeResponse(req, res, esErrorResponse(new EsError('exception', 503, `the request timed out after ${timeoutMs}ms`)));
        return;
      }
      writeResponse(req, res, toHttpResponse(result));
    } catch (err) {
      log(`http: ${fn} failed on ${match.routeKey}: ${(err as Error)?.stack ?? String(err)}`);
      writeResponse(req, res, esErrorResponse(new InternalError('internal server error')));
    } finally {
      clearTimeout(timer);
    }
  };

  const server = createServer({ keepAlive: true }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      log(`http: request failed: ${(err as Error)?.stack ?? String(err)}`);
      writeResponse(req, res, esErrorResponse(new InternalError('internal server error')));
    });
  });
  // Longer than clients' idle timeouts, so a client never reuses a socket the server is closing.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 0;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  let stopping: Promise<void> | undefined;
  return {
    server,
    port,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Connections that finish their request after close() turn idle: close them too.
        const sweep = setInterval(() => server.closeIdleConnections(), 50);
        const force = setTimeout(() => server.closeAllConnections(), 10_000);
        server.once('close', () => {
          clearInterval(sweep);
          clearTimeout(force);
        });
      });
      return stopping;
    },
  };
}
