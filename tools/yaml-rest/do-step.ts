import type { Client } from '@elastic/elasticsearch';
import { errors } from '@elastic/elasticsearch';
import { type ApiRequest, type ApiSpec, buildRequest, ParamError } from './api-spec.ts';
import { AssertionFailure, asRegexSource } from './assertions.ts';
import type { Stash } from './stash.ts';

/** A response as the runner keeps it for assertions and the report. */
export interface ApiResponse {
  status: number;
  body: unknown;
  warnings: string[];
}

/** What a `do` step needs from the run. */
export interface DoContext {
  client: Client;
  specs: Map<string, ApiSpec>;
  stash: Stash;
  /** `Basic …` of the user the runner authenticates as. */
  authorization: string;
  /** The last request and response, for failure reports. */
  last?: { request: ApiRequest; response?: ApiResponse };
}

/**
 * `Authorization` of the Elasticsearch test suites' setup superuser (`x_pack_rest_user` /
 * `x-pack-test-password`). mlplane has one superuser, so the runner sends its own credentials
 * in its place; any other `Authorization` a test sets is sent as written.
 */
const TEST_SUPERUSER_AUTH = `Basic ${Buffer.from('x_pack_rest_user:x-pack-test-password').toString('base64')}`;

/** The status (or range) each named `catch` expects, as in Elasticsearch's `DoSection`. */
const CATCHES: Record<string, (status: number) => boolean> = {
  bad_request: (s) => s === 400,
  unauthorized: (s) => s === 401,
  forbidden: (s) => s === 403,
  missing: (s) => s === 404,
  request_timeout: (s) => s === 408,
  conflict: (s) => s === 409,
  unavailable: (s) => s === 503,
  request: (s) => s >= 400 && ![400, 401, 403, 404, 408, 409].includes(s),
};

/** Messages of `Warning` headers (`299 Elasticsearch-x.y.z "message" "date"`). */
export function warningMessages(header: unknown): string[] {
  const values = header == null ? [] : Array.isArray(header) ? header.map(String) : [String(header)];
  const out: string[] = [];
  for (const value of values) {
    for (const m of value.matchAll(/\d{3} \S+ "((?:[^"\\]|\\.)*)"(?: "[^"]*")?/g)) out.push(m[1]!.replace(/\\(.)/g, '$1'));
  }
  return out;
}

async function send(ctx: DoContext, request: ApiRequest, headers: Record<string, string>): Promise<ApiResponse> {
  const sendHeaders: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) sendHeaders[k.toLowerCase()] = k.toLowerCase() === 'authorization' && v === TEST_SUPERUSER_AUTH ? ctx.authorization : String(v);
  // Elasticsearch's YAML client sends plain JSON media types, not the compatible-with ones the
  // official client defaults to (mixing the two is a 400 media_type_header_exception).
  sendHeaders.accept ??= 'application/json';
  if (request.body !== undefined) sendHeaders['content-type'] ??= 'application/json';
  if (request.bulkBody !== undefined) sendHeaders['content-type'] ??= 'application/x-ndjson';
  const params: Record<string, unknown> = { method: request.method, path: request.path, querystring: request.querystring };
  if (request.bulkBody !== undefined) params.bulkBody = request.bulkBody;
  else if (request.body !== undefined) params.body = request.body;
  try {
    const res = await ctx.client.transport.request(params as never, { headers: sendHeaders, meta: true, maxRetries: 0 });
    return { status: res.statusCode ?? 200, body: res.body, warnings: warningMessages(res.headers?.warning) };
  } catch (err) {
    if (err instanceof errors.ResponseError) {
      return { status: err.meta.statusCode ?? 0, body: err.meta.body, warnings: warningMessages(err.meta.headers?.warning) };
    }
    throw err;
  }
}

