import { describe, expect, it } from 'vitest';
import { StoredSizeLimitError } from '../../../lib/domain/errors.ts';
import { parsePutFilter, storedFilterPart } from '../../../lib/domain/filter.ts';
import {
  checkFilterSize,
  checkJobConfigSize,
  jsonBytes,
  largestPath,
  MAX_JOB_CONFIG_BYTES,
  refuseOversizedBody,
  storedJobPart,
  truncateAuditMessage,
} from '../../../lib/domain/limits.ts';
import { randomBytes } from 'node:crypto';
import { catchEs } from './es-error.ts';

const job = (extra: Record<string, unknown> = {}) => ({
  job_id: 'j',
  analysis_config: { bucket_span: '1h', detectors: [{ function: 'count', detector_index: 0 }] },
  data_description: { time_field: 'timestamp' },
  ...extra,
});

describe('storage limits of a job configuration', () => {
  it('a configuration that fits is stored', () => {
    expect(() => checkJobConfigSize(job({ description: 'x'.repeat(100_000) }))).not.toThrow();
  });

  it('a description over the limit is a 400 illegal_argument_exception naming the field, the size and the limit', () => {
    const err = catchEs(() => checkJobConfigSize(job({ description: 'x'.repeat(MAX_JOB_CONFIG_BYTES) }))).toBody();
    expect(err.status).toBe(400);
    expect(err.error.type).toBe('illegal_argument_exception');
    expect(err.error.reason).toMatch(/^\[description\] is too large: the job configuration would be \[\d+\] bytes, over the limit of \[307200\] bytes$/);
  });

  it('names the rule inside a detector when one custom rule is too large', () => {
    const rules = [{ scope: { host: { filter_id: 'f'.repeat(MAX_JOB_CONFIG_BYTES) } } }];
    const config = job({ analysis_config: { bucket_span: '1h', detectors: [{ function: 'count', custom_rules: rules, detector_index: 0 }] } });
    expect(() => checkJobConfigSize(config)).toThrow(/^\[analysis_config\.detectors\[0\]\.custom_rules\[0\]\.scope\.host\.filter_id\] is too large/);
  });

  it('names the map when many small custom settings are too large together', () => {
    const custom_settings = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, 'v'.repeat(20)]));
    expect(() => checkJobConfigSize(job({ custom_settings }))).toThrow(/^\[custom_settings\] is too large/);
  });

  it('counts UTF-8 bytes, not characters', () => {
    expect(() => checkJobConfigSize(job({ description: 'é'.repeat(MAX_JOB_CONFIG_BYTES / 2) }))).toThrow(StoredSizeLimitError);
  });
});

describe('the quick check of a large body', () => {
  it('refuses a 12 MB description before the located reader runs', () => {
    const source = JSON.stringify({ description: 'x'.repeat(12_000_000) });
    expect(() => refuseOversizedBody(source, MAX_JOB_CONFIG_BYTES, 'the job configuration', storedJobPart)).toThrow(
      '[description] is too large: the job configuration would be [12000018] bytes, over the limit of [307200] bytes',
    );
  });

  it('lets through a body that is large only in white space, invalid JSON, or small bodies', () => {
    const spaced = `{"description": "ok"${' '.repeat(MAX_JOB_CONFIG_BYTES * 2)}}`;
    expect(() => refuseOversizedBody(spaced, MAX_JOB_CONFIG_BYTES, 'the job configuration', storedJobPart)).not.toThrow();
    expect(() => refuseOversizedBody(`{"description": "${'x'.repeat(MAX_JOB_CONFIG_BYTES * 2)}`, MAX_JOB_CONFIG_BYTES, 'x', storedJobPart)).not.toThrow();
    expect(() => refuseOversizedBody('{"description": "x"}', MAX_JOB_CONFIG_BYTES, 'x', storedJobPart)).not.toThrow();
  });

  it('does not count job_id, which is not stored from the body', () => {
    const source = JSON.stringify({ job_id: 'x'.repeat(MAX_JOB_CONFIG_BYTES * 2), description: 'ok' });
    expect(() => refuseOversizedBody(source, MAX_JOB_CONFIG_BYTES, 'the job configuration', storedJobPart)).not.toThrow();
  });
});

