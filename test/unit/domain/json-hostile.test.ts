import { describe, expect, it } from 'vitest';
import { EsError } from '../../../lib/domain/errors.ts';
import { MAX_NESTING_DEPTH } from '../../../lib/domain/json/jackson-limits.ts';
import { fields, XObjectParser } from '../../../lib/domain/json/object-parser.ts';
import { locate, parseJsonBody } from '../../../lib/domain/json/plain-values.ts';
import { readJson } from '../../../lib/domain/json/tokenizer.ts';
import { XParser } from '../../../lib/domain/json/xcontent-parser.ts';
import { objectBody, validateFlush } from '../../../lib/http/body.ts';
import { rng } from '../detect/helpers.ts';
import { expectEsError } from './es-error.ts';

const src = (line: number, col: number): string => `\n at [Source: REDACTED (\`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION\` disabled); line: ${line}, column: ${col}]`;
const VALID = "was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')";
const DEPTH = (d: number): string => `Document nesting depth (${d}) exceeds the maximum allowed (1000, from \`StreamReadConstraints.getMaxNestingDepth()\`)`;
const NUMLEN = (n: number): string => `Number value length (${n}) exceeds the maximum allowed (1000, from \`StreamReadConstraints.getMaxNumberLength()\`)`;

describe('bare literals as the whole body', () => {
  it.each([
    ['true', true],
    ['false', false],
    ['null', null],
    ['1', 1],
    ['"x"', 'x'],
    ['-0.5e3', -500],
    ['  true\n', true],
  ])('%j reads as a value (the typed parsers then refuse it)', (text, value) => {
    expect(parseJsonBody(text)).toEqual(value);
  });

  it.each([
    ['abc', `[1:4] Unrecognized token 'abc': ${VALID}${src(1, 4)}`],
    ['tru', `[1:4] Unrecognized token 'tru': ${VALID}${src(1, 4)}`],
    ['truex', `[1:6] Unrecognized token 'truex': ${VALID}${src(1, 6)}`],
    ['nul}', `[1:5] Unrecognized token 'nul': ${VALID}${src(1, 5)}`],
    ['True', `[1:5] Unrecognized token 'True': ${VALID}${src(1, 5)}`],
    ['NaN', `[1:4] Non-standard token 'NaN': enable \`JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS\` to allow${src(1, 4)}`],
    ['Infinity', `[1:9] Non-standard token 'Infinity': enable \`JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS\` to allow${src(1, 9)}`],
    ['-Infinity', `[1:10] Non-standard token '-Infinity': enable \`JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS\` to allow${src(1, 10)}`],
    ['{"a":NaN}', `[1:9] Non-standard token 'NaN': enable \`JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS\` to allow${src(1, 9)}`],
    [
      '+1',
      `[1:3] Unexpected character ('+' (code 43)) in numeric value: JSON spec does not allow numbers to have plus signs: enable \`JsonReadFeature.ALLOW_LEADING_PLUS_SIGN_FOR_NUMBERS\` to allow${src(1, 3)}`,
    ],
    ["'x'", `[1:2] Unexpected character (''' (code 39)): expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')${src(1, 2)}`],
  ])('%j is Jackson’s error, not a crash', (text, reason) => {
    expectEsError(() => parseJsonBody(text), { type: 'x_content_parse_exception', status: 400, reason });
  });

  it('cuts an unrecognized token at 256 characters like Jackson', () => {
    const e = expectEsError(() => parseJsonBody('a'.repeat(300)), { type: 'x_content_parse_exception', reason: /Unrecognized token/ });
    expect(e.message).toBe(`[1:257] Unrecognized token '${'a'.repeat(256)}...': ${VALID}${src(1, 257)}`);
  });

  it('a lone sign at the end is an end-of-file', () => {
    expectEsError(() => parseJsonBody('-'), { type: 'x_content_e_o_f_exception', status: 400, reason: '[1:2] Unexpected end of file' });
    expectEsError(() => parseJsonBody('+'), { type: 'x_content_e_o_f_exception', status: 400, reason: '[1:2] Unexpected end of file' });
  });
});

