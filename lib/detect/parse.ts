/**
 * Parsing of a `_data` body into input records, with the input side of Elasticsearch's
 * data_counts. JSON is parsed by `JSON.parse` (per line, per object or for the whole array),
 * except NDJSON lines holding one flat object, which ./flat-json.ts reads with the same result
 * (anything else it hands to JSON.parse); JavaScript otherwise only looks at line breaks and
 * object boundaries.
 */
import { DataParseError } from '../domain/errors.ts';
import type { InputCounts, InputRecord } from './types.ts';
import { isJsonObject } from '../domain/json/plain-values.ts';
import { FlatJsonReader } from './flat-json.ts';

/** The data_description fields that parsing needs. */
export interface DataDescription {
  /** Record field holding the time. */
  time_field: string;
  /** `epoch` (seconds), `epoch_ms`, or a date pattern (see {@link parseTime}). */
  time_format: string;
}

/**
 * Record times at or past this (epoch ms; year 33658) are unreadable: result keys hold the
 * time as 15 digits. Elasticsearch accepts any long (`1e20` as epoch_ms saturates to
 * Long.MAX_VALUE) and its autodetect then walks the gap a bucket at a time, for ever.
 */
export const MAX_RECORD_TIME_MS = 1e15;

const LOCAL_DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?$/;
const NUMERIC = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/**
 * Reads a field of a record: the key as written first, then (for a dotted name) the path
 * through nested objects, as Elasticsearch reads `a.b` from `{"a":{"b":…}}`.
 * @returns the value, or undefined when absent.
 */
