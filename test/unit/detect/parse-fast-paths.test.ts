/** The fast paths of `_data` parsing (flat NDJSON lines, date-time texts) give what the general paths give. */
import { describe, expect, it } from 'vitest';
import { FlatJsonReader } from '../../../lib/detect/flat-json.ts';
import { parseDataBody, parseTime } from '../../../lib/detect/index.ts';
import { rng } from './helpers.ts';

/** Reads `line` with a reader; the object it gives, or undefined when it declines. */
function read(reader: FlatJsonReader, line: string): { doc: Record<string, unknown>; fields: number } | undefined {
  return reader.read(line, 0, line.length) ? { doc: reader.last.doc, fields: reader.last.fields } : undefined;
}

/** The object is JSON.parse's: same keys in the same order, values equal by Object.is (−0 kept). */
function expectSameAsJsonParse(line: string, got: { doc: Record<string, unknown>; fields: number }): void {
  const want = JSON.parse(line) as Record<string, unknown>;
  expect(Object.keys(got.doc)).toEqual(Object.keys(want));
  for (const k of Object.keys(want)) expect(Object.is(got.doc[k], want[k]), `${line}: ${k}`).toBe(true);
  expect(got.fields).toBe(Object.keys(want).length);
  expect(Object.getPrototypeOf(got.doc)).toBe(Object.prototype);
}

describe('FlatJsonReader', () => {
  it('reads flat lines exactly as JSON.parse does, reusing the keys of the line before', () => {
    const reader = new FlatJsonReader();
    const lines = [
      '{"time":1704067200,"value":40.841}',
      '{"time":1704067500,"value":-0.5}',
      '{"time":1704067800,"value":39}',
      '{"time":"2024-01-01T00:10:00Z","host":"h-1","up":true,"down":false,"x":null}',
      ' { "time" : 1 , "value" : 2.25 } \r',
      '{}',
      '{"timex":1,"tim":2,"time":3}',
      '{"1":1,"b":2,"0":3}',
      '{"a":"ünïcödé \u2028 \ud800","b":-0,"c":-0.0,"d":0}',
    ];
    for (const line of lines) {
      const got = read(reader, line);
      expect(got, line).toBeDefined();
      expectSameAsJsonParse(line, got as NonNullable<typeof got>);
    }
  });

  it('declines what JSON.parse must decide: nesting, escapes, bad syntax, duplicate and __proto__ keys', () => {
    const reader = new FlatJsonReader();
    for (const line of [
      '{"a":{"b":1}}',
      '{"a":[1]}',
      '{"a":"x\\"y"}',
      '{"a\\u0041":1}',
      '{"a":"tab\there"}',
      '{"a":01}',
      '{"a":1.}',
      '{"a":.5}',
      '{"a":+1}',
      '{"a":-}',
      '{"a":1e}',
      '{"a":1,}',
      '{"a":1} {"b":2}',
      '{"a":1,"a":2}',
      '{"__proto__":1}',
      '{"a":tru}',
      '{"a":truex}',
      '{"a":1',
      '[1]',
      '',
      '   ',
      '\ufeff{"a":1}',
    ]) {
      expect(read(reader, line), line).toBeUndefined();
    }
  });

  it('reads numbers to the same double as JSON.parse, in every notation', () => {
    const reader = new FlatJsonReader();
    const rand = rng(42);
    const texts = [
      '0',
      '-0',
      '0.1',
      '0.30000000000000004',
      '1e5',
      '1E-7',
      '2.5e+3',
      '123456789012345678',
      '9007199254740993',
      '1.7976931348623157e308',
      '5e-324',
      '1e400',
      '0.000000000000000000000001',
      '123456789012345.5',
      '1.000000000000000000001',
    ];
    for (let i = 0; i < 20_000; i++) {
      const x = (rand() - 0.5) * 10 ** Math.floor(rand() * 40 - 20);
      const digits = Math.floor(rand() * 17);
      texts.push(
        String(x),
        x.toFixed(digits),
        x.toExponential(digits),
        String(Math.floor(rand() * 2 ** 53)),
        `${Math.floor(rand() * 1e6)}.${String(Math.floor(rand() * 1e9)).padStart(9, '0')}`,
      );
    }
    for (const t of texts) {
      const line = `{"v":${t}}`;
      const got = read(reader, line);
      expect(got, line).toBeDefined();
      expect(Object.is(got?.doc.v, JSON.parse(line).v), line).toBe(true);
    }
  });
});

