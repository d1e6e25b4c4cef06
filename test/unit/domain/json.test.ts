import { describe, expect, it } from 'vitest';
import { javaHashMapOrder } from '../../../lib/domain/json/java-hash-order.ts';
import { unknownFieldMessage } from '../../../lib/domain/json/levenshtein.ts';
import { fields, ValueType, XObjectParser } from '../../../lib/domain/json/object-parser.ts';
import { locate, parseJsonBody } from '../../../lib/domain/json/plain-values.ts';
import { readJson } from '../../../lib/domain/json/tokenizer.ts';
import { XParser } from '../../../lib/domain/json/xcontent-parser.ts';
import { IllegalArgumentError } from '../../../lib/domain/errors.ts';
import { catchEs, expectEsError } from './es-error.ts';

const src = (line: number, col: number): string => `\n at [Source: REDACTED (\`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION\` disabled); line: ${line}, column: ${col}]`;

describe('parseJsonBody', () => {
  it('returns objects with their key order', () => {
    expect(Object.keys(parseJsonBody('{"b":1,"a":[true,null,"x",1.5]}') as object)).toEqual(['b', 'a']);
    expect(parseJsonBody('{"b":1,"a":[true,null,"x",1.5]}')).toEqual({ b: 1, a: [true, null, 'x', 1.5] });
  });

  it('requires a body', () => {
    expectEsError(() => parseJsonBody(''), { type: 'parse_exception', status: 400, reason: 'request body is required' });
  });

  it('reports a trailing comma in an object like Jackson, located after the offending character', () => {
    expectEsError(() => parseJsonBody('{"a":1,}'), {
      type: 'x_content_parse_exception',
      status: 400,
      reason: `[1:9] Unexpected character ('}' (code 125)): was expecting double-quote to start field name${src(1, 9)}`,
    });
  });

  it('counts lines and UTF-8 byte columns', () => {
    expectEsError(() => parseJsonBody('{\n  "é": x}'), {
      type: 'x_content_parse_exception',
      reason: `[2:11] Unrecognized token 'x': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')${src(2, 11)}`,
    });
  });

  it.each([
    ['{"a":}', `[1:7] Unexpected character ('}' (code 125)): expected a value${src(1, 7)}`],
    ['{"a" 1}', `[1:7] Unexpected character ('1' (code 49)): was expecting a colon to separate field name and value${src(1, 7)}`],
    ['{"a":1 "b":2}', `[1:9] Unexpected character ('"' (code 34)): was expecting comma to separate Object entries${src(1, 9)}`],
    ['{"a":01}', `[1:7] Invalid numeric value: Leading zeroes not allowed${src(1, 7)}`],
    ['{"a":"\\q"}', `[1:9] Unrecognized character escape 'q' (code 113)${src(1, 9)}`],
    ['{"a":1,"a":2}', `[1:11] Duplicate field 'a'${src(1, 11)}`],
    ['{ query: 1}', `[1:4] Unexpected character ('q' (code 113)): was expecting double-quote to start field name${src(1, 4)}`],
  ])('reports %j as %j', (body, reason) => {
    expectEsError(() => parseJsonBody(body), { type: 'x_content_parse_exception', reason });
  });

  it('reports an unterminated object with the start marker', () => {
    expectEsError(() => parseJsonBody('{"a":1'), {
      type: 'x_content_parse_exception',
      reason: `[1:7] Unexpected end-of-input: expected close marker for Object (start marker at [Source: REDACTED (\`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION\` disabled); line: 1, column: 1])${src(1, 7)}`,
    });
  });

  it('reports an unterminated array as x_content_e_o_f_exception', () => {
    expectEsError(() => parseJsonBody('{"a":[1,2'), { type: 'x_content_e_o_f_exception', status: 400, reason: '[1:10] Unexpected end of file' });
  });

  it('is its own root cause (the Jackson error is not an Elasticsearch exception)', () => {
    const body = catchEs(() => parseJsonBody('{"a":1,}')).toBody();
    expect(body.error.root_cause[0]?.type).toBe('x_content_parse_exception');
    expect(body.status).toBe(400);
  });
});

describe('locate', () => {
  it('finds the key token of a nested path', () => {
    expect(locate('{\n  "a": {"b": 1}}', ['a', 'b'])).toEqual({ line: 2, col: 9 });
  });

  it('finds an array element', () => {
    expect(locate('{"a":[10, 20]}', ['a', 1])).toEqual({ line: 1, col: 11 });
  });

  it('returns undefined for a missing path', () => {
    expect(locate('{"a":1}', ['b'])).toBeUndefined();
  });
});

