import { describe, expect, it } from 'vitest';
import { formatJavaNumber, humanBytes, humanMiB, parseByteSize, parseModelMemoryLimit, parseTimeValue } from '../../../lib/domain/units.ts';
import { expectEsError } from './es-error.ts';

describe('parseTimeValue (spec E.1)', () => {
  it.each([
    ['3600s', 3_600_000, '3600s'],
    ['2h', 7_200_000, '2h'],
    ['90m', 5_400_000, '90m'],
    ['1H', 3_600_000, '1h'],
    ['1D', 86_400_000, '1d'],
    ['1S', 1000, '1s'],
    ['1MS', 1, '1ms'],
    ['500ms', 500, '500ms'],
    ['5000micros', 5, '5000micros'],
    ['7000000nanos', 7, '7000000nanos'],
    [' 15m', 900_000, '15m'],
    ['14d', 1_209_600_000, '14d'],
    ['0', 0, '0ms'],
    ['000', 0, '0ms'],
    ['-1', -1, '-1'],
    ['-01', -1, '-1'],
    ['-1s', -1, '-1'],
  ])('parses %j to %d ms and echoes %j', (input, ms, rep) => {
    const tv = parseTimeValue(input, 'timeout');
    expect(tv.ms).toBe(ms);
    expect(tv.rep).toBe(rep);
  });

  it.each([
    ['90m', '1.5h'],
    ['3600s', '1h'],
    ['29m', '29m'],
    ['14d', '14d'],
    ['0', '0s'],
    ['1500ms', '1.5s'],
    ['119s', '1.9m'],
    ['-1', '-1'],
    ['30m', '30m'],
  ])('renders %j in message form as %j', (input, human) => {
    expect(parseTimeValue(input, 'x').human()).toBe(human);
  });

  it('rejects months written as 1M because only the m check is case-sensitive', () => {
    expectEsError(() => parseTimeValue('1M', 'bucket_span'), {
      type: 'illegal_argument_exception',
      status: 400,
      reason: 'failed to parse setting [bucket_span] with value [1M] as a time value: unit is missing or unrecognized',
    });
  });

  it.each(['8w', '1y', '100', 'abc', '5m '])('rejects %j as a missing or unrecognized unit', (v) => {
    expectEsError(() => parseTimeValue(v, 'model_prune_window'), {
      type: 'illegal_argument_exception',
      reason: `failed to parse setting [model_prune_window] with value [${v}] as a time value: unit is missing or unrecognized`,
    });
  });

  it('rejects fractional values', () => {
    expectEsError(() => parseTimeValue('1.5h', 'timeout'), {
      type: 'illegal_argument_exception',
      reason: 'failed to parse [1.5h], fractional time values are not supported',
    });
  });

  it('rejects non-numeric values with a number-free message', () => {
    expectEsError(() => parseTimeValue('xyzs', 'timeout'), { type: 'illegal_argument_exception', reason: 'failed to parse [xyzs]' });
  });

  it('rejects negative durations other than -1', () => {
    expectEsError(() => parseTimeValue('-2s', 'timeout'), {
      type: 'illegal_argument_exception',
      reason: 'failed to parse setting [timeout] with value [-2s] as a time value: negative durations are not supported',
    });
  });

  it('compares durations across units', () => {
    expect(parseTimeValue('60m', 'x').equals(parseTimeValue('1h', 'x'))).toBe(true);
    expect(parseTimeValue('61m', 'x').equals(parseTimeValue('1h', 'x'))).toBe(false);
  });
});

