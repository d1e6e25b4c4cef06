/**
 * The `Accept` and `Content-Type` checks Elasticsearch's REST layer makes before a
 * handler runs: `ParsedMediaType.parseMediaType`, `RestCompatibleVersionHelper` (REST
 * API compatibility, `compatible-with=<major>`) and `RestController`'s 406 for a body
 * whose media type it cannot read.
 */
import { EsError, IllegalArgumentError, MediaTypeHeaderError, SimpleHttpError, StatusError, ValidationError } from '../domain/errors.ts';
import { ES_VERSION } from '../domain/version.ts';

/** A parsed media type: lower-cased `type/subtype` and parameters, with the header value as sent. */
export interface ParsedMediaType {
  mediaType: string;
  params: Record<string, string>;
  raw: string;
}

/** RFC 7230 `token` characters, as Elasticsearch's `TCHAR_PATTERN`. */
const TCHAR = /^[a-zA-Z0-9!#$%&'*+\-.^_`|~]+$/;

/** What browsers send by default (Elasticsearch treats it as no `Accept` at all). */
const DEFAULT_ACCEPT = 'text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2';

/**
 * Elasticsearch's `ParsedMediaType.parseMediaType`: null for `*` ranges and comma lists
 * (they are not versioned), else `type/subtype` and `;`-separated `key=value` parameters.
 * @throws Error "invalid media-type [<v>]" or "invalid parameters for header [<v>]" (Java IllegalArgumentException)
 */
export function parseMediaType(raw: string): ParsedMediaType | null {
  if (raw === DEFAULT_ACCEPT || raw === '*/*' || raw.includes(',')) return null;
  const elements = raw.toLowerCase().split(/[\s\t]*;/);
  const parts = elements[0]!.split('/');
  if (parts.length !== 2 || !TCHAR.test(parts[0]!.trim()) || !TCHAR.test(parts[1]!.trim())) {
    throw new Error(`invalid media-type [${raw}]`);
  }
  const params: Record<string, string> = {};
  for (const element of elements.slice(1)) {
    const p = element.trim();
    if (p === '') continue;
    const kv = p.split('=');
    // Spaces may separate parameters but not surround '='.
    if (kv.length !== 2 || /\s$/.test(kv[0]!) || /^\s/.test(kv[1]!)) throw new Error(`invalid parameters for header [${raw}]`);
    params[kv[0]!.trim()] = kv[1]!.trim();
  }
  return { mediaType: `${parts[0]!.trim()}/${parts[1]!.trim()}`, params, raw };
}

/** XContent families Elasticsearch reads request bodies in, by media type (`XContentType.MEDIA_TYPE_REGISTRY`). */
const BODY_TYPES: Record<string, 'json' | 'yaml' | 'cbor' | 'smile'> = {
  'application/json': 'json',
  'application/x-ndjson': 'json',
  'application/*': 'json',
  'application/vnd.elasticsearch+json': 'json',
  'application/vnd.elasticsearch+x-ndjson': 'json',
  'application/yaml': 'yaml',
  'application/vnd.elasticsearch+yaml': 'yaml',
  'application/cbor': 'cbor',
  'application/vnd.elasticsearch+cbor': 'cbor',
  'application/smile': 'smile',
  'application/vnd.elasticsearch+smile': 'smile',
};

const CURRENT_MAJOR = Number(ES_VERSION.number.split('.')[0]);
/** `Version.CURRENT.minimumRestCompatibilityVersion().major`: the previous major. */
const MINIMUM_COMPATIBLE_MAJOR = CURRENT_MAJOR - 1;

function parseVersion(m: ParsedMediaType | null, header: string): number | undefined {
  const v = m?.params['compatible-with'];
  if (v === undefined) return undefined;
  // Java's Byte.parseByte.
  if (!/^[+-]?\d+$/.test(v)) throw new MediaTypeHeaderError([header], new EsError('number_format_exception', 400, `For input string: "${v}"`));
  const n = Number(v);
  if (n < -128 || n > 127) throw new MediaTypeHeaderError([header], new EsError('number_format_exception', 400, `Value out of range. Value:"${v}" Radix:10`));
  return n;
}

function headerMediaType(value: string | undefined, name: string): ParsedMediaType | null {
  if (value === undefined) return null;
  if (value.trim() === '') throw new MediaTypeHeaderError([name], new EsError('illegal_argument_exception', 400, `Header [${name}] cannot be empty.`));
  try {
    return parseMediaType(value);
  } catch (err) {
    throw new MediaTypeHeaderError([name], new EsError('illegal_argument_exception', 400, (err as Error).message));
  }
}

/**
 * Checks `Accept` and `Content-Type` the way `RestRequest`'s constructor does, before
 * authentication (Elasticsearch answers these as bad requests). A version asked with
 * `compatible-with` must be the current major (9) or the one before (8); with a body,
 * `Content-Type` must ask for the same version as `Accept`, and both or neither must ask.
 * @param hasContent the request has a body of at least one byte
 * @throws MediaTypeHeaderError 400 `media_type_header_exception` "Invalid media-type value on headers [Accept, Content-Type]"
 *   caused by `status_exception` "Accept version must be either version 9 or 8, but found 7. Accept=<value>" (and the
 *   Content-Type and mismatch messages of `RestCompatibleVersionHelper`), or by the header's parse error
 */
export function checkMediaTypeHeaders(accept: string | undefined, contentType: string | undefined, hasContent: boolean): void {
  const a = headerMediaType(accept, 'Accept');
  const c = headerMediaType(contentType, 'Content-Type');
  const both = ['Accept', 'Content-Type'];
  const aVersion = parseVersion(a, 'Accept');
  const cVersion = parseVersion(c, 'Content-Type');
  const acceptVersion = aVersion ?? CURRENT_MAJOR;
  const contentVersion = cVersion ?? CURRENT_MAJOR;
  const fail = (reason: string) => new MediaTypeHeaderError(both, new StatusError(400, reason));
  if (acceptVersion > CURRENT_MAJOR || acceptVersion < MINIMUM_COMPATIBLE_MAJOR) {
    throw fail(`Accept version must be either version ${CURRENT_MAJOR} or ${MINIMUM_COMPATIBLE_MAJOR}, but found ${acceptVersion}. Accept=${a?.raw ?? null}`);
  }
  if (!hasContent) return;
  if (contentVersion > CURRENT_MAJOR || contentVersion < MINIMUM_COMPATIBLE_MAJOR) {
    throw fail(`Content-Type version must be either version ${CURRENT_MAJOR} or ${MINIMUM_COMPATIBLE_MAJOR}, but found ${contentVersion}. Content-Type=${c?.raw ?? null}`);
  }
  if (contentVersion !== acceptVersion) {
    throw fail(
      'A compatible version is required on both Content-Type and Accept headers if either one has requested a compatible version ' +
        `and the compatible versions must match. Accept=${a?.raw ?? null}, Content-Type=${c?.raw ?? null}`,
    );
  }
  if ((cVersion === undefined) !== (aVersion === undefined)) {
    throw fail(
      'A compatible version is required on both Content-Type and Accept headers if either one has requested a compatible version. ' +
        `Accept=${a?.raw ?? null}, Content-Type=${c?.raw ?? null}`,
    );
  }
}

/**
 * Checks that a request body's `Content-Type` is one mlplane can read, as `RestController`
 * does before dispatching (and before authentication): JSON and NDJSON (also the
 * `application/vnd.elasticsearch+…` forms). YAML, CBOR and Smile, which Elasticsearch
 * would read, are refused with the same 406 shape and a reason saying so (mlplane parses
 * JSON only).
 * @throws SimpleHttpError 406 `{"error":"Content-Type header [text/plain] is not supported","status":406}`,
 *   or "Content-Type header is missing" when a body comes without one
 */
export function checkBodyContentType(contentType: string | undefined): void {
  if (contentType === undefined) throw new SimpleHttpError(406, 'Content-Type header is missing');
  const m = parseMediaType(contentType);
  const family = m ? BODY_TYPES[m.mediaType] : undefined;
  // The vendor types register `compatible-with` as digits only; another value makes the type unknown.
  const versionOk = !m || !m.mediaType.startsWith('application/vnd.elasticsearch+') || m.params['compatible-with'] === undefined || /^\d+$/.test(m.params['compatible-with']);
  if (!family || !versionOk) throw new SimpleHttpError(406, `Content-Type header [${contentType}] is not supported`);
  if (family !== 'json') {
    throw new SimpleHttpError(406, `Content-Type header [${contentType}] is not supported: mlplane reads JSON request bodies only (application/json or application/x-ndjson)`);
  }
}

/**
 * Checks the `source_content_type` that must accompany a `source` query parameter used as
 * the body, as `RestRequest.contentOrSourceParam` does.
 * @throws ValidationError "Validation Failed: 1: source and source_content_type parameters are required;"
 *   or "Validation Failed: 1: Unknown value for source_content_type [<v>];"
 * @throws IllegalArgumentError "invalid Content-Type header [<v>]" for a value that is not a media type, or
 *   a YAML/CBOR/Smile type (Elasticsearch would read it; mlplane reads JSON only)
 */
export function checkSourceContentType(value: string | undefined): void {
  if (value === undefined) throw new ValidationError(['source and source_content_type parameters are required']);
  const type = value.split(/[ \t]*;/)[0] ?? '';
  const parts = type.split('/');
  if (parts.length !== 2 || !TCHAR.test(parts[0]!) || !TCHAR.test(parts[1]!.trim())) throw new IllegalArgumentError(`invalid Content-Type header [${value}]`);
  const family = BODY_TYPES[type.toLowerCase().trim()];
  if (!family) throw new ValidationError([`Unknown value for source_content_type [${value}]`]);
  if (family !== 'json') throw new IllegalArgumentError(`source_content_type [${value}] is not supported: mlplane reads JSON request bodies only`);
}
