/**
 * The HTTP requests Watcher sends: the `webhook` action's and the `http` input's (both are
 * Elasticsearch's `HttpRequestTemplate` rendered and sent by its `HttpClient`). Rendering and
 * sending are here once; what each does with the response is in its own place.
 */
import { IllegalArgumentError, ParseError } from '../domain/errors.ts';
import { isJsonObject } from '../domain/json/plain-values.ts';
import { HttpInputFailure } from '../domain/watcher/execution.ts';
import { parseTimeValueMs } from '../domain/watcher/parse.ts';
import { renderTemplate } from '../domain/watcher/template.ts';
import { TimeValue } from '../domain/units.ts';

type Json = Record<string, unknown>;

/** Elasticsearch's default `connection_timeout` and `read_timeout` (`HttpSettings`), ms each. */
export const HTTP_DEFAULT_TIMEOUT_MS = 10_000;

const text = (t: unknown, model: Json): string => renderTemplate(typeof t === 'string' ? t : String(t ?? ''), model);

/**
 * Renders a request template (`HttpRequestTemplate.render`): `url` (split into scheme, host,
 * port, path and params), or `scheme`/`host`/`port`/`path`; templates in host, path, params,
 * headers and body rendered with the model. Key order as `HttpRequest.toXContent`.
 * @returns `{host, port, scheme, method, path?, params?, headers?, body?}` (method lower case)
 * @throws IllegalArgumentError "could not execute <what>. missing host" when a template renders no host
 */
export function renderHttpRequest(cfg: Json, model: Json, what: string): Json {
  let scheme = typeof cfg.scheme === 'string' ? cfg.scheme : 'http';
  let host = cfg.host === undefined ? undefined : text(cfg.host, model);
  let port = typeof cfg.port === 'number' ? cfg.port : undefined;
  let path = cfg.path === undefined ? undefined : text(cfg.path, model);
  const params: Record<string, string> = {};
  if (typeof cfg.url === 'string') {
    const u = new URL(text(cfg.url, model));
    scheme = u.protocol.replace(':', '');
    host = u.hostname;
    port = u.port ? Number(u.port) : scheme === 'https' ? 443 : 80;
    path = u.pathname;
    for (const [k, v] of u.searchParams) params[k] = v;
  }
  if (!host) throw new IllegalArgumentError(`could not execute ${what}. missing host`);
  for (const [k, v] of Object.entries((cfg.params ?? {}) as Json)) params[k] = text(v, model);
  const headers = Object.fromEntries(Object.entries((cfg.headers ?? {}) as Json).map(([k, v]) => [k, text(v, model)]));
  const req: Json = { host, port: port ?? (scheme === 'https' ? 443 : 80), scheme, method: typeof cfg.method === 'string' ? cfg.method.toLowerCase() : 'get' };
  if (path !== undefined) req.path = path;
  if (Object.keys(params).length > 0) req.params = params;
  if (Object.keys(headers).length > 0) req.headers = headers;
  if (cfg.body !== undefined) req.body = text(cfg.body, model);
  return req;
}

/** A response as Watcher keeps it: header names lower case, each with its list of values. */
export interface HttpResponse {
  status: number;
  headers: Record<string, string[]>;
  body: string;
}

/**
 * Sends a rendered request with `fetch`, bounded by `timeoutMs` (connect and reading the body):
 * a host that does not answer in time throws "<what> [<host:port>] did not answer within
 * [<time>]"; a refused connection throws fetch's error. Any status is a response.
 */