describe('storage limits of a filter', () => {
  it("10,000 long host names fit, compressed, although their JSON is far over DynamoDB's item limit", () => {
    const items = Array.from({ length: 10_000 }, (_, i) => `host-${i}.eu-west-1.compute.internal.example.com`.padEnd(100, 'x'));
    const filter = parsePutFilter('hosts', JSON.stringify({ items }));
    expect(JSON.stringify(filter).length).toBeGreaterThan(400 * 1024);
    expect(() => checkFilterSize(filter)).not.toThrow();
  });

  it('a filter whose compressed form is over the limit names the items and the limit in compressed bytes', () => {
    // Random bytes do not compress: 3,000 items of 200 base64 characters stay over 400 KB compressed.
    const filter = { filter_id: 'f', items: Array.from({ length: 3_000 }, () => randomBytes(150).toString('base64')).sort() };
    expect(() => checkFilterSize(filter)).toThrow(/^\[items\] is too large: filter \[f\] would be \[\d+\] compressed bytes, over the limit of \[307200\] compressed bytes$/);
  });

  it("the quick check leaves more than 10,000 items to Elasticsearch's own error", () => {
    const items = Array.from({ length: 10_001 }, (_, i) => `${i}`);
    expect(storedFilterPart('f', { items }, 'put')).toBeUndefined();
    expect(storedFilterPart('f', { items: 'not a list' }, 'put')).toBeUndefined();
  });

  it('the quick check of an update counts the items it adds and not those it removes', () => {
    const part = storedFilterPart('f', { add_items: ['a', 'b', 'c'], remove_items: ['c'] }, 'update');
    expect(part?.value).toEqual({ description: undefined, items: ['a', 'b'] });
  });
});

describe('jsonBytes', () => {
  it.each([
    ['escapes and non-ASCII', 'a"b\\c\n\u0001é😀'],
    ['lone surrogates', '\ud800x\udc00'],
    ['nested values with undefined members', { a: [1, null, undefined, true, 'x'], b: undefined, c: { d: -1.5e-7, e: '' } }],
    ['empty containers', { a: [], b: {}, c: [[{}]] }],
  ])('counts %s as JSON.stringify writes them', (_, value) => {
    expect(jsonBytes(value)).toBe(Buffer.byteLength(JSON.stringify(value)));
  });
});

describe('largestPath', () => {
  it('names the largest top-level member and descends only into members over the limit', () => {
    expect(largestPath({ a: 'x'.repeat(10), b: { c: 'y'.repeat(50), d: 'z' } }, 20, 'root')).toBe('b.c');
    expect(largestPath({ a: 'x'.repeat(10), b: { c: 'y'.repeat(5), d: 'z'.repeat(5) } }, 10, 'root')).toBe('b');
    expect(largestPath('scalar', 1, 'root')).toBe('root');
  });
});

describe('truncateAuditMessage (AbstractAuditMessage.truncateMessage)', () => {
  it('keeps a message of up to 8,191 characters', () => {
    expect(truncateAuditMessage('x'.repeat(8191))).toBe('x'.repeat(8191));
  });

  it('cuts a longer one after its last space within the first 8,176 characters and marks it', () => {
    const items = Array.from({ length: 2_000 }, (_, i) => `host-${i}`);
    const out = truncateAuditMessage(`Filter [f] has been modified; added items: [${items.join(', ')}]`);
    expect(out.length).toBeLessThanOrEqual(8191);
    expect(out).toMatch(/, \.\.\. \(truncated\)$/);
    expect(out.startsWith('Filter [f] has been modified; added items: [host-0, host-1')).toBe(true);
  });

  it('cuts a message without spaces at 8,176 characters', () => {
    expect(truncateAuditMessage('y'.repeat(9000))).toBe(`${'y'.repeat(8176)}... (truncated)`);
  });
});
