import { describe, expect, it } from 'vitest';
import { validateIndexName } from '../../../../lib/domain/documents/index-name.ts';
import { coerce, leafFields, parseMappings, timeFieldOf, valuesAt, withDynamicFields } from '../../../../lib/domain/documents/mappings.ts';
import { prepareDocument, validateId } from '../../../../lib/domain/documents/document.ts';
import { parseBulk } from '../../../../lib/domain/documents/bulk.ts';

describe('index names', () => {
  it('checks in Elasticsearch order, with its reasons', () => {
    expect(() => validateIndexName('_x')).toThrow("Invalid index name [_x], must not start with '_', '-', or '+'");
    expect(() => validateIndexName('A*')).toThrow("must not contain the following characters [' ','\"','*',',','/','<','>','?','\\','|']");
    expect(() => validateIndexName('a:b')).toThrow("must not contain ':'");
    expect(() => validateIndexName('..')).toThrow("must not be '.' or '..'");
    expect(() => validateIndexName('é'.repeat(128))).toThrow('index name is too long, (256 > 255)');
    expect(() => validateIndexName('server-metrics')).not.toThrow();
  });
});

describe('mappings', () => {
  const m = parseMappings({ properties: { '@timestamp': { type: 'date' }, host: { type: 'keyword' }, a: { properties: { b: { type: 'long' } } }, t2: { type: 'date' } } });

  it('lists leaf fields as dotted paths and picks the first date field as time field', () => {
    expect(leafFields(m).map((f) => `${f.name}:${f.type}`)).toEqual(['@timestamp:date', 'host:keyword', 'a.b:long', 't2:date']);
    expect(timeFieldOf(m)?.name).toBe('@timestamp');
    expect(timeFieldOf(parseMappings({ properties: { x: { type: 'keyword' } } }))).toBeUndefined();
  });

  it('refuses unknown types with ES text and unsupported ones naming them', () => {
    expect(() => parseMappings({ properties: { p: { type: 'foo' } } })).toThrow('Failed to parse mapping: No handler for type [foo] declared on field [p]');
    expect(() => parseMappings({ properties: { p: { type: 'nested' } } })).toThrow('mlplane does not support the [nested] field type yet');
    expect(() => parseMappings({ properties: { p: { type: 'date', format: 'yyyy-MM-dd' } } })).toThrow('mlplane does not support the date format [yyyy-MM-dd] yet');
  });

  it('reads values at object paths and dotted keys alike', () => {
    expect(valuesAt({ a: { b: 1 }, 'a.b': 2, c: [{ d: 3 }, { d: 4 }] }, 'a.b')).toEqual([1, 2]);
    expect(valuesAt({ c: [{ d: 3 }, { d: 4 }] }, 'c.d')).toEqual([3, 4]);
  });

  it('coerces as Elasticsearch: numeric strings, truncated longs, boolean strings', () => {
    expect(coerce('12', { type: 'long', format: '' })).toEqual({ ok: true, value: 12 });
    expect(coerce(1.7, { type: 'long', format: '' })).toEqual({ ok: true, value: 1 });
    expect(coerce('x', { type: 'double', format: '' })).toEqual({ ok: false, error: 'For input string: "x"' });
    expect(coerce('true', { type: 'boolean', format: '' })).toEqual({ ok: true, value: true });
    expect(coerce(5, { type: 'keyword', format: '' })).toEqual({ ok: true, value: '5' });
  });

  it('maps new fields dynamically: long, float, boolean, date, text with keyword', () => {
    const next = withDynamicFields({ properties: {} }, { n: 1, f: 1.5, b: true, t: '2017-01-01T00:00:00Z', s: 'x', o: { p: 'y' }, y: '2017' });
    expect(next?.properties).toEqual({
      n: { type: 'long' },
      f: { type: 'float' },
      b: { type: 'boolean' },
      t: { type: 'date' },
      s: { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 256 } } },
      o: { properties: { p: { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 256 } } } } },
      y: { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 256 } } },
    });
    expect(withDynamicFields(next!, { n: 2 })).toBeUndefined();
    expect(() => withDynamicFields({ dynamic: 'strict', properties: {} }, { z: 1 })).toThrow('mapping set to strict, dynamic introduction of [z] within [_doc] is not allowed');
  });
});

describe('documents', () => {
  const m = parseMappings({ properties: { '@timestamp': { type: 'date' }, total: { type: 'long' } } });

  it('reads the time of the time field; a document without it has none', () => {
    expect(prepareDocument(m, '{"@timestamp":"2017-01-01T00:00:00Z","total":1}', '1', '@timestamp').timeMs).toBe(Date.UTC(2017, 0, 1));
    expect(prepareDocument(m, '{"total":1}', '1', '@timestamp').timeMs).toBeUndefined();
  });

  it('a wrong value is document_parsing_exception at the value position, caused by the type error', () => {
    expect(() => prepareDocument(m, '{\n  "total": "abc"}', 'x', '@timestamp')).toThrow(
      "[2:12] failed to parse field [total] of type [long] in document with id 'x'. Preview of field's value: 'abc'",
    );
    expect(() => prepareDocument(m, '{"total": ', 'x', undefined)).toThrow(/failed to parse$/);
    expect(() => prepareDocument(m, '[1]', 'x', undefined)).toThrow('[1:1] failed to parse');
  });

  it('ids are checked as IndexRequest.validate does', () => {
    expect(() => validateId('')).toThrow('Validation Failed: 1: if _id is specified it must not be empty;');
    expect(() => validateId('x'.repeat(513))).toThrow(/id \[x+\] is too long, must be no longer than 512 bytes but was: 513;/);
  });
});

describe('bulk bodies', () => {
  it('splits actions and sources, with the default index', () => {
    const ops = parseBulk('{"index":{"_id":"1"}}\n{"a":1}\n{"delete":{"_index":"x","_id":"2"}}\n{"create":{}}\nnot json\n', 'd');
    expect(ops.map((o) => [o.action, o.index, o.id, o.source])).toEqual([
      ['index', 'd', '1', '{"a":1}'],
      ['delete', 'x', '2', undefined],
      ['create', 'd', undefined, 'not json'],
    ]);
  });

  it('whole-request errors: no final newline, a non-object action, unknown action or parameter, no index', () => {
    expect(() => parseBulk('{"index":{}}\n{}', 'd')).toThrow('The bulk request must be terminated by a newline [\\n]');
    expect(() => parseBulk('[1]\n', 'd')).toThrow('Malformed action/metadata line [1], expected START_OBJECT or END_OBJECT but found [START_ARRAY]');
    expect(() => parseBulk('{"upsert":{}}\n{}\n', 'd')).toThrow('expected field [create], [delete], [index] or [update] but found [upsert]');
    expect(() => parseBulk('{"index":{"foo":1}}\n{}\n', 'd')).toThrow('Action/metadata line [1] contains an unknown parameter [foo]');
    expect(() => parseBulk('{"index":{}}\n{}\n', undefined)).toThrow('Validation Failed: 1: index is missing;');
  });
});