describe('parseDataBody with flat and other lines mixed', () => {
  it('gives the documents, counts and errors JSON.parse per line gives', () => {
    const body = [
      '{"time":1,"a":1}',
      '{"time":2,"a":"x\\u0041"}',
      '{"time":3,"a":[1,2],"b":{"c":null}}',
      '  ',
      '\r',
      '{"time":"x"}',
      '{"time": 4 , "a" : -0.0 }\r',
      '{"time":5,"a":1,"a":2}',
      '{"time":6,"__proto__":5,"a":1}',
    ].join('\n');
    const { records, counts } = parseDataBody(body, { time_field: 'time', time_format: 'epoch' }, ['a']);
    const docs = body
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.map((r) => r.fields)).toEqual(docs.filter((d) => typeof d.time === 'number'));
    expect(Object.is(records[3]?.fields.a, -0)).toBe(true);
    expect(Object.keys(records[5]?.fields ?? {})).toEqual(['time', '__proto__', 'a']);
    // Elasticsearch's count: every scalar, null or array once, objects by their contents, less the time field.
    const leaves = (d: Record<string, unknown>): number =>
      Object.values(d).reduce<number>((n, v) => n + (v !== null && typeof v === 'object' && !Array.isArray(v) ? leaves(v as Record<string, unknown>) : 1), 0);
    const fieldCount = docs.reduce((n, d) => n + Math.max(leaves(d) - 1, 0), 0);
    expect(fieldCount).toBe(8);
    expect(counts).toEqual({ input_bytes: Buffer.byteLength(body), input_record_count: 7, input_field_count: fieldCount, missing_field_count: 1, invalid_date_count: 1 });
  });

  it('reports a bad line after flat ones at its line and column, as before', () => {
    const dd = { time_field: 'time', time_format: 'epoch' };
    expect(() => parseDataBody('{"time":1,"a":1}\n{"time":2,"a":01}\n', dd, ['a'])).toThrow('[2:16] Failed to parse the data: Unexpected number');
    expect(() => parseDataBody('{"time":1,"a":1}\n{"time":2,"a":1,}\n', dd, ['a'])).toThrow('[2:17] Failed to parse the data: Expected double-quoted property name');
    expect(() => parseDataBody('{"time":1,"a":1}\n[1]\n', dd, ['a'])).toThrow('[2:1] Failed to parse the data: expected a JSON object');
    expect(() => parseDataBody('{"time":1,"a":"tab\there"}\n', dd, ['a'])).toThrow('[1:19] Failed to parse the data: Bad control character in string literal');
  });

  it('still reads several objects on a line and objects over several lines after flat lines', () => {
    const { records, counts } = parseDataBody('{"time":1}\n{"time":2} {"time":3}\n{"time":\n4}', { time_field: 'time', time_format: 'epoch' }, []);
    expect(records.map((r) => r.timeMs)).toEqual([1000, 2000, 3000, 4000]);
    expect(counts.input_field_count).toBe(0);
  });
});

describe('parseTime on date-time texts', () => {
  /** parseTime's general path for a date pattern, as it was before the digit-by-digit reading. */
  function reference(text: string): number | undefined {
    let t = text.trim();
    if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?$/.test(t)) t = `${t.replace(' ', 'T').replace(',', '.')}Z`;
    const ms = Date.parse(t);
    return Number.isFinite(ms) && ms < 1e15 ? ms : undefined;
  }

  it('reads ISO-8601 and zoneless date-times to the ms Date.parse gives, edge cases included', () => {
    const rand = rng(9);
    const texts = [
      '2024-01-01T00:00:00Z',
      '2024-01-01 00:00:00',
      '2014-04-10 00:04:00',
      '2024-01-01T00:00:00.123Z',
      '2024-01-01T00:00:00.123',
      '2024-02-29T23:59:59Z',
      '2023-02-29T00:00:00Z',
      '2024-02-30T00:00:00Z',
      '2024-04-31 00:00:00',
      '2024-13-01T00:00:00Z',
      '2024-00-10T00:00:00Z',
      '2024-01-00T00:00:00Z',
      '2024-01-01T24:00:00Z',
      '2024-01-01T23:60:00Z',
      '2024-01-01T23:59:60Z',
      '0999-01-01T00:00:00Z',
      '1969-12-31T23:59:59.999Z',
      '2024-01-01T00:00:00.5Z',
      '2024-01-01T00:00:00,123',
      '2024-01-01t00:00:00Z',
      '2024-01-01T00:00:00+01:00',
      ' 2024-01-01T00:00:00Z',
      '2024-1-01T00:00:00Z',
      '2024-01-01T00:00:0aZ',
      '2024-01-01T00:00:00.12aZ',
      '2024-01-01T00:00:00X',
      '2024/01/01T00:00:00Z',
    ];
    for (let i = 0; i < 5000; i++) {
      const iso = new Date(Date.UTC(1000, 0, 1) + rand() * (Date.UTC(9999, 11, 31) - Date.UTC(1000, 0, 1))).toISOString();
      texts.push(iso, iso.slice(0, 19), iso.slice(0, 19).replace('T', ' '), `${iso.slice(0, 19)}Z`, iso.slice(0, 23));
    }
    for (const t of texts) expect(parseTime(t, "yyyy-MM-dd'T'HH:mm:ssX"), t).toBe(reference(t));
  });
});
