/**
 * The local stand-in for API Gateway (HTTP API): a node:http server that routes by the
 * topology's routes, turns each request into a payload 2.0 event for the route's HTTP
 * function, and writes the function's result back. What API Gateway or Elasticsearch's
 * REST layer would answer without a function (unknown path, wrong method, body too
 * large, function crash) is answered here with Elasticsearch's bodies.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { ContentTooLongError, EsError, IllegalArgumentError, InternalError } from '../domain/errors.ts';
import { createRouteMatcher } from '../http/router.ts';
import { logAccess } from '../runtime/log.ts';
import type { HttpFunctionName, RouteDefinition } from '../runtime/topology.ts';
import { toApiGatewayEvent, toHttpResponse, type HttpResponse } from './events.ts';
import { listen } from './listen.ts';
import { createLambdaContext, type HttpHandler } from './lambda.ts';

/** Result of matching a request against the routes, with the local runtime's own answer when none matches. */
export type RouteMatch =
  | { kind: 'route'; route: RouteDefinition; routeKey: string; pathParameters: Record<string, string> }
  | { kind: 'options'; allow: string[] }
  | { kind: 'error'; response: HttpResponse };

export { methodNotAllowedBody, noHandlerFoundBody } from '../http/router.ts';

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

/** The request router of the local API Gateway: {@link createRouteMatcher}'s matching, its refusals as ready responses. */
export interface Router {
  /** See `RouteMatcher.match` (`lib/http/router.ts`); a refusal comes as the response to write (with `x-elastic-product`, and `allow` on a 405). */
  match(method: string, url: string): RouteMatch;
}

/** Builds the router from topology routes (`lib/http/router.ts`, shared with the command ingress). */
export function createRouter(routes: readonly RouteDefinition[]): Router {
  const matcher = createRouteMatcher(routes);
  return {
    match(method, url) {
      const m = matcher.match(method, url);
      if (m.kind !== 'error') return m;
      return { kind: 'error', response: localJsonResponse(m.status, m.body, m.headers) };
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
 * Reads the body bytes, rejecting with `ContentTooLongError` as soon as it is known
 * to exceed `maxBytes` (from `content-length` before reading, or while streaming),
 * so an oversized body is never buffered whole.
 */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
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
      if (!done) resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      if (!done) reject(err);
    });
  });
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Elasticsearch's `http.max_initial_line_length` default (4kb): the request line, without CRLF. */
export const MAX_INITIAL_LINE_BYTES = 4096;
/** Elasticsearch's `http.max_header_size` default (16kb): all header lines together. */
export const MAX_HEADER_BYTES = 16 * 1024;
/**
 * Node's own parser limit, above Elasticsearch's two together (4 KiB + 16 KiB) so that
 * Elasticsearch's limits are checked here with its messages; past it Node's parser gives up
 * and `clientError` answers. Kept under a socket read (64 KiB) so the refused packet usually
 * still holds the request line, which tells a long line from long headers.
 */
const NODE_MAX_HEADER_BYTES = 32 * 1024;

/** The path of a request target, for access lines (the query may hold secrets: never logged). */
function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/**
 * Netty's limits as Elasticsearch configures them: a request line longer than 4096 bytes is
 * `too_long_http_line_exception` "An HTTP line is larger than 4096 bytes."; header lines
 * together longer than 16384 bytes are `too_long_http_header_exception` "HTTP header is
 * larger than 16384 bytes." (both 400: Elasticsearch answers a decoder failure as a bad request).
 */
