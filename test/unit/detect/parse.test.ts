import { describe, expect, it } from 'vitest';
import { EsError } from '../../../lib/domain/errors.ts';
import { DataParseError, parseDataBody, parseTime } from '../../../lib/detect/index.ts';

const epoch = { time_field: 'time', time_format: 'epoch' };
const used = ['airline', 'responsetime'];
// The two documents of Elasticsearch's post_data.yml test.
const doc1 = { airline: 'AAL', responsetime: '132.2046', sourcetype: 'post-data-job', time: '1403481600' };
const doc2 = { airline: 'JZA', responsetime: '990.4628', sourcetype: 'post-data-job', time: '1403481700' };

describe('parseDataBody', () => {
  it('reads NDJSON and counts fields like Elasticsearch post_data', () => {
    const body = `${JSON.stringify(doc1)}\n${JSON.stringify(doc2)}\n`;
    const { records, counts } = parseDataBody(body, epoch, used);
    expect(records.map((r) => r.timeMs)).toEqual([1403481600000, 1403481700000]);
    expect(records[0]?.fields.airline).toBe('AAL');
    expect(counts).toEqual({
      input_bytes: Buffer.byteLength(body),
      input_record_count: 2,
      input_field_count: 6,
      missing_field_count: 0,
      invalid_date_count: 0,
    });
  });

  it('reads a JSON array of objects', () => {
    const { records, counts } = parseDataBody(JSON.stringify([doc1, doc2]), epoch, used);
    expect(records).toHaveLength(2);
    expect(records[1]?.fields.airline).toBe('JZA');
    expect(counts.input_record_count).toBe(2);
  });

  it('reads whitespace-separated objects, several on a line or pretty-printed', () => {
    const body = `${JSON.stringify(doc1)} ${JSON.stringify(doc2)}\n${JSON.stringify({ ...doc1, airline: 'A{"}' }, null, 2)}`;
    const { records } = parseDataBody(body, epoch, used);
    expect(records.map((r) => r.fields.airline)).toEqual(['AAL', 'JZA', 'A{"}']);
  });

  it('counts input_bytes in UTF-8 bytes, not characters', () => {
    const body = JSON.stringify({ time: 1, airline: 'Ünïcödé' });
    expect(parseDataBody(body, epoch, used).counts.input_bytes).toBe(Buffer.from(body, 'utf8').length);
    expect(Buffer.from(body, 'utf8').length).toBeGreaterThan(body.length);
  });

  it('counts missing analysis fields; input fields are the fields each document holds less the time field', () => {
    const body = `{"time":1,"airline":"A"}\n{"time":2,"responsetime":null}\n{"time":3,"airline":"B","responsetime":1}`;
    const { counts } = parseDataBody(body, epoch, used);
    expect(counts.missing_field_count).toBe(3);
    // A null value is a field to Elasticsearch's reader: 1 + 1 + 2.
    expect(counts.input_field_count).toBe(1 + 1 + 2);
  });

  it('counts input fields as Elasticsearch does: every field, analysed or not, objects by their leaves, arrays once, less one for time', () => {
    // jobs_get_stats.yml: three documents of airline, responsetime and time are 6 input fields, not 9.
    const three = ['AAL', 'JZA', 'JZA'].map((airline, i) => JSON.stringify({ airline, responsetime: '1.5', time: String(1403481600 + i * 3600) })).join('\n');
    expect(parseDataBody(three, epoch, used).counts.input_field_count).toBe(6);
    const rich = JSON.stringify({ time: 1, airline: 'A', extra: { a: 1, b: [1, 2], c: {} }, nothing: null });
    expect(parseDataBody(rich, epoch, used).counts.input_field_count).toBe(5 - 1);
    // Without a time field the count still loses one, and never goes below zero.
    expect(parseDataBody('{"airline":"A","responsetime":2}\n{}', epoch, used).counts.input_field_count).toBe(1);
  });

  it('drops records with a missing or unreadable time and counts them as invalid dates', () => {
    const body = `{"time":"soon","airline":"A"}\n{"airline":"B"}\n{"time":"12","airline":"C"}`;
    const { records, counts } = parseDataBody(body, epoch, used);
    expect(records.map((r) => r.fields.airline)).toEqual(['C']);
    expect(counts.invalid_date_count).toBe(2);
    expect(counts.input_record_count).toBe(3);
  });

  it('reads a dotted field name through nested objects', () => {
    const { records, counts } = parseDataBody('{"event":{"time":5},"host":{"name":"h1"}}', { time_field: 'event.time', time_format: 'epoch_ms' }, ['host.name']);
    expect(records[0]?.timeMs).toBe(5);
    expect(counts.missing_field_count).toBe(0);
  });

  it('returns no records for an empty body', () => {
    expect(parseDataBody('  \n ', epoch, used).records).toEqual([]);
  });

  it('throws a 400 x_content_parse_exception with the position for a body that is not JSON', () => {
    const body = '{"time":1}\n{"time":2,,}';
    let err: unknown;
    try {
      parseDataBody(body, epoch, used);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DataParseError);
    expect(err).toBeInstanceOf(EsError);
    const e = err as DataParseError;
    expect(e.status).toBe(400);
    expect(e.type).toBe('x_content_parse_exception');
    expect(e.line).toBe(2);
    expect(e.message).toMatch(/^\[2:\d+\] /);
  });

  it('throws for a bad JSON array and for documents that are not objects', () => {
    expect(() => parseDataBody('[{"time":1},', epoch, used)).toThrow(DataParseError);
    expect(() => parseDataBody('[1,2]', epoch, used)).toThrow(DataParseError);
    expect(() => parseDataBody('{"time":1}\n42', epoch, used)).toThrow(DataParseError);
    expect(() => parseDataBody('{"time":1} garbage {"time":2}', epoch, used)).toThrow(DataParseError);
  });

  // Its speed is a benchmark figure (bench/parse.ts), not an assertion here.
  it('parses a large NDJSON body, every document in order', () => {
    const lines: string[] = [];
    for (let i = 0; i < 50_000; i++) lines.push(JSON.stringify({ time: 1_700_000_000 + i, airline: `a${i % 20}`, responsetime: i }));
    const { records } = parseDataBody(lines.join('\n'), epoch, used);
    expect(records).toHaveLength(50_000);
    expect(records[0]).toEqual(parseDataBody(lines[0]!, epoch, used).records[0]);
    expect(records[49_999]).toEqual(parseDataBody(lines[49_999]!, epoch, used).records[0]);
  });
});

