import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { ZodError } from 'zod';
import { ContentTooLongError, EsError, IllegalArgumentError, SimpleHttpError } from '../domain/errors.ts';
import { authenticate, authorize, type Principal } from '../app/security.ts';
import { config } from '../runtime/config.ts';
import { lambdaContext, logAccess, logger } from '../runtime/log.ts';
import { applyFilterPath, compileFilterPath } from './filter-path.ts';
import { checkBodyContentType, checkMediaTypeHeaders, checkSourceContentType } from './media-type.ts';
import { checkTextBody, decodeBodyUtf8, decodeQueryString } from './request-text.ts';
import { routes, routeKey, type HttpFunctionName, type RouteDefinition } from '../runtime/topology.ts';

/** A parsed request as route handlers see it. */
export interface HttpRequest {
  route: RouteDefinition;
  /** The request path as sent (for Elasticsearch messages that quote it). */
  path: string;
  pathParams: Record<string, string>;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** When API Gateway received the request (epoch ms): waits are budgeted from here, not from when the function got to them. */
  receivedMs: number;
  /** The raw body, or undefined when there is none (an empty body counts as none, as in Elasticsearch). */
  body: string | undefined;
  principal: Principal;
}

/** What a route handler returns: status, JSON body, extra headers. */
export interface HttpResult {
  status: number;
  body?: unknown;
  /** A plain-text answer instead of JSON (the `_cat` APIs): sent as is, `text/plain`. */
  text?: string;
  /**
   * The JSON body already serialized, instead of `body` (a page of results spliced from stored
   * text): sent as is; parsed only when `?pretty` or `filter_path` needs the value.
   */
  json?: string;
  headers?: Record<string, string>;
}

/** One route's implementation: the query parameters it accepts, and the handler. */
export interface RouteHandler {
  params: readonly string[];
  handle(req: HttpRequest): Promise<HttpResult>;
}

/** Parameters every Elasticsearch REST endpoint accepts. */
const GLOBAL_PARAMS = new Set(['pretty', 'human', 'error_trace', 'filter_path', 'source', 'source_content_type']);

/** The event as the chain's middlewares share it: the parsed request, and what the access line needs. */
type Event = APIGatewayProxyEventV2 & { request?: HttpRequest; startedMs?: number; queryParsed?: Record<string, string>; user?: string };

const jsonHeaders = {
  'content-type': 'application/json; charset=UTF-8',
  'x-elastic-product': 'Elasticsearch',
};

/**
 * Renders a result: JSON (pretty with `?pretty`), no body for HEAD, and `filter_path`
 * applied to successful bodies only. Elasticsearch builds error bodies with
 * `newErrorBuilder()`, which never filters, so an error always shows whole.
 */
export function render(result: HttpResult, query: Record<string, string>, head: boolean, filter: boolean): APIGatewayProxyStructuredResultV2 {
  if (result.text !== undefined) {
    const headers = { 'content-type': 'text/plain; charset=UTF-8', 'x-elastic-product': 'Elasticsearch', ...result.headers };
    return { statusCode: result.status, headers, body: head ? '' : result.text };
  }
  const pretty = query.pretty !== undefined && query.pretty !== 'false';
  const filters = filter ? compileFilterPath(query.filter_path) : undefined;
  if (result.json !== undefined && !pretty && !filters) return { statusCode: result.status, headers: { ...jsonHeaders, ...result.headers }, body: head ? '' : result.json };
  const whole = result.json !== undefined ? JSON.parse(result.json) : result.body;
  const value = filters && whole !== undefined ? applyFilterPath(whole, filters) : whole;
  const body = value === undefined || head ? '' : JSON.stringify(value, null, pretty ? 2 : undefined);
  return { statusCode: result.status, headers: { ...jsonHeaders, ...result.headers }, body };
}

/**
 * The body a result stands for outside HTTP (a command event's task): the JSON body with
 * `filter_path` applied on success, as {@link render} sends it; a text result (`_cat`) as its text.
 */
export function resultBody(result: HttpResult, query: Record<string, string>): unknown {
  if (result.text !== undefined) return result.text;
  const ok = result.status >= 200 && result.status < 300;
  const filters = ok ? compileFilterPath(query.filter_path) : undefined;
  const whole = result.json !== undefined ? JSON.parse(result.json) : result.body;
  return filters && whole !== undefined ? applyFilterPath(whole, filters) : whole;
}

