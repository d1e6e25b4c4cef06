import { describe, expect, it } from 'vitest';
import { checkTextBody, decodeBodyUtf8, decodeComponent, decodeQueryString, findUtf8Fault } from '../../../lib/http/request-text.ts';
import { EsError } from '../../../lib/domain/errors.ts';

const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

function thrown(f: () => unknown): EsError {
  try {
    f();
  } catch (err) {
    if (err instanceof EsError) return err;
    throw err;
  }
  throw new Error('expected a throw');
}

describe('strict UTF-8 bodies', () => {
  it('decodes well-formed UTF-8', () => {
    expect(decodeBodyUtf8(bytes('{"d":"é€😀"}'))).toBe('{"d":"é€😀"}');
  });

  it("refuses ff fe c3 28 with Jackson's message and a byte position, never U+FFFD", () => {
    const err = thrown(() => decodeBodyUtf8(bytes('{"description":"', [0xff, 0xfe, 0xc3, 0x28], '"}')));
    expect(err.status).toBe(400);
    expect(err.type).toBe('x_content_parse_exception');
    expect(err.message).toMatch(/^\[1:18\] Invalid UTF-8 start byte 0xff\n at \[Source: .*; line: 1, column: 18\]$/);
  });

  it('names a bad middle byte, and counts lines', () => {
    const err = thrown(() => decodeBodyUtf8(bytes('{\n"a":"', [0xc3, 0x28], '"}')));
    expect(err.message).toMatch(/^\[2:8\] Invalid UTF-8 middle byte 0x28/);
  });

  it('refuses overlong forms, surrogates and truncated sequences', () => {
    expect(findUtf8Fault(Uint8Array.from([0xc0, 0xaf]))?.message).toBe('Invalid UTF-8 start byte 0xc0');
    expect(findUtf8Fault(Uint8Array.from([0xe0, 0x80, 0xaf]))?.message).toBe('Invalid UTF-8 middle byte 0x80');
    expect(findUtf8Fault(Uint8Array.from([0xed, 0xa0, 0x80]))?.message).toBe('Invalid UTF-8 middle byte 0xa0');
    expect(findUtf8Fault(Uint8Array.from([0x61, 0xe2, 0x82]))).toBeDefined();
    expect(() => decodeBodyUtf8(Uint8Array.from([0x61, 0xe2, 0x82]))).toThrow(EsError);
    expect(findUtf8Fault(bytes('NUL \u0000 is valid UTF-8'))).toBeUndefined();
  });

  it('refuses a text body with a lone surrogate', () => {
    expect(checkTextBody('{"a":"ok 😀"}')).toBe('{"a":"ok 😀"}');
    expect(thrown(() => checkTextBody('{"a":"\uD800"}')).type).toBe('x_content_parse_exception');
  });
});

describe('RestUtils decoding', () => {
  it('decodes escapes, keeps + and turns %% into %', () => {
    expect(decodeComponent('a%20b+c%%d')).toBe('a b+c%d');
    expect(decodeComponent('%ff')).toBe('\uFFFD');
  });

  it("refuses malformed escapes with Elasticsearch's messages", () => {
    expect(() => decodeComponent('a%')).toThrow('unterminated escape sequence at end of string: a%');
    expect(() => decodeComponent('a%4')).toThrow('partial escape sequence at end of string: a%4');
    expect(() => decodeComponent('a%zz')).toThrow("invalid escape sequence `%zz' at index 1 of: a%zz");
  });

  it('splits query strings on & and ;, gives bare keys "" and joins repeats', () => {
    expect(decodeQueryString('a=1;b&c=x=y&a=2#frag')).toEqual({ a: '1,2', b: '', c: 'x=y' });
    expect(decodeQueryString('=x')).toEqual({ x: '' });
  });

  it('wraps a malformed query escape in bad_parameter_exception', () => {
    const err = thrown(() => decodeQueryString('timeout=%zz'));
    expect(err.toBody()).toEqual({
      error: {
        root_cause: [{ type: 'bad_parameter_exception', reason: "java.lang.IllegalArgumentException: invalid escape sequence `%zz' at index 0 of: %zz" }],
        type: 'bad_parameter_exception',
        reason: "java.lang.IllegalArgumentException: invalid escape sequence `%zz' at index 0 of: %zz",
        caused_by: { type: 'illegal_argument_exception', reason: "invalid escape sequence `%zz' at index 0 of: %zz" },
      },
      status: 400,
    });
  });
});
