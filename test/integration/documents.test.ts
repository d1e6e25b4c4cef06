/**
 * The document store through the official client: indices, documents, `_bulk` with per-item
 * errors, `_search`/`_count` with each query and aggregation of the subset, the errors for
 * what is outside it, and unknown indices.
 */
import type { estypes } from '@elastic/elasticsearch';
import { describe, expect, it } from 'vitest';
import { esClient, esError, uniqueId } from './client.ts';
import { direct } from './direct.ts';

const es = esClient();
const raw = (method: string, path: string, body?: string, querystring?: Record<string, string>, contentType = 'application/json') =>
  es.transport.request({ method, path, body, querystring }, { headers: { 'content-type': contentType }, meta: true });
const name = (p: string): string => uniqueId(p).toLowerCase();
const T0 = Date.UTC(2017, 0, 1);

async function metricsIndex(): Promise<string> {
  const index = name('server-metrics');
  await es.indices.create({
    index,
    mappings: { properties: { '@timestamp': { type: 'date' }, host: { type: 'keyword' }, total: { type: 'long' }, ok: { type: 'boolean' }, msg: { type: 'text' } } },
  });
  const operations: unknown[] = [];
  // 3 days × 24 hours × 2 hosts; host-b has total = 2 × hour, host-a total = hour.
  for (let h = 0; h < 72; h++) {
    for (const host of ['host-a', 'host-b']) {
      operations.push({ index: { _index: index, _id: `${host}-${h}` } });
      operations.push({ '@timestamp': new Date(T0 + h * 3_600_000).toISOString(), host, total: host === 'host-a' ? h : 2 * h, ok: h % 2 === 0, msg: `m${h % 3}` });
    }
  }
  const res = await es.bulk({ operations });
  expect(res.errors).toBe(false);
  return index;
}

