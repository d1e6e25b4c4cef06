import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface SpecPath {
  path: string;
  methods: string[];
  parts?: Record<string, unknown>;
}

/** The fields of a rest-api-spec file the runner reads. */
interface SpecFile {
  url?: { paths?: SpecPath[] };
  params?: Record<string, unknown>;
  body?: { serialize?: string };
  headers?: { content_type?: string[] };
}

/** What the runner reads of one rest-api-spec JSON file (`rest-api-spec/api/<name>.json`). */
export interface ApiSpec {
  name: string;
  paths: SpecPath[];
  params: Set<string>;
  bodySerialize?: string;
  contentType?: string;
}

/** The HTTP request a `do` step becomes. */
export interface ApiRequest {
  api: string;
  method: string;
  path: string;
  querystring: Record<string, string>;
  /** JSON text or a value to serialize as JSON; absent when the step has no body. */
  body?: unknown;
  /** Set instead of `body` for APIs whose body is serialized as newline-delimited JSON. */
  bulkBody?: string;
}

/**
 * A request the runner cannot build from the spec (unknown API, unknown parameter, missing path
 * part): what `catch: param` expects, as in Elasticsearch's runner, where the client refuses
 * such a call before sending it.
 */
export class ParamError extends Error {}

/** Parameters every API takes (Elasticsearch's `_common.json`), plus the runner's own `ignore`. */
const COMMON_PARAMS = new Set(['pretty', 'human', 'error_trace', 'source', 'filter_path', 'ignore']);

/**
 * Reads every `*.json` of a rest-api-spec `api` directory into a map from API name
 * (`ml.put_datafeed`) to its paths, methods, parameters and body serialization.
 *
 * @throws Error when a file is not a spec of that form.
 */
export function loadApiSpecs(dir: string): Map<string, ApiSpec> {
  const specs = new Map<string, ApiSpec>();
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.json') || file.startsWith('_')) continue;
    const json = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, SpecFile>;
    for (const [name, def] of Object.entries(json)) {
      const paths = def?.url?.paths;
      if (!paths) throw new Error(`${file}: [${name}] has no url.paths`);
      specs.set(name, {
        name,
        paths,
        params: new Set(Object.keys(def.params ?? {})),
        bodySerialize: def.body?.serialize,
        contentType: def.headers?.content_type?.[0],
      });
    }
  }
  return specs;
}

function asParamText(value: unknown): string {
  if (Array.isArray(value)) return value.map(asParamText).join(',');
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** ndjson of a bulk-style body: a list of objects or lines, or text sent as it is. */
function asNdjson(body: unknown): string {
  if (typeof body === 'string') return body.endsWith('\n') ? body : `${body}\n`;
  const lines = Array.isArray(body) ? body : [body];
  return lines.map((line) => `${typeof line === 'string' ? line : JSON.stringify(line)}\n`).join('');
}

/**
 * Turns a `do` step's API name and arguments into a request, as Elasticsearch's YAML client
 * does: arguments naming a path part fill the path (the spec path using the most given parts
 * wins), `body` is the body, every other argument must be a parameter of the API (or a common
 * one) and goes to the query string. The first method of the chosen path is used.
 *
 * @throws ParamError for an unknown API, an unknown parameter or no path whose parts are all given.
 */
export function buildRequest(specs: Map<string, ApiSpec>, api: string, args: Record<string, unknown>): ApiRequest {
  const spec = specs.get(api);
  if (!spec) throw new ParamError(`no rest-api-spec for API [${api}] in the api directory`);
  const { body, ...rest } = args;
  const candidates = spec.paths
    .filter((p) => Object.keys(p.parts ?? {}).every((part) => rest[part] !== undefined && rest[part] !== null))
    .sort((a, b) => Object.keys(b.parts ?? {}).length - Object.keys(a.parts ?? {}).length);
  const chosen = candidates[0];
  if (!chosen) throw new ParamError(`[${api}]: no path of the spec has all its parts among [${Object.keys(rest).join(', ')}]`);
  const partNames = new Set(Object.keys(chosen.parts ?? {}));
  const path = chosen.path.replace(/\{(\w+)\}/g, (_m, part: string) => encodeURIComponent(asParamText(rest[part])));
  const querystring: Record<string, string> = {};
  for (const [key, value] of Object.entries(rest)) {
    if (partNames.has(key)) continue;
    if (!spec.params.has(key) && !COMMON_PARAMS.has(key)) throw new ParamError(`[${api}] does not support parameter [${key}]`);
    querystring[key] = asParamText(value);
  }
  const request: ApiRequest = { api, method: chosen.methods[0] ?? 'GET', path, querystring };
  if (body !== undefined && body !== null) {
    if (spec.bodySerialize === 'bulk') request.bulkBody = asNdjson(body);
    else request.body = body;
  }
  return request;
}
