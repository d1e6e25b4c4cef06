import { IllegalArgumentError, ParseError, StatusError, XContentParseLocatedError } from '../domain/errors.ts';
import { fields, ValueType, type XField, XObjectParser } from '../domain/json/object-parser.ts';
import { syntaxError } from '../domain/json/syntax-errors.ts';
import { readJson } from '../domain/json/tokenizer.ts';
import { XParser } from '../domain/json/xcontent-parser.ts';

/*
 * Why request bodies are read by our own located JSON reader (`lib/domain/json*`) and
 * ObjectParser-style field tables, not by zod like every other boundary (queue messages in
 * `lib/domain/command.ts`, scheduled events in `lib/worker/schedule.ts`, items read back
 * in `lib/store`): Elasticsearch's clients and tests match its exact 400 answers, and
 * those name the place and the parser: `[1:17] [job_update] unknown field [x]`,
 * Jackson's `Unexpected character ... at [Source: ...; line: 1, column: 9]`, duplicate
 * keys, number ranges, the order in which fields are checked. zod reports a path, not a
 * line and column, sees the body only after `JSON.parse` has thrown away positions,
 * duplicates and big-number text, and stops at other errors first. So do not replace this
 * reader with zod; zod stays for inputs we write ourselves, where no client sees the error.
 */

/**
 * The body of a request that requires one.
 * @throws ParseError 400 `parse_exception` "request body is required"
 */
export function requireBody(req: { body: string | undefined }): string {
  if (req.body === undefined) throw new ParseError('request body is required');
  return req.body;
}

/**
 * Declared type of a field of {@link objectBody}: `declareString`, `declareStringOrNull`,
 * `declareBoolean`, `declareDouble`, `declareInt`, or `page` (`declareObject` with
 * `PageParams.PARSER`, an object parser named `page` with int fields `from` and `size`).
 */
export type BodyField = 'string' | 'stringOrNull' | 'boolean' | 'double' | 'int' | 'page';

/** A value read by {@link objectBody}. */
export type BodyValue = string | boolean | number | null | { from?: number; size?: number };

const PAGE_PARSER = new XObjectParser<{ from?: number; size?: number }>(
  'page',
  { from: fields.int((t, v) => (t.from = v)), size: fields.int((t, v) => (t.size = v)) },
  { create: () => ({}) },
);

function bodyField(kind: BodyField, set: (t: Record<string, BodyValue>, v: BodyValue) => void): XField<Record<string, BodyValue>> {
  switch (kind) {
    case 'string':
      return fields.string(set);
    case 'stringOrNull':
      return fields.stringOrNull(set);
    case 'boolean':
      return fields.boolean(set);
    case 'double':
      return { types: ValueType.DOUBLE, parse: (n, p) => p.doubleValue(n), set: (t, v) => set(t, v as number) };
    case 'int':
      return fields.int(set);
    case 'page':
      return fields.object(PAGE_PARSER, set);
  }
}

/**
 * Parses a request body with an `ObjectParser` named `parser` whose fields are declared with
 * `declareString` (only JSON strings) or `declareBoolean` (booleans and the strings
 * `"true"`/`"false"`), as the ML REST handlers for close, open and flush do: fields are read in
 * document order; a non-object body is `[l:c] [<parser>] Expected START_OBJECT but was: <TOKEN>`;
 * an unknown field `[l:c] [<parser>] unknown field [<f>]` unless `lenient`; a wrong token
 * `[l:c] [<parser>] <f> doesn't support values of type: <TOKEN>` (`null` included); a value
 * `check` refuses is wrapped in `[l:c] [<parser>] failed to parse field [<f>]`.
 * @returns the fields present (strings as written, booleans as booleans)
 * @throws XContentParseLocatedError / the reader's syntax and limit errors, all 400
 */