describe('indices', () => {
  it('create, get, exists and delete answer as Elasticsearch', async () => {
    const index = name('idx');
    expect(
      await es.indices.create({ index, mappings: { properties: { t: { type: 'date', format: 'epoch_second' }, 'a.b': { type: 'keyword' } } }, settings: { number_of_shards: 1 } }),
    ).toEqual({
      acknowledged: true,
      shards_acknowledged: true,
      index,
    });
    const got = await es.indices.get({ index });
    expect(got[index]?.mappings).toEqual({ properties: { t: { type: 'date', format: 'epoch_second' }, 'a.b': { type: 'keyword' } } });
    expect(got[index]?.settings?.index?.number_of_shards).toBe('1');
    expect(await es.indices.exists({ index })).toBe(true);
    const again = await esError(es.indices.create({ index }));
    expect(again.status).toBe(400);
    expect(again.body.error).toMatchObject({ type: 'resource_already_exists_exception', index, index_uuid: got[index]?.settings?.index?.uuid });
    expect(again.reason).toBe(`index [${index}/${got[index]?.settings?.index?.uuid}] already exists`);
    expect(await es.indices.delete({ index })).toEqual({ acknowledged: true });
    expect(await es.indices.exists({ index })).toBe(false);
  });

  it('DELETE hides the documents at once and removes their items; a new index of the same name starts empty', async () => {
    const index = name('deleted');
    const operations = Array.from({ length: 300 }, (_, i) => [{ index: { _id: String(i) } }, { '@timestamp': T0 + i * 3_600_000, v: i }]).flat();
    expect((await es.bulk({ index, operations })).errors).toBe(false);
    const { uuid } = (await es.indices.get({ index }))[index]!.settings!.index as { uuid: string };
    await es.indices.delete({ index });
    await es.index({ index, id: 'new', document: { '@timestamp': T0, v: -1 } });
    expect((await es.search({ index, size: 10 })).hits.hits.map((h) => h._id)).toEqual(['new']);
    expect((await esError(es.get({ index, id: '5' }))).body.found).toBe(false);
    const { queryAll, keys } = await direct(async () => ({ ...(await import('../../lib/store/batch.ts')), ...(await import('../../lib/store/keys.ts')) }));
    const scope = `${index}/${uuid}`;
    for (const pk of [keys.docIdPartition(scope), keys.docDaysPartition(scope), keys.docPartition(scope, '2017-01-01'), keys.indexTrashPartition]) {
      const left = await queryAll<{ sk: string }>({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk } });
      expect(
        left.filter((i) => pk !== keys.indexTrashPartition || i.sk === scope),
        pk,
      ).toEqual([]);
    }
  });

  it('an unknown index is index_not_found_exception with its metadata', async () => {
    const e = await esError(es.indices.get({ index: 'no-such-index-x' }));
    expect(e.status).toBe(404);
    expect(e.body.error).toEqual({
      root_cause: [
        {
          type: 'index_not_found_exception',
          reason: 'no such index [no-such-index-x]',
          'resource.type': 'index_or_alias',
          'resource.id': 'no-such-index-x',
          index_uuid: '_na_',
          index: 'no-such-index-x',
        },
      ],
      type: 'index_not_found_exception',
      reason: 'no such index [no-such-index-x]',
      'resource.type': 'index_or_alias',
      'resource.id': 'no-such-index-x',
      index_uuid: '_na_',
      index: 'no-such-index-x',
    });
    expect((await esError(es.search({ index: 'no-such-index-x' }))).status).toBe(404);
    expect((await esError(es.indices.delete({ index: 'no-such-index-x' }))).status).toBe(404);
  });

  it('invalid names are invalid_index_name_exception', async () => {
    const cases: [string, string][] = [
      ['Upper', 'must be lowercase'],
      ['a b', "must not contain the following characters [' ','\"','*',',','/','<','>','?','\\','|']"],
      ['a#b', "must not contain '#'"],
      ['-a', "must not start with '_', '-', or '+'"],
      ['x'.repeat(256), 'index name is too long, (256 > 255)'],
    ];
    for (const [index, why] of cases) {
      const e = await esError(es.indices.create({ index }));
      expect(e.status, index).toBe(400);
      expect(e.type).toBe('invalid_index_name_exception');
      expect(e.reason).toBe(`Invalid index name [${index}], ${why}`);
    }
  });

  it('routes with a name starting with _ are not indices and do not shadow the ML and cluster routes', async () => {
    const e = await esError(raw('PUT', '/_foo', '{}'));
    expect(e.status).toBe(400);
    expect(e.body.error).toBe('no handler found for uri [/_foo] and method [PUT]');
    expect((await raw('GET', '/_cluster/settings')).statusCode).toBe(200);
    expect((await raw('GET', '/_ml/anomaly_detectors')).statusCode).toBe(200);
    expect((await es.cluster.health()).status).toBe('green');
  });

  it('an unsupported field type or setting is a 400 naming it; an unknown type is ES mapper_parsing_exception', async () => {
    expect((await esError(es.indices.create({ index: name('geo'), mappings: { properties: { p: { type: 'geo_point' } } } }))).reason).toBe(
      'mlplane does not support the [geo_point] field type yet',
    );
    const e = await esError(es.indices.create({ index: name('bad'), mappings: { properties: { p: { type: 'nope' } } as never } }));
    expect(e.type).toBe('mapper_parsing_exception');
    expect(e.reason).toBe('Failed to parse mapping: No handler for type [nope] declared on field [p]');
  });
});