describe('comments (Elasticsearch enables ALLOW_COMMENTS)', () => {
  it('skips C and C++ comments and counts their lines', () => {
    expect(parseJsonBody('/* lead */ {"a": /* in */ 1, // tail\n "b": [2 /* x\n y */, 3]}')).toEqual({ a: 1, b: [2, 3] });
    expectEsError(() => parseJsonBody('// c\n/* d\n */ {"a":,}'), {
      type: 'x_content_parse_exception',
      reason: `[3:11] Unexpected character (',' (code 44)): expected a value${src(3, 11)}`,
    });
  });

  it('refuses a lone slash and an unterminated comment', () => {
    expectEsError(() => parseJsonBody('{"a":1 /x}'), {
      type: 'x_content_parse_exception',
      reason: `[1:10] Unexpected character ('x' (code 120)): was expecting either '*' or '/' for a comment${src(1, 10)}`,
    });
    expectEsError(() => parseJsonBody('{"a":1 /* x'), {
      type: 'x_content_parse_exception',
      reason: `[1:12] Unexpected end-of-input in a comment${src(1, 12)}`,
    });
  });
});

describe('StreamReadConstraints', () => {
  const nested = (depth: number, open = '[', close = ']', inner = '1'): string => open.repeat(depth) + inner + close.repeat(depth);

  it('reads 1,000 levels and refuses the 1,001st with Jackson’s text, without location', () => {
    expect(readJson(nested(MAX_NESTING_DEPTH)).fault).toBeUndefined();
    expectEsError(() => parseJsonBody(nested(1001)), { type: 'stream_constraints_exception', status: 400, reason: DEPTH(1001) });
    expectEsError(() => parseJsonBody(nested(10_000)), { type: 'stream_constraints_exception', status: 400, reason: DEPTH(1001) });
  });

  it('counts objects and arrays alike', () => {
    const deep = '{"a":['.repeat(600) + ']}'.repeat(600);
    expectEsError(() => parseJsonBody(deep), { type: 'stream_constraints_exception', reason: DEPTH(1001) });
  });

  it('100,000 levels neither overflow the stack nor take the locator down', () => {
    const text = '['.repeat(100_000);
    expectEsError(() => parseJsonBody(text), { type: 'stream_constraints_exception', reason: DEPTH(1001) });
    expect(locate(text, [0, 0])).toEqual({ line: 1, col: 3 });
  });

  it('is wrapped by a typed field at the refused token, its own root cause', () => {
    const parser = new XObjectParser<{ m?: unknown }>(
      'thing',
      { m: { types: ['START_OBJECT'], parse: (n, p) => p.map(n, true), set: (t, v) => (t.m = v) } },
      { create: () => ({}) },
    );
    const root = readJson(`{"m":${nested(1000, '{"a":', '}', '1')}}`).root;
    if (!root) throw new Error('no root');
    const e = expectEsError(() => parser.parse(root, new XParser()), {
      type: 'x_content_parse_exception',
      status: 400,
      reason: `[1:${5 + 5 * 999 + 1}] [thing] failed to parse field [m]`,
    });
    expect(e.toBody().error.caused_by).toEqual({ type: 'stream_constraints_exception', reason: DEPTH(1001) });
    expect(e.toBody().error.root_cause[0]?.type).toBe('x_content_parse_exception');
  });

  it('refuses numbers of more than 1,000 digits (integer digits, or all digits of a float)', () => {
    expect(parseJsonBody('9'.repeat(1000))).toBe(Number('9'.repeat(1000)));
    expectEsError(() => parseJsonBody(`-${'9'.repeat(1001)}`), { type: 'stream_constraints_exception', reason: NUMLEN(1001) });
    expectEsError(() => parseJsonBody(`{"a":1.${'0'.repeat(998)}e10}`), { type: 'stream_constraints_exception', reason: NUMLEN(1001) });
  });

  it('does not limit string or name lengths (Elasticsearch lifts them)', () => {
    const big = 'x'.repeat(1_000_000);
    expect(parseJsonBody(`{"${big}":"${big}"}`)).toEqual({ [big]: big });
  });
});