export async function sendHttpRequest(req: Json, timeoutMs: number, what: string): Promise<HttpResponse> {
  const url = new URL(`${req.scheme}://${req.host}:${req.port}${(req.path as string | undefined) ?? ''}`);
  for (const [k, v] of Object.entries((req.params ?? {}) as Record<string, string>)) url.searchParams.set(k, v);
  // setTimeout + AbortController rather than AbortSignal.timeout: the bound covers reading the
  // body too, and tests drive it with fake timers.
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error(`${what} [${url.host}] did not answer within [${TimeValue.ofMillis(timeoutMs).human()}]`)), timeoutMs);
  try {
    const res = await fetch(url, {
      method: String(req.method).toUpperCase(),
      headers: (req.headers ?? {}) as Record<string, string>,
      ...(req.body !== undefined ? { body: req.body as string } : {}),
      signal: abort.signal,
    });
    const body = await res.text();
    const headers: Record<string, string[]> = {};
    res.headers.forEach((v, k) => {
      headers[k] = [v];
    });
    return { status: res.status, headers, body };
  } catch (err) {
    throw abort.signal.aborted ? abort.signal.reason : err;
  } finally {
    clearTimeout(timer);
  }
}

/** `XContentFilterKeysUtils.filterMapOrdered`: only the dotted `keys`, nested as in the source. */
function extractKeys(source: unknown, keys: readonly string[]): Json {
  const out: Json = {};
  for (const key of keys) {
    const parts = key.split('.');
    let from: unknown = source;
    for (const p of parts) from = isJsonObject(from) ? from[p] : undefined;
    if (from === undefined) continue;
    let into = out;
    for (const p of parts.slice(0, -1)) {
      if (!isJsonObject(into[p])) into[p] = {};
      into = into[p] as Json;
    }
    into[parts[parts.length - 1] as string] = from;
  }
  return out;
}

/**
 * Runs an `http` input as `ExecutableHttpInput`: renders `request` with the model, sends it
 * bounded by `connection_timeout` + `read_timeout` when given (else `defaultTimeoutMs`), and
 * builds the payload `{_status_code, _headers?, …}` plus the body: JSON (by
 * `response_content_type`, else the response's content type, else a body starting with `{`
 * or `[`) merged in (a top-level array under `data`; only the `extract` keys when given),
 * anything else as `_value`. A status ≥ 400 is a payload, not a failure.
 * @throws HttpInputFailure when the request cannot be sent or answered, or a JSON body does not parse
 */
export async function runHttpInput(body: Json, model: Json, defaultTimeoutMs: number): Promise<{ payload: Json; request: Json; statusCode: number }> {
  const cfg = (body.request ?? {}) as Json;
  const req = renderHttpRequest(cfg, model, '[http] input');
  const configured = cfg.connection_timeout !== undefined || cfg.read_timeout !== undefined;
  const ms = (v: unknown, field: string) => (v === undefined ? HTTP_DEFAULT_TIMEOUT_MS : (parseTimeValueMs(v, field) ?? HTTP_DEFAULT_TIMEOUT_MS));
  const timeoutMs = configured ? ms(cfg.connection_timeout, 'connection_timeout') + ms(cfg.read_timeout, 'read_timeout') : defaultTimeoutMs;
  let res: HttpResponse;
  try {
    res = await sendHttpRequest(req, timeoutMs, '[http] input');
  } catch (err) {
    throw new HttpInputFailure(req, err);
  }
  const payload: Json = { _status_code: res.status };
  if (Object.keys(res.headers).length > 0) payload._headers = res.headers;
  if (res.body.length === 0) return { payload, request: req, statusCode: res.status };
  const expected = typeof body.response_content_type === 'string' ? body.response_content_type.toLowerCase() : undefined;
  const header = res.headers['content-type']?.[0] ?? '';
  const json = expected !== undefined ? expected === 'json' : /[/+]json\b/i.test(header) || /^\s*[{[]/.test(res.body);
  if (!json) {
    payload._value = res.body;
    return { payload, request: req, statusCode: res.status };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.body);
  } catch {
    // Elasticsearch's message fills its two placeholders with the input type and the record
    // id (its arguments are off by two), so this is the text it answers.
    throw new HttpInputFailure(req, new ParseError(`could not parse response body [http] it does not appear to be [${String((model.ctx as Json | undefined)?.id)}]`));
  }
  if (Array.isArray(body.extract)) Object.assign(payload, extractKeys(parsed, body.extract as string[]));
  else if (Array.isArray(parsed)) payload.data = parsed;
  else if (isJsonObject(parsed)) Object.assign(payload, parsed);
  return { payload, request: req, statusCode: res.status };
}
