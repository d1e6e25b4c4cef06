import { ParseError, XContentParseError } from '../domain/errors.ts';
import { formatPos, locate, parseJsonBody } from '../domain/json.ts';

/** `[line:col]` of a top-level key of a JSON object text, as Elasticsearch prefixes parse errors (`[1:1]` when absent). */
export function positionOf(text: string, key: string): string {
  const at = locate(text, [key]);
  return `[${at ? formatPos(at) : '1:1'}]`;
}

/**
 * The body of a request that requires one.
 * @throws ParseError 400 `parse_exception` "request body is required"
 */
export function requireBody(req: { body: string | undefined }): string {
  if (req.body === undefined) throw new ParseError('request body is required');
  return req.body;
}

/**
 * Parses a request body that must be a JSON object with only `allowed` keys, as
 * Elasticsearch's ObjectParser named `parser` does.
 * @throws x_content_parse_exception "[l:c] [<parser>] unknown field [<k>]"; the JSON parse errors of parseJsonBody
 */
export function strictObjectBody(text: string, parser: string, allowed: readonly string[]): Record<string, unknown> {
  const value = parseJsonBody(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new XContentParseError(`[1:1] [${parser}] Expected START_OBJECT but was: ${Array.isArray(value) ? 'START_ARRAY' : 'VALUE'}`);
  }
  for (const k of Object.keys(value)) {
    if (!allowed.includes(k)) throw new XContentParseError(`${positionOf(text, k)} [${parser}] unknown field [${k}]`);
  }
  return value as Record<string, unknown>;
}

/** A body field that must be boolean (Elasticsearch also takes the strings "true"/"false"). */
export function boolField(text: string, parser: string, body: Record<string, unknown>, key: string): boolean | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'false') return v === 'true';
  throw new XContentParseError(`${positionOf(text, key)} [${parser}] failed to parse field [${key}]`, {
    cause: new XContentParseError(`${positionOf(text, key)} Failed to parse value [${String(v)}] as only [true] or [false] are allowed.`),
  });
}

/** A body field that must be a string or number rendered as a string (times, dates). */
export function stringField(text: string, parser: string, body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  throw new XContentParseError(`${positionOf(text, key)} [${parser}] ${key} doesn't support values of type: ${Array.isArray(v) ? 'START_ARRAY' : 'START_OBJECT'}`);
}

/**
 * Parses a date parameter the way ML result APIs do: epoch milliseconds, or an ISO-8601
 * date-time. `now` is accepted too.
 * @throws parse_exception "Query param [<name>] with value [<v>] cannot be parsed as a date or converted to a number"
 */
export function dateParam(value: string | undefined, name: string, nowMs = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  if (/^-?\d+$/.test(value)) return Number(value);
  if (value === 'now') return nowMs;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new ParseError(`Query param [${name}] with value [${value}] cannot be parsed as a date or converted to a number`);
  return t;
}

/** Like dateParam, for epoch-seconds-or-ISO flush times (`advance_time`, `skip_time`, `start`, `end`). */
export function flushTimeParam(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (/^-?\d+$/.test(value)) {
    const n = Number(value);
    // Elasticsearch's TimeUtils.dateStringToEpoch: a 10-digit-or-less number is epoch seconds.
    return value.replace('-', '').length <= 10 ? n * 1000 : n;
  }
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new ParseError(`Query param [${name}] with value [${value}] cannot be parsed as a date or converted to a number`);
  return t;
}