export function checkHttpLimits(req: Pick<IncomingMessage, 'method' | 'url' | 'httpVersion' | 'rawHeaders'>): EsError | undefined {
  const line = Buffer.byteLength(`${req.method ?? ''} ${req.url ?? ''} HTTP/${req.httpVersion}`, 'latin1');
  if (line > MAX_INITIAL_LINE_BYTES) return new EsError('too_long_http_line_exception', 400, `An HTTP line is larger than ${MAX_INITIAL_LINE_BYTES} bytes.`);
  let headers = 0;
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers += Buffer.byteLength(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`, 'latin1');
  if (headers > MAX_HEADER_BYTES) return new EsError('too_long_http_header_exception', 400, `HTTP header is larger than ${MAX_HEADER_BYTES} bytes.`);
  return undefined;
}

/**
 * The Elasticsearch error for a request Node's HTTP parser refused: past the size limit, the
 * too-long line or header error (by where the first line ends); anything else malformed, a
 * 400 `illegal_argument_exception` with the parser's reason (Netty's wording differs per
 * case; the status and shape are what clients act on).
 */
export function clientErrorOf(err: NodeJS.ErrnoException & { rawPacket?: Buffer; reason?: string }): EsError {
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    const packet = err.rawPacket ?? Buffer.alloc(0);
    const eol = packet.indexOf('\r\n');
    // A packet that does not start a request continues one: its line was short enough to parse.
    const startsRequest = /^[A-Z]+ /.test(packet.subarray(0, 16).toString('latin1'));
    if (startsRequest && (eol === -1 || eol > MAX_INITIAL_LINE_BYTES))
      return new EsError('too_long_http_line_exception', 400, `An HTTP line is larger than ${MAX_INITIAL_LINE_BYTES} bytes.`);
    return new EsError('too_long_http_header_exception', 400, `HTTP header is larger than ${MAX_HEADER_BYTES} bytes.`);
  }
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'HPE_TIMEOUT') return new EsError('exception', 408, 'request timed out');
  return new IllegalArgumentError(`malformed HTTP request: ${err.reason ?? err.message}`);
}

/**
 * Starts the local API Gateway on `opts.port` (keep-alive on). Each matched request
 * becomes a payload 2.0 event (`toApiGatewayEvent`) for the route's function, invoked
 * with a Lambda context; the result is written back (`toHttpResponse`). Local answers:
 * 400 unknown path, 405 wrong method (with `Allow`), 413 body too large, 500 function
 * crash or missing, 503 integration timeout; 400 `too_long_http_line_exception` /
 * `too_long_http_header_exception` past Elasticsearch's HTTP limits and 400 for malformed
 * HTTP; each with an Elasticsearch body and `x-elastic-product: Elasticsearch`, and an
 * access line (requests a function answers get theirs from the function's chain). A body
 * that is not UTF-8 reaches the function base64-encoded (`isBase64Encoded`), never
 * lossily decoded. Resolves once listening.
 */
export async function startHttpServer(opts: HttpServerOptions): Promise<LocalHttpServer> {
  const router = createRouter(opts.routes);
  const log = opts.log ?? (() => undefined);
  const timeoutMs = opts.integrationTimeoutMs ?? 30_000;

  /** Writes a response the server produced itself (no function ran) and its access line. */
  const answer = (req: IncomingMessage, res: ServerResponse, r: HttpResponse, startedMs: number): void => {
    writeResponse(req, res, r);
    logAccess({ method: req.method ?? '?', path: pathOf(req.url ?? '/'), status: r.statusCode, durationMs: Date.now() - startedMs });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const startedMs = Date.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = req.url ?? '/';
    const tooLong = checkHttpLimits(req);
    if (tooLong) {
      res.once('finish', () => req.destroy());
      return answer(req, res, esErrorResponse(tooLong, { connection: 'close' }), startedMs);
    }
    const match = router.match(method, url);
    if (match.kind === 'error') return answer(req, res, match.response, startedMs);
    if (match.kind === 'options') {
      res.writeHead(200, { allow: match.allow.join(','), 'x-elastic-product': 'Elasticsearch', 'content-length': '0' });
      res.end();
      logAccess({ method, path: pathOf(url), status: 200, durationMs: Date.now() - startedMs });
      return;
    }

    let bytes: Buffer;
    try {
      bytes = await readBody(req, opts.maxBodyBytes);
    } catch (err) {
      if (err instanceof ContentTooLongError) {
        // The rest of the body is not read: close the connection after the answer.
        answer(req, res, esErrorResponse(err, { connection: 'close' }), startedMs);
        res.once('finish', () => req.destroy());
        return;
      }
      throw err;
    }
    // Text goes as text; bytes that are not UTF-8 go as base64, as API Gateway passes a
    // binary body, so the function sees them exactly and refuses them (never U+FFFD).
    let body: string;
    let isBase64Encoded = false;
    try {
      body = strictUtf8.decode(bytes);
    } catch {
      body = bytes.toString('base64');
      isBase64Encoded = true;
    }

    const requestId = randomBytes(11).toString('base64');
    res.setHeader('apigw-requestid', requestId);
    const event = toApiGatewayEvent({
      method,
      url,
      httpVersion: req.httpVersion,
      rawHeaders: req.rawHeaders,
      body,
      isBase64Encoded,
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
        answer(req, res, esErrorResponse(new EsError('exception', 503, `the request timed out after ${timeoutMs}ms`)), startedMs);
        return;
      }
      // The function wrote its own access line.
      writeResponse(req, res, toHttpResponse(result));
    } catch (err) {
      log(`http: ${fn} failed on ${match.routeKey}: ${(err as Error)?.stack ?? String(err)}`);
      answer(req, res, esErrorResponse(new InternalError('internal server error')), startedMs);
    } finally {
      clearTimeout(timer);
    }
  };

  const server = createServer({ keepAlive: true, maxHeaderSize: NODE_MAX_HEADER_BYTES }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      log(`http: request failed: ${(err as Error)?.stack ?? String(err)}`);
      writeResponse(req, res, esErrorResponse(new InternalError('internal server error')));
    });
  });
  // Malformed HTTP, or a request line or headers past even Node's parser limit: answer 400
  // with an Elasticsearch body, as Netty's decoder failure becomes, instead of Node's empty
  // 400/431 or a reset.
  server.on('clientError', (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const r = esErrorResponse(clientErrorOf(err));
    const head = [`HTTP/1.1 ${r.statusCode} ${STATUS_CODES[r.statusCode]}`, ...Object.entries(r.headers).map(([k, v]) => `${k}: ${String(v)}`), 'connection: close'];
    socket.end(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), r.body]));
    logAccess({ method: '-', path: '-', status: r.statusCode, durationMs: 0 });
  });
  return listen(server, opts.port, opts.host);
}