describe('documents', () => {
  it('index, get, create conflict, delete', async () => {
    const index = name('docs');
    const put = await es.index({ index, id: '1', document: { '@timestamp': '2017-01-01T00:00:00Z', host: 'a' } });
    expect(put).toMatchObject({ _index: index, _id: '1', _version: 1, result: 'created', _shards: { total: 2, successful: 1, failed: 0 }, _seq_no: 0, _primary_term: 1 });
    const again = await es.index({ index, id: '1', document: { '@timestamp': '2017-01-02T00:00:00Z', host: 'b' } });
    expect(again).toMatchObject({ _version: 2, result: 'updated', _seq_no: 1 });
    const got = await es.get({ index, id: '1' });
    expect(got).toMatchObject({ _index: index, _id: '1', _version: 2, found: true, _source: { host: 'b' } });
    const conflict = await esError(es.create({ index, id: '1', document: { host: 'c' } }));
    expect(conflict.status).toBe(409);
    expect(conflict.body.error).toMatchObject({
      type: 'version_conflict_engine_exception',
      reason: '[1]: version conflict, document already exists (current version [2])',
      shard: '0',
      index,
    });
    const gen = await es.index({ index, document: { host: 'd' } });
    expect(gen.result).toBe('created');
    expect(gen._id).toMatch(/^[A-Za-z0-9_-]{20}$/);
    expect(await es.delete({ index, id: '1' })).toMatchObject({ result: 'deleted', _version: 3 });
    const missing = await esError(es.get({ index, id: '1' }));
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ _index: index, _id: '1', found: false });
    // Indexing created the index with dynamic mappings: a date, and text with a keyword sub-field.
    const mapping = (await es.indices.get({ index }))[index]?.mappings?.properties;
    expect(mapping).toEqual({ '@timestamp': { type: 'date' }, host: { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 256 } } } });
  });

  it('a value that is not of its mapped type is document_parsing_exception with its position', async () => {
    const index = name('typed');
    await es.indices.create({ index, mappings: { properties: { '@timestamp': { type: 'date' } } } });
    const e = await esError(raw('PUT', `/${index}/_doc/x`, '{"@timestamp":"abc"}'));
    expect(e.status).toBe(400);
    expect(e.type).toBe('document_parsing_exception');
    expect(e.reason).toBe("[1:15] failed to parse field [@timestamp] of type [date] in document with id 'x'. Preview of field's value: 'abc'");
    expect(e.body.error.caused_by).toMatchObject({
      type: 'illegal_argument_exception',
      reason: 'failed to parse date field [abc] with format [strict_date_optional_time||epoch_millis]',
    });
  });
});