/** Maps any thrown value to Elasticsearch's error rendering; internal errors are logged, never shown. */
export function errorResult(err: unknown): HttpResult {
  if (err instanceof EsError) {
    const headers: Record<string, string> = {};
    const challenge = (err.metadata.header as { 'WWW-Authenticate'?: string[] } | undefined)?.['WWW-Authenticate'];
    if (challenge) headers['www-authenticate'] = challenge.join(', ');
    return { status: err.status, body: err.toBody(), headers };
  }
  if (err instanceof SimpleHttpError) return { status: err.status, body: err.toBody() };
  if (err instanceof ZodError) {
    const reason = err.issues.map((i) => `[${i.path.join('.')}] ${i.message}`).join('; ');
    return { status: 400, body: new IllegalArgumentError(reason).toBody() };
  }
  logger.error('unhandled error in http function', { err });
  return { status: 500, body: new EsError('exception', 500, 'internal error').toBody() };
}

/**
 * The query parameters of an event, decoded from `rawQueryString` with Elasticsearch's
 * `RestUtils` rules (`+` stays `+`, a malformed `%` escape is a 400); an event without
 * `rawQueryString` (hand-built) falls back to `queryStringParameters`.
 * @throws BadParameterError for a malformed escape
 */
function queryOf(event: APIGatewayProxyEventV2): Record<string, string> {
  if (typeof event.rawQueryString === 'string') return decodeQueryString(event.rawQueryString);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.queryStringParameters ?? {})) out[k] = v ?? '';
  return out;
}

/** The body bytes of an event (base64-decoded when `isBase64Encoded`), or undefined without a body. */
function bodyBytes(event: APIGatewayProxyEventV2): Buffer | undefined {
  if (event.body === undefined || event.body === null) return undefined;
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : undefined;
}

/** Rejects query parameters the route does not know, with Elasticsearch's message. */
function checkParams(path: string, query: Record<string, string>, accepted: readonly string[]): void {
  const unknown = Object.keys(query).filter((k) => !GLOBAL_PARAMS.has(k) && !accepted.includes(k));
  if (unknown.length === 0) return;
  const list = unknown.map((p) => `[${p}]`).join(', ');
  throw new IllegalArgumentError(`request [${path}] contains unrecognized parameter${unknown.length > 1 ? 's' : ''}: ${list}`);
}

/** What {@link admitRequest} needs of a request, however it arrived (API Gateway event or command event). */
export interface RequestInput {
  route: RouteDefinition;
  /** The route table serving `route` (for the parameters its handler accepts). */
  handlers: Record<string, RouteHandler>;
  /** The request path as sent. */
  path: string;
  pathParams: Record<string, string>;
  /** Decoded query parameters. */
  query: Record<string, string>;
  /** Header names in lower case. */
  headers: Record<string, string>;
  /** The body: raw bytes (checked as strict UTF-8), text, or undefined for none. */
  body: Buffer | string | undefined;
  /** When the request was received, epoch ms. */
  receivedMs: number;
  /**
   * Who sends the request: HTTP authenticates the `Authorization` header; the command
   * ingress gives its configured principal. Called after the media-type checks, as
   * Elasticsearch authenticates after building the request.
   */
  authenticate: (path: string) => Promise<Principal>;
}

/**
 * The checks every request goes through before its route handler, in Elasticsearch's order,
 * whether it came over HTTP or as a command event: body size (413), `Accept`/`Content-Type`
 * (400 `media_type_header_exception`, 406), authentication (`input.authenticate`), the
 * route's cluster privilege (403 `security_exception` naming the action and user), unknown
 * query parameters (400 "contains unrecognized parameter"), the body decoded strictly as
 * UTF-8, `?source` as the body when there is none, and an all-blank body counting as none.
 * @returns the request as route handlers see it
 * @throws EsError / SimpleHttpError with the Elasticsearch answer of the first check that fails
 */
export async function admitRequest(input: RequestInput): Promise<HttpRequest> {
  const { route, path, query, headers } = input;
  const byteLength = input.body === undefined ? 0 : typeof input.body === 'string' ? Buffer.byteLength(input.body) : input.body.length;
  if (byteLength > config().maxBodyBytes) throw new ContentTooLongError(config().maxBodyBytes);
  // Elasticsearch checks the media types while building the request and the body's type
  // before dispatching, both before security: these answers need no credentials.
  checkMediaTypeHeaders(headers.accept, headers['content-type'], byteLength > 0);
  if (byteLength > 0) checkBodyContentType(headers['content-type']);
  const principal = await input.authenticate(path);
  authorize(principal, route.privilege, route.action);
  checkParams(path, query, handlersParams(input.handlers, route));
  let body: string | undefined = input.body === undefined ? undefined : typeof input.body === 'string' ? checkTextBody(input.body) : decodeBodyUtf8(input.body);
  if (body === undefined && query.source !== undefined) {
    checkSourceContentType(query.source_content_type);
    body = query.source;
  }
  if (body !== undefined && body.trim() === '') body = undefined;
  return { route, path, pathParams: input.pathParams, query, headers, body, principal, receivedMs: input.receivedMs };
}