export function objectBody(
  text: string,
  parser: string,
  spec: Readonly<Record<string, BodyField>>,
  options: { lenient?: boolean; check?: (field: string, value: BodyValue) => void } = {},
): Record<string, BodyValue> {
  const { root, fault } = readJson(text);
  if (!root) {
    if (fault) throw syntaxError(fault, 'token');
    throw new XContentParseLocatedError(null, `[${parser}] Expected START_OBJECT but was: null`);
  }
  const declared: Record<string, XField<Record<string, BodyValue>>> = {};
  for (const [name, kind] of Object.entries(spec)) {
    const set = (t: Record<string, BodyValue>, v: BodyValue): void => {
      options.check?.(name, v);
      Object.defineProperty(t, name, { value: v, enumerable: true, writable: true, configurable: true });
    };
    declared[name] = bodyField(kind, set);
  }
  const objectParser = new XObjectParser(parser, declared, { create: () => ({}) }, options.lenient ?? false);
  return objectParser.parse(root, new XParser(root.start));
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
export function flushTimeParam(value: string | undefined, name: string, nowMs = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  // TimeRange.paramToEpochIfValidOrThrow: "now" is the current time.
  if (value === 'now') return nowMs;
  if (/^-?\d+$/.test(value)) {
    const n = Number(value);
    // Elasticsearch's TimeUtils.dateStringToEpoch: a 10-digit-or-less number is epoch seconds.
    return value.replace('-', '').length <= 10 ? n * 1000 : n;
  }
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new ParseError(`Query param [${name}] with value [${value}] cannot be parsed as a date or converted to a number`);
  return t;
}

/** Flush parameters after validation: epoch milliseconds as given (the worker works in ms). */
export interface ValidatedFlush {
  calc_interim: boolean;
  start: number | undefined;
  end: number | undefined;
  advance_time: number | undefined;
  skip_time: number | undefined;
}

/**
 * Validates flush parameters the way Elasticsearch's `TimeRange.Builder.build()` and
 * `FlushJobParams.Builder.build()` do, in their order (an empty string counts as absent):
 * 1. `start` and `end` parse (400 `parse_exception`), and `end` earlier than `start` (compared in
 *    whole epoch seconds) is 400 `illegal_argument_exception`
 *    "Invalid time range: end time '<end>' is earlier than start time '<start>'.";
 * 2. without `calc_interim`, `start` or `end` is "Invalid flush parameters: unexpected '<p>'.";
 *    with it, `end` without `start` is "Invalid flush parameters: 'start' has not been specified."
 *    (both 400 `illegal_argument_exception`);
 * 3. `advance_time` and `skip_time` parse, and `advance_time` not later than `skip_time` (seconds)
 *    is 400 `status_exception` "advance_time [<a>] must be later than skip_time [<s>]".
 */
export function validateFlush(raw: Record<string, string | undefined>, calcInterim: boolean, nowMs = Date.now()): ValidatedFlush {
  const present = (k: string): string | undefined => (raw[k] === undefined || raw[k] === '' ? undefined : raw[k]);
  const seconds = (ms: number): number => Math.trunc(ms / 1000);
  const start = present('start');
  const end = present('end');
  const startMs = flushTimeParam(start, 'start', nowMs);
  const endMs = flushTimeParam(end, 'end', nowMs);
  if (startMs !== undefined && endMs !== undefined && seconds(endMs) < seconds(startMs)) {
    throw new IllegalArgumentError(`Invalid time range: end time '${end}' is earlier than start time '${start}'.`);
  }
  if (!calcInterim) {
    if (start !== undefined) throw new IllegalArgumentError("Invalid flush parameters: unexpected 'start'.");
    if (end !== undefined) throw new IllegalArgumentError("Invalid flush parameters: unexpected 'end'.");
  } else if (start === undefined && end !== undefined) {
    throw new IllegalArgumentError("Invalid flush parameters: 'start' has not been specified.");
  }
  const advance = present('advance_time');
  const skip = present('skip_time');
  const advanceMs = flushTimeParam(advance, 'advance_time', nowMs);
  const skipMs = flushTimeParam(skip, 'skip_time', nowMs);
  if (advanceMs !== undefined && skipMs !== undefined && seconds(advanceMs) <= seconds(skipMs)) {
    throw new StatusError(400, `advance_time [${advance}] must be later than skip_time [${skip}]`);
  }
  return { calc_interim: calcInterim, start: startMs, end: endMs, advance_time: advanceMs, skip_time: skipMs };
}