describe('_bulk', () => {
  it('reports each item; bad sources, conflicts and update fail alone, the rest is indexed', async () => {
    const index = name('bulk');
    await es.indices.create({ index, mappings: { properties: { t: { type: 'date' }, n: { type: 'long' } } } });
    const body = [
      `{"index":{"_index":"${index}","_id":"1"}}`,
      '{"t":"2017-01-01T00:00:00Z","n":1}',
      `{"create":{"_index":"${index}","_id":"1"}}`,
      '{"t":"2017-01-01T00:00:00Z","n":2}',
      `{"index":{"_index":"${index}","_id":"2"}}`,
      '{"t":"2017-01-01T00:00:00Z", n:',
      `{"index":{"_index":"${index}","_id":"3"}}`,
      '{"t":"2017-01-01T00:00:00Z","n":"x"}',
      `{"update":{"_index":"${index}","_id":"1"}}`,
      '{"doc":{"n":5}}',
      `{"delete":{"_index":"${index}","_id":"9"}}`,
      `{"index":{"_index":"${index}","_id":"4"}}`,
      '{"t":"2017-01-02T00:00:00Z","n":4}',
      '',
    ].join('\n');
    const res = (await raw('POST', '/_bulk', body, { refresh: 'true' }, 'application/x-ndjson')).body as estypes.BulkResponse;
    expect(res.errors).toBe(true);
    const items = res.items.map((i) => Object.entries(i)[0] as [string, estypes.BulkResponseItem]);
    expect(items.map(([a, r]) => [a, r.status])).toEqual([
      ['index', 201],
      ['create', 409],
      ['index', 400],
      ['index', 400],
      ['update', 400],
      ['delete', 404],
      ['index', 201],
    ]);
    expect(items[1]?.[1].error?.type).toBe('version_conflict_engine_exception');
    expect(items[2]?.[1].error?.type).toBe('document_parsing_exception');
    expect(items[3]?.[1].error?.reason).toBe("[1:33] failed to parse field [n] of type [long] in document with id '3'. Preview of field's value: 'x'");
    expect(items[4]?.[1].error?.reason).toBe('mlplane does not support the [update] bulk action yet');
    expect(items[5]?.[1].result).toBe('not_found');
    expect((await es.count({ index })).count).toBe(2);
  });

  it('an action line that is not an action fails the whole request', async () => {
    const e = await esError(raw('POST', '/_bulk', '{"foo":{"_index":"x"}}\n{}\n', undefined, 'application/x-ndjson'));
    expect(e.status).toBe(400);
    expect(e.reason).toBe('Malformed action/metadata line [1], expected field [create], [delete], [index] or [update] but found [foo]');
  });

  it('an id re-indexed by a later bulk into another day is found once, with its new source and version', async () => {
    const index = name('bulk-reindex');
    await es.indices.create({ index, mappings: { properties: { t: { type: 'date' }, n: { type: 'long' } } } });
    const first = await es.bulk({
      index,
      operations: [{ index: { _id: 'x' } }, { t: '2017-01-01T10:00:00Z', n: 1 }, { index: { _id: 'y' } }, { t: '2017-01-01T11:00:00Z', n: 2 }],
    });
    expect(first.errors).toBe(false);
    const second = await es.bulk({ index, operations: [{ index: { _id: 'x' } }, { t: '2017-01-05T10:00:00Z', n: 3 }] });
    expect(second.items[0]?.index).toMatchObject({ _id: 'x', _version: 2, result: 'updated', status: 200 });
    const hits = (await es.search({ index, query: { match_all: {} }, sort: [{ t: 'asc' }] })).hits.hits;
    expect(hits.map((h) => [h._id, (h._source as { n: number }).n])).toEqual([
      ['y', 2],
      ['x', 3],
    ]);
    expect((await es.count({ index, query: { range: { t: { lt: '2017-01-02T00:00:00Z' } } } })).count).toBe(1);
    expect(await es.get({ index, id: 'x' })).toMatchObject({ _version: 2, _source: { t: '2017-01-05T10:00:00Z', n: 3 } });
  });

  it('a document deleted by id, by DELETE or by a bulk delete, is gone from search and count', async () => {
    const index = name('bulk-delete');
    await es.indices.create({ index, mappings: { properties: { t: { type: 'date' }, n: { type: 'long' } } } });
    const operations = ['a', 'b', 'c'].flatMap((id, i) => [{ index: { _id: id } }, { t: `2017-01-0${i + 1}T00:00:00Z`, n: i }]);
    expect((await es.bulk({ index, operations })).errors).toBe(false);
    expect(await es.delete({ index, id: 'a' })).toMatchObject({ result: 'deleted', _version: 2 });
    const bulkDelete = await es.bulk({ index, operations: [{ delete: { _id: 'b' } }] });
    expect(bulkDelete.items[0]?.delete).toMatchObject({ _id: 'b', result: 'deleted', _version: 2, status: 200 });
    expect((await es.search({ index, query: { match_all: {} } })).hits.hits.map((h) => h._id)).toEqual(['c']);
    expect((await es.count({ index })).count).toBe(1);
    expect((await raw('GET', `/${index}/_doc/a`).catch((e: { meta: { statusCode: number } }) => e.meta)).statusCode).toBe(404);
  });

  it('create of an id already written earlier in the same bulk is a 409; after a delete in the bulk it is created', async () => {
    const index = name('bulk-create');
    const res = await es.bulk({
      index,
      operations: [{ create: { _id: 'a' } }, { n: 1 }, { create: { _id: 'a' } }, { n: 2 }, { delete: { _id: 'a' } }, { create: { _id: 'a' } }, { n: 3 }],
    });
    expect(res.errors).toBe(true);
    expect(res.items.map((i) => Object.values(i)[0]?.status)).toEqual([201, 409, 200, 201]);
    expect(res.items[1]?.create?.error?.type).toBe('version_conflict_engine_exception');
    expect((await es.get({ index, id: 'a' }))._source).toEqual({ n: 3 });
    expect((await es.count({ index })).count).toBe(1);
  });

  it('two bulks into one index at once lose no document, and an id both write ends at version 2', async () => {
    const index = name('bulk-concurrent');
    await es.indices.create({ index, mappings: { properties: { t: { type: 'date' }, n: { type: 'long' } } } });
    // 400 ids each, hashed over every id directory bucket, so the two bulks' bucket writes collide.
    const ops = (side: string) => [
      ...Array.from({ length: 400 }, (_, i) => [{ index: { _id: `${side}-${i}` } }, { t: T0 + i * 60_000, n: i }]).flat(),
      { index: { _id: 'both' } },
      { t: T0, n: side === 'a' ? 1 : 2 },
    ];
    const [first, second] = await Promise.all([es.bulk({ index, operations: ops('a') }), es.bulk({ index, operations: ops('b') })]);
    expect(first.errors || second.errors).toBe(false);
    expect((await es.count({ index })).count).toBe(801);
    const versions = [first, second].map((r) => r.items.at(-1)?.index?._version).sort();
    expect(versions).toEqual([1, 2]);
    expect((await es.get({ index, id: 'both' }))._version).toBe(2);
    for (const id of ['a-0', 'a-399', 'b-0', 'b-399']) expect((await es.get({ index, id })).found).toBe(true);
  });

  it('a generated id is found by GET, re-indexed by id into another day once, and deleted', async () => {
    const index = name('bulk-generated');
    await es.indices.create({ index, mappings: { properties: { t: { type: 'date' }, n: { type: 'long' } } } });
    const res = await es.bulk({ index, operations: [{ index: {} }, { t: '2017-01-01T10:00:00Z', n: 1 }, { create: {} }, { n: 2 }] });
    expect(res.items.map((i) => Object.values(i)[0]?.status)).toEqual([201, 201]);
    const [timed, untimed] = res.items.map((i) => Object.values(i)[0]?._id as string);
    expect(timed).toMatch(/^[A-Za-z0-9_-]{20}$/);
    expect(await es.get({ index, id: timed as string })).toMatchObject({ _version: 1, _source: { n: 1 } });
    expect(await es.get({ index, id: untimed as string })).toMatchObject({ _version: 1, _source: { n: 2 } });
    expect((await esError(es.create({ index, id: timed as string, document: { n: 9 } }))).status).toBe(409);
    expect(await es.index({ index, id: timed as string, document: { t: '2017-01-05T10:00:00Z', n: 3 } })).toMatchObject({ _version: 2, result: 'updated' });
    const hits = (await es.search({ index, query: { match_all: {} } })).hits.hits;
    expect(hits.map((h) => [h._id, (h._source as { n: number }).n])).toEqual([
      [timed, 3],
      [untimed, 2],
    ]);
    expect(await es.delete({ index, id: untimed as string })).toMatchObject({ result: 'deleted', _version: 2 });
    expect((await es.count({ index })).count).toBe(1);
    expect((await esError(es.get({ index, id: untimed as string }))).body.found).toBe(false);
  });

  it('a bulk larger than one chunk item is read back whole and in time order, by range too', async () => {
    const index = name('bulk-chunks');
    await es.indices.create({ index, mappings: { properties: { t: { type: 'date' }, pad: { type: 'keyword' } } } });
    // 300 documents of 2 KB: about 600 KB, several chunk items of one day.
    const pad = 'x'.repeat(2_000);
    const operations = Array.from({ length: 300 }, (_, i) => [{ index: { _id: `d${299 - i}` } }, { t: T0 + (299 - i) * 60_000, pad }]).flat();
    expect((await es.bulk({ index, operations })).errors).toBe(false);
    const all = (await es.search({ index, size: 300, _source: false, sort: [{ t: 'asc' }] })).hits.hits.map((h) => h._id);
    expect(all).toEqual(Array.from({ length: 300 }, (_, i) => `d${i}`));
    const window = await es.count({ index, query: { range: { t: { gte: T0 + 100 * 60_000, lt: T0 + 200 * 60_000, format: 'epoch_millis' } } } });
    expect(window.count).toBe(100);
    expect(await es.get({ index, id: 'd150' })).toMatchObject({ found: true, _source: { pad } });
  });

  it('<index>/_bulk fills in the index', async () => {
    const index = name('bulk-default');
    const res = await es.bulk({ index, operations: [{ index: { _id: 'a' } }, { v: 1 }] });
    expect(res.errors).toBe(false);
    expect((await es.get({ index, id: 'a' }))._source).toEqual({ v: 1 });
    expect(await es.indices.refresh({ index })).toMatchObject({ _shards: { successful: 1, failed: 0 } });
  });
});