describe('body helpers name the token a bare value has', () => {
  it.each([
    ['true', 'VALUE_BOOLEAN', '1:1'],
    ['null', 'VALUE_NULL', '1:1'],
    ['  12', 'VALUE_NUMBER', '1:3'],
    ['"x"', 'VALUE_STRING', '1:1'],
    ['[]', 'START_ARRAY', '1:1'],
  ])('%j', (text, token, at) => {
    expectEsError(() => objectBody(text, 'p', {}), {
      type: 'x_content_parse_exception',
      status: 400,
      reason: `[${at}] [p] Expected START_OBJECT but was: ${token}`,
    });
  });

  it('objectBody reads fields in document order with ObjectParser texts', () => {
    const spec = { force: 'boolean', timeout: 'string' } as const;
    expect(objectBody('{"force":"true","timeout":"1s"}', 'p', spec)).toEqual({ force: true, timeout: '1s' });
    expectEsError(() => objectBody('{"force":{"x":1},"zz":1}', 'p', spec), {
      type: 'x_content_parse_exception',
      reason: "[1:10] [p] force doesn't support values of type: START_OBJECT",
    });
    expectEsError(() => objectBody('{"zz":1,"force":{}}', 'p', spec), { type: 'x_content_parse_exception', reason: '[1:2] [p] unknown field [zz]' });
    expectEsError(() => objectBody('{"timeout":30}', 'p', spec), {
      type: 'x_content_parse_exception',
      reason: "[1:12] [p] timeout doesn't support values of type: VALUE_NUMBER",
    });
    expectEsError(() => objectBody('{"timeout":null}', 'p', spec), {
      type: 'x_content_parse_exception',
      reason: "[1:12] [p] timeout doesn't support values of type: VALUE_NULL",
    });
    const e = expectEsError(() => objectBody('{"force":"yes"}', 'p', spec), { type: 'x_content_parse_exception', reason: '[1:10] [p] failed to parse field [force]' });
    expect(e.toBody().error.caused_by).toEqual({ type: 'illegal_argument_exception', reason: 'Failed to parse value [yes] as only [true] or [false] are allowed.' });
    expect(objectBody('{"zz":[1,{"a":2}],"force":false}', 'p', spec, { lenient: true })).toEqual({ force: false });
    expectEsError(() => objectBody('false', 'p', spec), { type: 'x_content_parse_exception', reason: '[1:1] [p] Expected START_OBJECT but was: VALUE_BOOLEAN' });
    expectEsError(() => objectBody('/* only */', 'p', spec), { type: 'x_content_parse_exception', reason: '[p] Expected START_OBJECT but was: null' });
  });
});

describe('validateFlush (TimeRange and FlushJobParams validation)', () => {
  it.each([
    [{ start: '2000', end: '1000' }, true, 'illegal_argument_exception', "Invalid time range: end time '1000' is earlier than start time '2000'."],
    [{ start: '2000', end: '1000' }, false, 'illegal_argument_exception', "Invalid time range: end time '1000' is earlier than start time '2000'."],
    [{ start: '1000' }, false, 'illegal_argument_exception', "Invalid flush parameters: unexpected 'start'."],
    [{ end: '1000' }, false, 'illegal_argument_exception', "Invalid flush parameters: unexpected 'end'."],
    [{ end: '1000' }, true, 'illegal_argument_exception', "Invalid flush parameters: 'start' has not been specified."],
    [{ advance_time: '1000', skip_time: '1000' }, false, 'status_exception', 'advance_time [1000] must be later than skip_time [1000]'],
    [{ start: 'soon' }, true, 'parse_exception', 'Query param [start] with value [soon] cannot be parsed as a date or converted to a number'],
  ] as const)('%j calc_interim=%s is %s', (raw, calcInterim, type, reason) => {
    expectEsError(() => validateFlush({ ...raw }, calcInterim), { type, status: 400, reason });
  });

  it('accepts what Elasticsearch accepts (empty strings are absent, same second, now)', () => {
    expect(validateFlush({ start: '1000', end: '1000' }, true, 5)).toMatchObject({ start: 1_000_000, end: 1_000_000 });
    expect(validateFlush({ start: '', end: '' }, false)).toMatchObject({ start: undefined, end: undefined });
    expect(validateFlush({ start: '1700000000500', end: '1700000000100' }, true)).toMatchObject({ start: 1700000000500, end: 1700000000100 });
    expect(validateFlush({ advance_time: 'now', skip_time: '1000' }, false, 9_000_000)).toMatchObject({ advance_time: 9_000_000, skip_time: 1_000_000 });
  });
});

// ---------------------------------------------------------------------------------------
// Property: for any text, the reader gives a value or a 400 EsError; nothing else escapes.
// ---------------------------------------------------------------------------------------

const SEEDS = [
  '{"job_id":"a","analysis_config":{"bucket_span":"15m","detectors":[{"function":"mean","field_name":"v"}]},"data_description":{"time_field":"t"}}',
  '{"timeout":"-1","force":true,"allow_no_match":"false"}',
  '{"persistent":{"xpack.ml.max_model_memory_limit":"1gb","xpack":{"ml":{"max_open_jobs":5}}}}',
  '{"a":[1,-2.5e-3,true,false,null,"\\u00e9\\ud83d\\ude00\\n"],"b":{}}',
  '[{"x":{"y":[[]]}}]',
  '"\\ud800"',
  '\ufeff{"bom":1}',
  '{"dup":1,"dup":2}',
  '{"a":1} trailing',
  '1e999',
  '-0',
  '123456789012345678901234567890',
];