export function fieldValue(fields: Record<string, unknown>, name: string): unknown {
  const direct = fields[name];
  if (direct !== undefined || name.indexOf('.') < 0) return direct;
  let cur: unknown = fields;
  for (const part of name.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/**
 * Converts a time field value to epoch ms.
 * - `epoch`: seconds as a number or numeric string, fractions allowed (rounded to the ms).
 * - `epoch_ms`: ms as a number or numeric string (fractions truncated).
 * - any other `time_format` (a Java date pattern such as `yyyy-MM-dd'T'HH:mm:ssX`): the value
 *   must be a string that `Date.parse` reads, i.e. ISO-8601 / RFC 2822. The pattern itself
 *   is not interpreted. A date-time without a zone (`2014-02-14 14:30:00`) is read as UTC,
 *   as Elasticsearch does, not in the host's zone.
 * Times at or after {@link MAX_RECORD_TIME_MS} cannot be read (invalid_date_count). Times
 * before 1970 are read; the model counts them out of order (as Elasticsearch does, except
 * within a second of epoch 0 or within the latency before it).
 * @returns epoch ms, or undefined when the value cannot be read.
 */
export function parseTime(value: unknown, timeFormat: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (timeFormat === 'epoch' || timeFormat === 'epoch_ms') {
    let n: number;
    if (typeof value === 'number') n = value;
    else if (typeof value === 'string' && NUMERIC.test(value)) n = Number(value);
    else return undefined;
    if (!Number.isFinite(n)) return undefined;
    const ms = timeFormat === 'epoch' ? Math.round(n * 1000) : Math.floor(n);
    return Number.isSafeInteger(ms) && ms < MAX_RECORD_TIME_MS ? ms : undefined;
  }
  if (typeof value !== 'string') return undefined;
  const fast = isoDateTimeMs(value);
  if (fast !== undefined) return fast;
  let text = value.trim();
  if (LOCAL_DATE_TIME.test(text)) text = `${text.replace(' ', 'T').replace(',', '.')}Z`;
  const ms = Date.parse(text);
  return Number.isFinite(ms) && ms < MAX_RECORD_TIME_MS ? ms : undefined;
}

/** The digit at `i` of `s` (0–9), or NaN-like −1000 for anything else: sums of digits stay negative. */
function digit(s: string, i: number): number {
  const c = s.charCodeAt(i) - 0x30;
  return c >= 0 && c <= 9 ? c : -1000;
}

/**
 * Epoch ms of the commonest date-time texts, read digit by digit: `yyyy-MM-ddTHH:mm:ss`, with
 * `T` or a space, then nothing (UTC, as {@link parseTime} reads a zoneless time), `Z`, or
 * `.SSS` and `Z` or nothing. Only where Date.parse is sure to agree (year ≥ 1000, a day ≤ 28 or
 * valid in its month, hours ≤ 23, minutes and seconds ≤ 59); undefined sends the text
 * through the general path. Why: Date.parse with the rewriting before it was a third of the
 * parse of an ISO-timed line.
 */
function isoDateTimeMs(s: string): number | undefined {
  const n = s.length;
  if (n !== 19 && n !== 20 && n !== 23 && n !== 24) return undefined;
  if (s.charCodeAt(4) !== 0x2d || s.charCodeAt(7) !== 0x2d || s.charCodeAt(13) !== 0x3a || s.charCodeAt(16) !== 0x3a) return undefined;
  const sep = s.charCodeAt(10);
  if (sep !== 0x54 /* T */ && sep !== 0x20) return undefined;
  const year = digit(s, 0) * 1000 + digit(s, 1) * 100 + digit(s, 2) * 10 + digit(s, 3);
  const month = digit(s, 5) * 10 + digit(s, 6);
  const day = digit(s, 8) * 10 + digit(s, 9);
  const hour = digit(s, 11) * 10 + digit(s, 12);
  const minute = digit(s, 14) * 10 + digit(s, 15);
  const second = digit(s, 17) * 10 + digit(s, 18);
  let ms = 0;
  if (n === 20 && s.charCodeAt(19) !== 0x5a /* Z */) return undefined;
  if (n >= 23) {
    if (s.charCodeAt(19) !== 0x2e /* . */ || (n === 24 && s.charCodeAt(23) !== 0x5a)) return undefined;
    ms = digit(s, 20) * 100 + digit(s, 21) * 10 + digit(s, 22);
    if (ms < 0) return undefined;
  }
  if (year < 1000 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return undefined;
  if (day > 28 && day > daysInMonth(year, month)) return undefined;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** A DataParseError at character index `at` of the body. */
function failureAt(body: string, at: number, detail: string): DataParseError {
  let line = 1;
  let lineStart = 0;
  for (let i = body.indexOf('\n'); i >= 0 && i < at; i = body.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return new DataParseError(line, at - lineStart + 1, detail);
}

/** Turns a JSON.parse failure on `text` (found at `offset` in the body) into a DataParseError. */
function jsonFailure(body: string, offset: number, text: string, err: unknown): DataParseError {
  const message = err instanceof Error ? err.message : String(err);
  const m = / at position (\d+)/.exec(message);
  const at = offset + (m?.[1] !== undefined ? Number(m[1]) : text.length);
  const detail = message.replace(/ in JSON at position \d+.*$/, '').replace(/ \(line \d+ column \d+\)$/, '');
  return failureAt(body, at, detail);
}

/** Index of the first non-whitespace character at or after `from`. */
function nextToken(body: string, from: number): number {
  const i = body.slice(from).search(/\S/);
  return i < 0 ? body.length : from + i;
}

function notAnObject(body: string, at: number): DataParseError {
  return failureAt(body, at, 'expected a JSON object');
}

/**
 * Splits whitespace-separated JSON objects (several on a line, or pretty-printed over
 * several lines). A native regex finds strings and braces; each object is JSON.parse'd.
 */
function parseConcatenated(body: string, out: Record<string, unknown>[]): void {
  const token = /"(?:[^"\\]|\\.)*"|[{}[\]]/g;
  let depth = 0;
  let start = -1;
  let prevEnd = 0;
  for (let m = token.exec(body); m !== null; m = token.exec(body)) {
    const t = m[0];
    if (t.length !== 1) continue;
    if (t === '{' || t === '[') {
      if (depth === 0) {
        const at = nextToken(body, prevEnd);
        if (at < m.index || t === '[') throw notAnObject(body, at);
        start = m.index;
      }
      depth++;
    } else {
      depth--;
      if (depth < 0) throw failureAt(body, m.index, `unexpected close marker '${t}'`);
      if (depth === 0) {
        const text = body.slice(start, token.lastIndex);
        try {
          out.push(JSON.parse(text) as Record<string, unknown>);
        } catch (err) {
          throw jsonFailure(body, start, text, err);
        }
        prevEnd = token.lastIndex;
      }
    }
  }
  if (depth !== 0) throw failureAt(body, body.length, 'unexpected end of input');
  const rest = nextToken(body, prevEnd);
  if (rest < body.length) throw notAnObject(body, rest);
}

/**
 * Parses the body into plain objects (array, NDJSON or concatenated objects).
 * @param fieldCounts receives, for NDJSON lines read by {@link FlatJsonReader}, each
 *   document's field count (its `leafFieldCount`), or −1 where it must be counted; left
 *   empty for the other layouts.
 */
function parseDocuments(body: string, fieldCounts: number[]): Record<string, unknown>[] {
  const first = body.search(/\S/);
  if (first < 0) return [];
  if (body.charCodeAt(first) === 0x5b /* [ */) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (err) {
      throw jsonFailure(body, 0, body, err);
    }
    const arr = parsed as unknown[];
    for (let i = 0; i < arr.length; i++) {
      if (!isJsonObject(arr[i])) throw notAnObject(body, nextToken(body, first + 1));
    }
    return arr as Record<string, unknown>[];
  }
  const out: Record<string, unknown>[] = [];
  const flat = new FlatJsonReader();
  let pos = 0;
  while (pos <= body.length) {
    let nl = body.indexOf('\n', pos);
    if (nl < 0) nl = body.length;
    if (flat.read(body, pos, nl)) {
      out.push(flat.last.doc);
      fieldCounts.push(flat.last.fields);
      pos = nl + 1;
      continue;
    }
    const line = body.slice(pos, nl);
    if (line.trim() !== '') {
      let doc: unknown;
      try {
        doc = JSON.parse(line);
      } catch {
        // Not one object per line: several on a line or one over several lines.
        out.length = 0;
        fieldCounts.length = 0;
        parseConcatenated(body, out);
        return out;
      }
      if (!isJsonObject(doc)) throw notAnObject(body, nextToken(body, pos));
      out.push(doc);
      fieldCounts.push(-1);
    }
    pos = nl + 1;
  }
  return out;
}

/**
 * The fields of a posted document as Elasticsearch's `XContentRecordReader` counts them for
 * `input_field_count`: every field whose value is a scalar, `null` or an array counts once
 * (analysed or not), an object counts the fields inside it, never itself.
 */
function leafFieldCount(doc: Record<string, unknown>): number {
  let n = 0;
  for (const v of Object.values(doc)) n += isJsonObject(v) ? leafFieldCount(v) : 1;
  return n;
}

/**
 * Parses a `_data` body as Elasticsearch's post data does.
 *
 * @param body a JSON array of objects, NDJSON (one object a line), or JSON objects separated
 *   by whitespace (also pretty-printed over several lines).
 * @param dd `time_field` and `time_format` of the job's data_description.
 * @param fieldsUsed the analysis fields (see `analysisFields`), without the time field.
 * @returns `records`: documents with a readable time, in body order, `fields` being the parsed
 *   object itself; `counts`: input_bytes (UTF-8 bytes of the body), input_record_count (all
 *   documents), input_field_count (per document, every field it holds less one for the time
 *   field: see `leafFieldCount`), missing_field_count (Σ of analysis fields absent or null),
 *   invalid_date_count (documents dropped for an absent or unreadable time).
 * @throws DataParseError (400 `x_content_parse_exception`) when the body is not JSON or a
 *   document is not an object.
 */
export function parseDataBody(body: string, dd: DataDescription, fieldsUsed: string[]): { records: InputRecord[]; counts: InputCounts } {
  const known: number[] = [];
  const docs = parseDocuments(body, known);
  const records: InputRecord[] = [];
  let fieldCount = 0;
  let missing = 0;
  let invalid = 0;
  const nUsed = fieldsUsed.length;
  const timeField = dd.time_field;
  const timeFormat = dd.time_format;
  for (let i = 0; i < docs.length; i++) {
    const fields = docs[i] as Record<string, unknown>;
    for (let f = 0; f < nUsed; f++) {
      // Read here, not through fieldValue, unless absent (a dotted path): fieldValue's one
      // property read serves every field name and every caller, so its inline cache is
      // megamorphic; a read site per field name stays monomorphic (the documents of a feed
      // share one shape).
      const name = fieldsUsed[f] as string;
      let v = fields[name];
      if (v === undefined) v = fieldValue(fields, name);
      if (v === undefined || v === null) missing++;
    }
    // Elasticsearch subtracts the time field whether or not the document has one, never below 0.
    const leaves = known.length > i ? (known[i] as number) : -1;
    fieldCount += Math.max((leaves >= 0 ? leaves : leafFieldCount(fields)) - 1, 0);
    let rawTime = fields[timeField];
    if (rawTime === undefined) rawTime = fieldValue(fields, timeField);
    const timeMs = parseTime(rawTime, timeFormat);
    if (timeMs === undefined) {
      invalid++;
      continue;
    }
    records.push({ timeMs, fields });
  }
  return {
    records,
    counts: {
      input_bytes: Buffer.byteLength(body, 'utf8'),
      input_record_count: docs.length,
      input_field_count: fieldCount,
      missing_field_count: missing,
      invalid_date_count: invalid,
    },
  };
}