describe('_search and _count', () => {
  let index: string;
  const ids = async (body: Record<string, unknown>): Promise<string[]> => {
    const res = await es.search({ index, size: 1000, sort: ['_doc'], ...body });
    return res.hits.hits.map((h) => h._id as string);
  };

  it('queries: match_all, term, terms, range with date math, exists, ids, bool, match', async () => {
    index = await metricsIndex();
    expect((await es.count({ index })).count).toBe(144);
    expect((await es.search({ index, query: { match_all: {} } })).hits.total).toEqual({ value: 144, relation: 'eq' });
    expect((await ids({ query: { term: { host: 'host-a' } } })).length).toBe(72);
    expect((await ids({ query: { terms: { total: [3, 6] } } })).sort()).toEqual(['host-a-3', 'host-a-6', 'host-b-3']);
    expect(await ids({ query: { range: { '@timestamp': { gte: '2017-01-01T01:00:00Z', lt: '2017-01-01T02:00:00Z' } } } })).toEqual(['host-a-1', 'host-b-1']);
    expect((await ids({ query: { range: { '@timestamp': { gte: '2017-01-02||/d', lt: '2017-01-02||+1d' } } } })).length).toBe(48);
    expect((await ids({ query: { range: { '@timestamp': { gte: 'now-1h' } } } })).length).toBe(0);
    expect((await ids({ query: { exists: { field: 'msg' } } })).length).toBe(144);
    expect(await ids({ query: { ids: { values: ['host-b-5', 'nope'] } } })).toEqual(['host-b-5']);
    expect(
      await ids({
        query: { bool: { filter: [{ term: { host: 'host-b' } }], must: [{ range: { total: { gte: 10, lte: 14 } } }], must_not: [{ term: { ok: false } }] } },
      }),
    ).toEqual(['host-b-5', 'host-b-6', 'host-b-7'].filter((id) => Number(id.split('-')[2]) % 2 === 0));
    expect((await ids({ query: { bool: { should: [{ term: { host: 'host-a' } }, { term: { total: 140 } }] } } })).length).toBe(73);
    expect((await ids({ query: { match: { msg: 'm1' } } })).length).toBe(48);
  });

  it('sort, from/size, search_after, _source and track_total_hits', async () => {
    const page = await es.search({ index, size: 2, sort: [{ total: 'desc' }, { host: 'asc' }], _source: ['total'] });
    expect(page.hits.hits.map((h) => [h._id, h.sort, h._source])).toEqual([
      ['host-b-71', [142, 'host-b'], { total: 142 }],
      ['host-b-70', [140, 'host-b'], { total: 140 }],
    ]);
    expect(page.hits.max_score).toBeNull();
    const next = await es.search({ index, size: 1, sort: [{ total: 'desc' }, { host: 'asc' }], search_after: [140, 'host-b'], _source: false });
    expect(next.hits.hits[0]).toMatchObject({ _id: 'host-b-69' });
    expect(next.hits.hits[0]?._source).toBeUndefined();
    expect((await es.search({ index, from: 140, size: 10, sort: ['_doc'] })).hits.hits).toHaveLength(4);
    expect((await es.search({ index, track_total_hits: 100 })).hits.total).toEqual({ value: 100, relation: 'gte' });
    expect((await es.search({ index, track_total_hits: false })).hits.total).toBeUndefined();
    const hit = (await es.search({ index, size: 1, query: { ids: { values: ['host-a-0'] } }, _source: { excludes: ['msg', 'ok'] } })).hits.hits[0];
    expect(hit).toMatchObject({ _index: index, _id: 'host-a-0', _score: 1, _source: { '@timestamp': '2017-01-01T00:00:00.000Z', host: 'host-a', total: 0 } });
  });

  it('aggregations: date_histogram with max of the time field, terms, metrics', async () => {
    const res = await es.search({
      index,
      size: 0,
      query: { range: { '@timestamp': { gte: T0, lt: T0 + 4 * 3_600_000, format: 'epoch_millis' } } },
      aggs: {
        buckets: { date_histogram: { field: '@timestamp', fixed_interval: '2h' }, aggs: { '@timestamp': { max: { field: '@timestamp' } }, total: { sum: { field: 'total' } } } },
        hosts: { terms: { field: 'host', size: 1 }, aggs: { avg_total: { avg: { field: 'total' } } } },
        lo: { min: { field: 'total' } },
        hi: { max: { field: 'total' } },
        n: { value_count: { field: 'total' } },
        distinct: { cardinality: { field: 'total' } },
      },
    });
    expect(res.hits.total).toEqual({ value: 8, relation: 'eq' });
    expect(res.aggregations).toEqual({
      buckets: {
        buckets: [
          {
            key_as_string: '2017-01-01T00:00:00.000Z',
            key: T0,
            doc_count: 4,
            '@timestamp': { value: T0 + 3_600_000, value_as_string: '2017-01-01T01:00:00.000Z' },
            total: { value: 3 },
          },
          {
            key_as_string: '2017-01-01T02:00:00.000Z',
            key: T0 + 7_200_000,
            doc_count: 4,
            '@timestamp': { value: T0 + 3 * 3_600_000, value_as_string: '2017-01-01T03:00:00.000Z' },
            total: { value: 15 },
          },
        ],
      },
      hosts: { doc_count_error_upper_bound: 0, sum_other_doc_count: 4, buckets: [{ key: 'host-a', doc_count: 4, avg_total: { value: 1.5 } }] },
      lo: { value: 0 },
      hi: { value: 6 },
      n: { value: 8 },
      distinct: { value: 6 },
    });
  });

  it('what is outside the subset is a 400 naming it', async () => {
    const unknown = await esError(es.search({ index, query: { nope: {} } as never }));
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ type: 'parsing_exception', reason: 'unknown query [nope]', line: 1, col: 11 });
    const agg = await esError(raw('POST', `/${index}/_search`, '{"aggs":{"x":{"nope":{}}}}'));
    expect(agg.body.error).toMatchObject({ type: 'x_content_parse_exception', reason: '[1:15] Unknown aggregation type [nope]' });
    expect((await esError(es.search({ index, query: { query_string: { query: 'x' } } }))).reason).toBe('mlplane does not support the [query_string] query yet');
    expect((await esError(es.search({ index, aggs: { p: { percentiles: { field: 'total' } } } }))).reason).toBe('mlplane does not support the [percentiles] aggregation yet');
    expect((await esError(es.search({ index, aggs: { h: { date_histogram: { field: '@timestamp', calendar_interval: 'month' } } } }))).reason).toBe(
      'mlplane does not support the [calendar_interval: month] date_histogram option yet',
    );
  });

  it('searches several indices by list and wildcard', async () => {
    const other = `${index}-x`;
    await es.index({ index: other, id: 'o', document: { '@timestamp': '2017-01-01T00:00:00Z', host: 'host-a' }, refresh: true });
    expect((await es.count({ index: `${index},${other}` })).count).toBe(145);
    expect((await es.count({ index: `${index}*` })).count).toBe(145);
    const res = await es.search({ index: `${index}*`, size: 0 });
    expect(res._shards).toEqual({ total: 2, successful: 2, skipped: 0, failed: 0 });
    await es.indices.delete({ index: other });
    await es.indices.delete({ index });
    expect((await esError(es.count({ index }))).status).toBe(404);
  });
});