describe('parseByteSize (spec E.2)', () => {
  it.each([
    ['0', 0],
    ['0b', 0],
    ['0B', 0],
    ['1b', 1],
    ['1B', 1],
    ['-1', -1],
    ['-1b', -1],
    ['10b', 10],
    ['1k', 1024],
    ['1kb', 1024],
    ['2m', 2 * 1024 ** 2],
    ['2MB', 2 * 1024 ** 2],
    ['8g', 8 * 1024 ** 3],
    ['1t', 1024 ** 4],
    ['1p', 1024 ** 5],
    [' 3 gb ', 3 * 1024 ** 3],
  ])('parses %j to %d bytes', (v, bytes) => {
    expect(parseByteSize(v, 'model_memory_limit')).toEqual({ bytes });
  });

  it('accepts a fractional number and returns the deprecation warning instead of throwing', () => {
    expect(parseByteSize('1.5gb', 'model_memory_limit')).toEqual({
      bytes: 1.5 * 1024 ** 3,
      warning: 'Fractional bytes values are deprecated. Use non-fractional bytes values instead: [1.5gb] found for setting [model_memory_limit]',
    });
  });

  it('refuses a number without unit', () => {
    expectEsError(() => parseByteSize('1024', 'model_memory_limit'), {
      type: 'parse_exception',
      status: 400,
      reason: 'failed to parse setting [model_memory_limit] with value [1024] as a size in bytes: unit is missing or unrecognized',
    });
  });

  it('refuses a non-numeric value with a number_format_exception cause', () => {
    const e = expectEsError(() => parseByteSize('abcmb', 'model_memory_limit'), {
      type: 'parse_exception',
      reason: 'failed to parse setting [model_memory_limit] with value [abcmb]',
    });
    expect(e.toBody().error.caused_by).toEqual({ type: 'number_format_exception', reason: 'For input string: "abc"' });
    expect(e.toBody().error.root_cause[0]?.type).toBe('parse_exception');
  });

  it('refuses sizes below -1 bytes', () => {
    expectEsError(() => parseByteSize('-5mb', 'x'), {
      type: 'parse_exception',
      reason: 'failed to parse setting [x] with value [-5mb] as a size in bytes',
    });
  });
});

describe('parseModelMemoryLimit (spec E.2)', () => {
  it.each([
    [2048, 2048],
    ['3000g', 3_072_000],
    ['8g', 8192],
    ['10g', 10240],
    ['1500kb', 1],
    ['1024mb', 1024],
  ])('turns %j into %d MiB', (v, mib) => {
    expect(parseModelMemoryLimit(v)).toBe(mib);
  });

  it('refuses less than one MiB after flooring', () => {
    expectEsError(() => parseModelMemoryLimit('500kb'), {
      type: 'status_exception',
      status: 400,
      reason: 'model_memory_limit must be at least 1 MiB. Value = 0',
    });
  });

  it('groups the refused value like MessageFormat', () => {
    expectEsError(() => parseModelMemoryLimit(-2048), {
      type: 'status_exception',
      reason: 'model_memory_limit must be at least 1 MiB. Value = -2,048',
    });
  });

  it.each([
    [true, 'VALUE_BOOLEAN'],
    [null, 'VALUE_NULL'],
    [{}, 'START_OBJECT'],
  ])('refuses %j as an unsupported token', (v, token) => {
    expectEsError(() => parseModelMemoryLimit(v), { type: 'illegal_argument_exception', reason: `Unsupported token [${token}]` });
  });

  it('passes the fractional warning to the caller', () => {
    const warnings: string[] = [];
    expect(parseModelMemoryLimit('1.5g', warnings)).toBe(1536);
    expect(warnings).toEqual(['Fractional bytes values are deprecated. Use non-fractional bytes values instead: [1.5g] found for setting [model_memory_limit]']);
  });
});

describe('humanBytes and formatJavaNumber (spec E.2, E.3)', () => {
  it.each([
    [10240, '10gb'],
    [1536, '1.5gb'],
    [512, '512mb'],
    [1024, '1gb'],
    [9216, '9gb'],
    [20, '20mb'],
    [1535, '1.4gb'],
    [3_072_000, '2.9tb'],
  ])('renders %d MiB as %j (truncated one decimal)', (mib, text) => {
    expect(humanMiB(mib)).toBe(text);
  });

  it('renders small sizes in bytes and kilobytes', () => {
    expect(humanBytes(0)).toBe('0b');
    expect(humanBytes(1000)).toBe('1000b');
    expect(humanBytes(1536)).toBe('1.5kb');
  });

  it.each([
    [3600, '3,600'],
    [1800, '1,800'],
    [10000, '10,000'],
    [999, '999'],
    [-1, '-1'],
    [1234567, '1,234,567'],
    [1.5, '1.5'],
  ])('formats %d as MessageFormat does: %j', (n, text) => {
    expect(formatJavaNumber(n)).toBe(text);
  });
});