/**
 * Runs an admitted request through its route's handler (`lib/http/routes/*`).
 * @returns the handler's result (errors are thrown, for {@link errorResult})
 */
export async function runRoute(handlers: Record<string, RouteHandler>, req: HttpRequest): Promise<HttpResult> {
  const handler = handlers[routeKey(req.route)];
  if (!handler) throw new Error(`no handler for route ${routeKey(req.route)}`);
  return handler.handle(req);
}

/**
 * Builds the Lambda handler of one HTTP function family: a middy chain that, in
 * Elasticsearch's order, decodes the query string (400 `bad_parameter_exception`), checks
 * `Accept`/`Content-Type` (400 `media_type_header_exception` for REST compatibility
 * versions it cannot serve, 406 for a body it cannot read), rejects oversized bodies,
 * authenticates (HTTP Basic against the user store), authorizes by the route's cluster
 * privilege, rejects unknown query parameters, decodes the body strictly as UTF-8,
 * dispatches on `routeKey`, and renders results and errors the Elasticsearch way
 * (`x-elastic-product` header, JSON error body with `root_cause`, `?pretty`,
 * `?filter_path`). Every request gets one info access line (method, path, status,
 * duration, user, parameter names); a 4xx also gets its reason at debug.
 */
export function httpFunction(fn: HttpFunctionName, handlers: Record<string, RouteHandler>) {
  const table = new Map<string, RouteDefinition>();
  for (const r of routes) if (r.fn === fn) table.set(routeKey(r), r);
  for (const key of table.keys()) if (!handlers[key]) throw new Error(`http function ${fn} has no handler for route ${key}`);

  const core = async (event: Event): Promise<APIGatewayProxyStructuredResultV2> => {
    const req = event.request as HttpRequest;
    const result = await runRoute(handlers, req);
    return render(result, req.query, req.route.method === 'HEAD', true);
  };

  const access = (event: Event, status: number): void => {
    logAccess({
      method: event.requestContext?.http?.method ?? event.routeKey.split(' ')[0] ?? '?',
      path: event.rawPath,
      status,
      durationMs: Date.now() - (event.startedMs ?? Date.now()),
      user: event.user,
      params: event.queryParsed ? Object.keys(event.queryParsed) : undefined,
      requestId: event.requestContext?.requestId,
    });
  };

  return middy<Event, APIGatewayProxyStructuredResultV2, Error, Context>(core)
    .use(lambdaContext())
    .use({
      before: async (request) => {
        const event = request.event;
        event.startedMs = Date.now();
        const route = table.get(event.routeKey);
        if (!route) throw new Error(`route ${event.routeKey} is not served by function ${fn}`);
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(event.headers ?? {})) if (typeof v === 'string') headers[k.toLowerCase()] = v;
        const query = queryOf(event);
        event.queryParsed = query;
        const bytes = bodyBytes(event);
        event.request = await admitRequest({
          route,
          handlers,
          path: event.rawPath,
          pathParams: decodeParams(event.pathParameters),
          query,
          headers,
          body: bytes ?? (typeof event.body === 'string' ? event.body : undefined),
          receivedMs: event.requestContext?.timeEpoch ?? Date.now(),
          authenticate: async (path) => {
            const principal = await authenticate(headers.authorization, path);
            event.user = principal.username;
            return principal;
          },
        });
      },
      after: async (request) => {
        access(request.event, request.response?.statusCode ?? 200);
      },
      onError: async (request) => {
        const event = request.event;
        const result = errorResult(request.error);
        request.response = render(result, event.queryParsed ?? {}, event.requestContext?.http?.method === 'HEAD', false);
        if (result.status >= 400 && result.status < 500 && logger.isDebug()) {
          const body = result.body as { error?: { type?: string; reason?: string } | string };
          const reason = typeof body?.error === 'string' ? body.error : body?.error?.reason;
          logger.debug('request rejected', { status: result.status, type: typeof body?.error === 'object' ? body.error.type : undefined, reason });
        }
        access(event, result.status);
      },
    });
}

function handlersParams(handlers: Record<string, RouteHandler>, route: RouteDefinition): readonly string[] {
  return handlers[routeKey(route)]?.params ?? [];
}

function decodeParams(p: Record<string, string | undefined> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(p ?? {})) if (v !== undefined) out[k] = v;
  return out;
}