const asList = (v: unknown): string[] => (v == null ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

function checkWarnings(spec: Record<string, unknown>, got: string[], stash: Stash): void {
  const expected = asList(stash.resolve(spec.warnings));
  const allowed = asList(stash.resolve(spec.allowed_warnings));
  const expectedRe = asList(spec.warnings_regex).map((r) => new RegExp(r));
  const allowedRe = asList(spec.allowed_warnings_regex).map((r) => new RegExp(r));
  const unexpected = got.filter((w) => !expected.includes(w) && !allowed.includes(w) && !expectedRe.some((r) => r.test(w)) && !allowedRe.some((r) => r.test(w)));
  if (unexpected.length > 0) throw new AssertionFailure(`unexpected warning headers: ${JSON.stringify(unexpected)}`);
  const missing = [...expected.filter((w) => !got.includes(w)), ...expectedRe.filter((r) => !got.some((w) => r.test(w))).map(String)];
  if (missing.length > 0) throw new AssertionFailure(`expected warning headers not received: ${JSON.stringify(missing)} (got ${JSON.stringify(got)})`);
}

const bodyText = (body: unknown): string => (typeof body === 'string' ? body : (JSON.stringify(body) ?? ''));

/**
 * Runs a `do` step as Elasticsearch's `DoSection` does: builds the request from the spec (a
 * build failure is what `catch: param` expects), sends it with the step's `headers`, then checks
 * the status against `catch` (a name, or a `/regex/` found in the response body of an error
 * response) or, without `catch`, that it is not an error (statuses listed in the `ignore`
 * parameter excepted; a HEAD's 404 is the answer `false`), and the `Warning` headers against
 * `warnings` / `allowed_warnings` (any warning not expected or allowed fails). The body becomes
 * `$body` for later steps.
 *
 * @throws AssertionFailure when the status, the catch or the warnings do not match.
 */
export async function runDo(arg: unknown, ctx: DoContext): Promise<void> {
  const spec = (arg ?? {}) as Record<string, unknown>;
  const { catch: catchParam, headers, warnings, allowed_warnings, warnings_regex, allowed_warnings_regex, node_selector, ...apis } = spec;
  const apiNames = Object.keys(apis);
  if (apiNames.length !== 1) throw new AssertionFailure(`a do step names one API, got [${apiNames.join(', ')}]`);
  const api = apiNames[0]!;
  const args = (ctx.stash.resolve(apis[api] ?? {}) ?? {}) as Record<string, unknown>;
  const ignore = asList(args.ignore).map(Number);
  let request: ApiRequest;
  try {
    request = buildRequest(ctx.specs, api, args);
  } catch (err) {
    if (err instanceof ParamError && catchParam === 'param') return;
    throw err instanceof ParamError ? new AssertionFailure(err.message) : err;
  }
  if (catchParam === 'param') throw new AssertionFailure(`expected [${api}] to be refused for its parameters, it was built`);
  delete request.querystring.ignore;
  ctx.last = { request };
  const response = await send(ctx, request, (headers ?? {}) as Record<string, string>);
  ctx.last.response = response;
  ctx.stash.lastBody = response.body;
  if (typeof catchParam === 'string') {
    const regex = asRegexSource(catchParam);
    if (regex !== undefined) {
      if (response.status < 400) throw new AssertionFailure(`expected an error matching ${catchParam}, got ${response.status}`);
      // Unlike `match`, Elasticsearch compiles a catch regex without COMMENTS: its spaces count.
      if (!new RegExp(regex).test(bodyText(response.body))) throw new AssertionFailure(`error body does not match ${catchParam}: ${response.status} ${bodyText(response.body)}`);
    } else {
      const check = CATCHES[catchParam];
      if (!check) throw new AssertionFailure(`unknown catch [${catchParam}]`);
      if (!check(response.status)) throw new AssertionFailure(`expected catch [${catchParam}], got ${response.status} ${bodyText(response.body)}`);
    }
  } else if (request.method === 'HEAD' && response.status === 404) {
    // An exists API (HEAD) answers a missing resource with 404 and no body: a `false`, not an error.
    ctx.stash.lastBody = false;
  } else if (response.status >= 400 && !ignore.includes(response.status)) {
    throw new AssertionFailure(`[${api}] answered ${response.status}: ${bodyText(response.body)}`);
  }
  checkWarnings({ warnings, allowed_warnings, warnings_regex, allowed_warnings_regex }, response.warnings, ctx.stash);
  void node_selector;
}