describe('parseTime', () => {
  it('reads epoch seconds as numbers or numeric strings, fractions to the millisecond', () => {
    expect(parseTime(1403481600, 'epoch')).toBe(1403481600000);
    expect(parseTime('1403481600.123', 'epoch')).toBe(1403481600123);
    expect(parseTime(1.001, 'epoch')).toBe(1001);
    expect(parseTime('x', 'epoch')).toBeUndefined();
    expect(parseTime('', 'epoch')).toBeUndefined();
  });

  it('reads epoch_ms as numbers or numeric strings', () => {
    expect(parseTime(1403481600000, 'epoch_ms')).toBe(1403481600000);
    expect(parseTime('1403481600000', 'epoch_ms')).toBe(1403481600000);
    expect(parseTime(true, 'epoch_ms')).toBeUndefined();
  });

  it('reads ISO-8601 strings for a date pattern, a zone-less date-time as UTC', () => {
    const pattern = "yyyy-MM-dd'T'HH:mm:ssXX";
    expect(parseTime('2014-06-23T00:00:00Z', pattern)).toBe(1403481600000);
    expect(parseTime('2014-06-23T02:00:00+02:00', pattern)).toBe(1403481600000);
    expect(parseTime('2014-06-23 00:00:00', 'yyyy-MM-dd HH:mm:ss')).toBe(1403481600000);
    expect(parseTime('2014-06-23T00:00:00.250', pattern)).toBe(1403481600250);
    expect(parseTime('not a date', pattern)).toBeUndefined();
    expect(parseTime(1403481600, pattern)).toBeUndefined();
  });
});