describe('javaHashMapOrder', () => {
  it('orders keys like java.util.HashMap', () => {
    expect(javaHashMapOrder(['type', 'pattern'])).toEqual(['pattern', 'type']);
    expect(javaHashMapOrder(['type', 'max_token_count'], 2)).toEqual(['type', 'max_token_count']);
    expect(javaHashMapOrder(['type', 'max_token_count'])).toEqual(['max_token_count', 'type']);
  });
});

describe('unknownFieldMessage', () => {
  it('suggests close candidates like SuggestingErrorOnUnknown', () => {
    expect(unknownFieldMessage('job_details', 'descriptio', ['description', 'job_id', 'data_description'])).toBe(
      '[job_details] unknown field [descriptio] did you mean any of [description, data_description]?',
    );
    expect(unknownFieldMessage('job_details', 'job_i', ['description', 'job_id'])).toBe('[job_details] unknown field [job_i] did you mean [job_id]?');
    expect(unknownFieldMessage('job_details', 'x', ['description'])).toBe('[job_details] unknown field [x]');
  });
});

describe('XObjectParser', () => {
  interface T {
    a?: string;
    n?: number;
  }
  const parser = new XObjectParser<T>('thing', { a: fields.string((t, v) => (t.a = v)), n: fields.long((t, v) => (t.n = v)) }, { create: () => ({}) });
  const parse = (text: string): T => {
    const root = readJson(text).root;
    if (!root) throw new Error('no root');
    return parser.parse(root, new XParser());
  };

  it('reads declared fields with coercion', () => {
    expect(parse('{"a":"x","n":"12"}')).toEqual({ a: 'x', n: 12 });
    expect(parse('{"n":12.9}')).toEqual({ n: 12 });
  });

  it('refuses unknown fields at the key location', () => {
    expectEsError(() => parse('{"a":"x",\n "zz":1}'), { type: 'x_content_parse_exception', reason: '[2:2] [thing] unknown field [zz]' });
  });

  it('refuses an unsupported token type without wrapping', () => {
    expectEsError(() => parse('{"a":5}'), {
      type: 'x_content_parse_exception',
      reason: "[1:6] [thing] a doesn't support values of type: VALUE_NUMBER",
    });
  });

  it('wraps conversion errors in failed to parse field', () => {
    const e = expectEsError(() => parse('{"n":"abc"}'), { type: 'x_content_parse_exception', reason: '[1:6] [thing] failed to parse field [n]' });
    expect(e.toBody().error.caused_by).toEqual({ type: 'illegal_argument_exception', reason: 'For input string: "abc"' });
    expect(e.toBody().error.root_cause[0]?.reason).toBe('[1:6] [thing] failed to parse field [n]');
  });

  it('meets a syntax error only after the fields before it', () => {
    expectEsError(() => parse('{"zz":1,"a":}'), { type: 'x_content_parse_exception', reason: '[1:2] [thing] unknown field [zz]' });
  });

  it('reports missing constructor arguments and replays queued fields when the last one arrives', () => {
    const constructing = new XObjectParser<{ id: string; t?: string }>(
      'ctor',
      {
        id: { types: ValueType.STRING, parse: (n, p) => p.text(n), arg: 'required' },
        t: fields.string((x, v) => {
          if (v === 'bad') throw new IllegalArgumentError('bad t');
          x.t = v;
        }),
      },
      { construct: (args) => ({ id: args[0] as string }) },
    );
    const root = (text: string) => {
      const r = readJson(text).root;
      if (!r) throw new Error('no root');
      return r;
    };
    expectEsError(() => constructing.parse(root('{"t":"x"}'), new XParser()), { type: 'illegal_argument_exception', reason: 'Required [id]' });
    expect(constructing.parse(root('{"t":"x","id":"i"}'), new XParser())).toEqual({ id: 'i', t: 'x' });
    const e = expectEsError(() => constructing.parse(root('{"t":"bad","id":"i"}'), new XParser()), {
      type: 'x_content_parse_exception',
      reason: '[1:17] [ctor] failed to parse field [id]',
    });
    expect(e.toBody().error.caused_by).toEqual({
      type: 'x_content_parse_exception',
      reason: '[1:6] failed to build [ctor] after last required field arrived',
      caused_by: {
        type: 'x_content_parse_exception',
        reason: '[1:6] [ctor] failed to parse field [t]',
        caused_by: { type: 'illegal_argument_exception', reason: 'bad t' },
      },
    });
    expect(e.toBody().error.root_cause[0]?.reason).toBe('[1:6] [ctor] failed to parse field [t]');
  });
});
