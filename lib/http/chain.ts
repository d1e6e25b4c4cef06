import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { ZodError } from 'zod';
import { ContentTooLongError, EsError, IllegalArgumentError } from '../domain/errors.ts';
import { authenticate, authorize, type Principal } from '../app/security.ts';
import { config } from '../runtime/config.ts';
import { logger } from '../runtime/log.ts';
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
  headers?: Record<string, string>;
}

/** One route's implementation: the query parameters it accepts, and the handler. */
export interface RouteHandler {
  params: readonly string[];
  handle(req: HttpRequest): Promise<HttpResult>;
}

/** Parameters every Elasticsearch REST endpoint accepts. */
const GLOBAL_PARAMS = new Set(['pretty', 'human', 'error_trace', 'filter_path', 'source', 'source_content_type']);

type Event = APIGatewayProxyEventV2 & { request?: HttpRequest };

const jsonHeaders = {
  'content-type': 'application/json; charset=UTF-8',
  'x-elastic-product': 'Elasticsearch',
};

function render(result: HttpResult, pretty: boolean, head: boolean): APIGatewayProxyStructuredResultV2 {
  const body = result.body === undefined || head ? '' : JSON.stringify(result.body, null, pretty ? 2 : undefined);
  return { statusCode: result.status, headers: { ...jsonHeaders, ...result.headers }, body };
}

/** Maps any thrown value to Elasticsearch's error rendering; internal errors are logged, never shown. */
export function errorResult(err: unknown): HttpResult {
  if (err instanceof EsError) {
    const headers: Record<string, string> = {};
    const challenge = (err.metadata.header as { 'WWW-Authenticate'?: string[] } | undefined)?.['WWW-Authenticate'];
    if (challenge) headers['www-authenticate'] = challenge.join(', ');
    return { status: err.status, body: err.toBody(), headers };
  }
  if (err instanceof ZodError) {
    const reason = err.issues.map((i) => `[${i.path.join('.')}] ${i.message}`).join('; ');
    return { status: 400, body: new IllegalArgumentError(reason).toBody() };
  }
  logger.error('unhandled error in http function', { err });
  return { status: 500, body: new EsError('exception', 500, 'internal error').toBody() };
}

/** Parses the query string of an event (API Gateway comma-joins repeated keys). */
function queryOf(event: APIGatewayProxyEventV2): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.queryStringParameters ?? {})) out[k] = v ?? '';
  return out;
}

/** Rejects query parameters the route does not know, with Elasticsearch's message. */
function checkParams(path: string, query: Record<string, string>, accepted: readonly string[]): void {
  const unknown = Object.keys(query).filter((k) => !GLOBAL_PARAMS.has(k) && !accepted.includes(k));
  if (unknown.length === 0) return;
  const list = unknown.map((p) => `[${p}]`).join(', ');
  throw new IllegalArgumentError(`request [${path}] contains unrecognized parameter${unknown.length > 1 ? 's' : ''}: ${list}`);
}

/**
 * Builds the Lambda handler of one HTTP function family: a middy chain that authenticates
 * (HTTP Basic against the user store), authorizes by the route's cluster privilege,
 * rejects unknown query parameters and oversized bodies, dispatches on `routeKey`, and
 * renders results and errors the Elasticsearch way (`x-elastic-product` header, JSON
 * error body with `root_cause`, `?pretty`).
 */
export function httpFunction(fn: HttpFunctionName, handlers: Record<string, RouteHandler>) {
  const table = new Map<string, RouteDefinition>();
  for (const r of routes) if (r.fn === fn) table.set(routeKey(r), r);
  for (const key of table.keys()) if (!handlers[key]) throw new Error(`http function ${fn} has no handler for route ${key}`);

  const core = async (event: Event): Promise<APIGatewayProxyStructuredResultV2> => {
    const req = event.request as HttpRequest;
    const handler = handlers[req.route.method + ' ' + req.route.path] as RouteHandler;
    const result = await handler.handle(req);
    return render(result, req.query.pretty !== undefined && req.query.pretty !== 'false', req.route.method === 'HEAD');
  };

  return middy<Event, APIGatewayProxyStructuredResultV2, Error, Context>(core)
    .use({
      before: async (request) => {
        const event = request.event;
        const route = table.get(event.routeKey);
        if (!route) throw new Error(`route ${event.routeKey} is not served by function ${fn}`);
        const path = event.rawPath;
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(event.headers ?? {})) if (typeof v === 'string') headers[k.toLowerCase()] = v;
        const query = queryOf(event);
        let body: string | undefined = event.body === undefined || event.body === null ? undefined : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
        if (body !== undefined && Buffer.byteLength(body) > config().maxBodyBytes) throw new ContentTooLongError(config().maxBodyBytes);
        if (body === undefined && query.source !== undefined) body = query.source;
        if (body !== undefined && body.trim() === '') body = undefined;
        const principal = await authenticate(headers.authorization, path);
        authorize(principal, route.privilege, route.action);
        checkParams(path, query, handlersParams(handlers, route));
        const receivedMs = event.requestContext?.timeEpoch ?? Date.now();
        event.request = { route, path, pathParams: decodeParams(event.pathParameters), query, headers, body, principal, receivedMs };
      },
      onError: async (request) => {
        const pretty = request.event.queryStringParameters?.pretty !== undefined;
        request.response = render(errorResult(request.error), pretty, request.event.requestContext?.http?.method === 'HEAD');
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