const PIECES = [
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '"',
  '\\',
  '/',
  '*',
  '-',
  '+',
  '.',
  'e',
  '0',
  '1',
  'tru',
  'nul',
  'NaN',
  ' ',
  '\n',
  '\u0000',
  '\ud800',
  '\udc00',
  '\ufeff',
  'é',
  '😀',
  '\\u',
  '\\ud83d',
];

function mutate(text: string, r: () => number): string {
  const chars = [...text];
  const n = 1 + Math.floor(r() * 4);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(r() * (chars.length + 1));
    const op = r();
    if (op < 0.3) chars.splice(at, 1);
    else if (op < 0.7) chars.splice(at, 0, PIECES[Math.floor(r() * PIECES.length)] ?? '');
    else if (op < 0.85) chars.splice(at, 0, ...chars.slice(Math.floor(r() * chars.length)));
    else chars.length = Math.min(chars.length, at);
  }
  return chars.join('');
}

function randomBytesAsText(r: () => number): string {
  const bytes = Buffer.alloc(Math.floor(r() * 64), 0);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(r() * 256);
  return r() < 0.5 ? bytes.toString('utf8') : bytes.toString('latin1');
}

function randomLoneSurrogates(r: () => number): string {
  let s = '';
  const n = Math.floor(r() * 20);
  for (let i = 0; i < n; i++) s += String.fromCharCode(r() < 0.5 ? 0xd800 + Math.floor(r() * 0x800) : 0x20 + Math.floor(r() * 0x60));
  return s;
}

/** Every way a body is read: plain, as a located tree walked by a typed parser, and by the locator. */
function readAllWays(text: string): void {
  const outcomes: (() => unknown)[] = [
    () => parseJsonBody(text),
    () => {
      const root = readJson(text).root;
      if (!root) return undefined;
      const p = new XParser(root.start);
      const parser = new XObjectParser<Record<string, unknown>>(
        'fuzz',
        { a: fields.string((t, v) => (t.a = v)), n: fields.long((t, v) => (t.n = v)), job_id: fields.string((t, v) => (t.job_id = v)) },
        { create: () => ({}) },
        true,
      );
      return parser.parse(root, p);
    },
    () => {
      const root = readJson(text).root;
      return root ? new XParser().readValue(root, false) : undefined;
    },
    () => locate(text, ['a', 0, 'b']),
    () => objectBody(text, 'fuzz', { a: 'string', force: 'boolean', n: 'double', s: 'stringOrNull', page: 'page' }, { lenient: text.length % 2 === 0 }),
  ];
  for (const run of outcomes) {
    try {
      run();
    } catch (e) {
      if (!(e instanceof EsError)) throw new Error(`non-EsError for ${JSON.stringify(text.slice(0, 200))}: ${String(e)}`);
      if (e.status !== 400) throw new Error(`status ${e.status} (${e.type}: ${e.message}) for ${JSON.stringify(text.slice(0, 200))}`);
    }
  }
}

describe('hostile input never escapes as anything but a 400 EsError', () => {
  it('mutated, truncated and spliced JSON texts', () => {
    const r = rng(6);
    for (let i = 0; i < 4000; i++) {
      const base = SEEDS[i % SEEDS.length] ?? '';
      readAllWays(mutate(base, r));
    }
  });

  it('every prefix of the seeds (truncation at each character)', () => {
    for (const s of SEEDS) for (let i = 0; i <= s.length; i++) readAllWays(s.slice(0, i));
  });

  it('random bytes decoded as text, and lone surrogates', () => {
    const r = rng(60);
    for (let i = 0; i < 3000; i++) readAllWays(i % 2 === 0 ? randomBytesAsText(r) : randomLoneSurrogates(r));
  });

  it('deep nesting of every shape, huge numbers and long tokens', () => {
    for (const d of [999, 1000, 1001, 5000, 50_000]) {
      readAllWays('['.repeat(d));
      readAllWays('{"a":'.repeat(d));
      readAllWays('{"a":['.repeat(d) + ']}'.repeat(d));
      readAllWays('['.repeat(d) + ']'.repeat(d));
    }
    readAllWays('9'.repeat(100_000));
    readAllWays(`{"n":${'9'.repeat(400)}}`);
    readAllWays(`{"n":1e${'9'.repeat(400)}}`);
    readAllWays(`{"n":-${'1'.repeat(30)}}`);
    readAllWays('x'.repeat(100_000));
    readAllWays(`"${'\\u'.repeat(1000)}"`);
  });

  it('the locator (used in every error prefix) survives anything', () => {
    expect(locate('tru', ['a'])).toBeUndefined();
    expect(locate('{"a":', ['a'])).toBeUndefined();
    expect(locate('', [])).toBeUndefined();
  });
});
