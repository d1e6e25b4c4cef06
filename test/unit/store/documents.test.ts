import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';

process.env.TABLE_NAME = 'docs-table';
process.env.COMMAND_QUEUE_URL = 'http://sqs.local/queue/commands.fifo';
const ddb = mockClient(DynamoDBDocumentClient);
const { assignChunks, CHUNK_RAW_BYTES, queryDayChunks } = await import('../../../lib/store/document-chunks.ts');
const { dropSuperseded } = await import('../../../lib/store/documents.ts');
const { bucketOf, BUCKETS, generatedHome, generatedId, writeDirectory } = await import('../../../lib/store/document-ids.ts');

const T0 = Date.UTC(2017, 0, 1);
const HOUR = 3_600_000;
const SCOPE = 'metrics/uuid1';

beforeEach(() => ddb.reset());

describe('generated ids', () => {
  it('are 20 URL-safe characters naming their time and batch', () => {
    const id = generatedId(T0 + 5 * HOUR, '00abcdef12', 4711);
    expect(id).toMatch(/^[A-Za-z0-9_-]{20}$/);
    expect(generatedHome(id)).toEqual({ timeMs: T0 + 5 * HOUR, nonce: '00abcdef12' });
  });

  it('of untimed documents name no time', () => {
    expect(generatedHome(generatedId(undefined, 'ffffffffff', 0))).toEqual({ timeMs: undefined, nonce: 'ffffffffff' });
  });

  it('are told apart from explicit ids of any shape', () => {
    for (const id of ['x', 'h12-1483228800000', 'AAAAAAAAAAAAAAAAAAAA', 'a/b c', '€€€€€€€€€€€€€€€€€€€€']) expect(generatedHome(id)).toBeUndefined();
  });
});

describe('chunk assignment', () => {
  it('packs a batch per UTC day, keyed by the earliest time of the chunk and the batch nonce', () => {
    const docs = [
      { timeMs: T0 + 2 * HOUR, sourceText: '{}' },
      { timeMs: T0 + 30 * HOUR, sourceText: '{}' },
      { timeMs: T0 + HOUR, sourceText: '{}' },
      { timeMs: undefined, sourceText: '{}' },
    ];
    const keys = assignChunks(SCOPE, docs, '0123456789');
    expect(keys[0]).toEqual(keys[2]);
    expect(keys[0]).toEqual({ pk: 'doc#metrics/uuid1#2017-01-01', sk: `${String(T0 + HOUR).padStart(15, '0')}#0123456789#0000` });
    expect(keys[1]).toEqual({ pk: 'doc#metrics/uuid1#2017-01-02', sk: `${String(T0 + 30 * HOUR).padStart(15, '0')}#0123456789#0000` });
    expect(keys[3]).toEqual({ pk: 'doc#metrics/uuid1#untimed', sk: '0123456789#0000' });
  });

  it('starts a new chunk before the raw budget is passed, so no chunk nears the 400 KB item limit', () => {
    const big = `{"m":"${'x'.repeat(50_000)}"}`;
    const docs = Array.from({ length: 12 }, (_, i) => ({ timeMs: T0 + i, sourceText: big }));
    const keys = assignChunks(SCOPE, docs, '0123456789');
    const sizes = new Map<string, number>();
    for (const [i, k] of keys.entries()) sizes.set(k.sk, (sizes.get(k.sk) ?? 0) + (docs[i]?.sourceText.length ?? 0));
    expect(sizes.size).toBeGreaterThan(2);
    for (const bytes of sizes.values()) expect(bytes).toBeLessThanOrEqual(CHUNK_RAW_BYTES);
  });
});

/** A cancelled transaction whose items' conditions failed as `failed` says. */
const cancelled = (failed: boolean[]) =>
  new TransactionCanceledException({
    message: 'cancelled',
    $metadata: {},
    CancellationReasons: failed.map((f) => (f ? { Code: 'ConditionalCheckFailed' } : { Code: 'None' })),
  });

describe('the id directory', () => {
  const location = { pk: 'doc#metrics/uuid1#2017-01-01', sk: '000001483228800000#0123456789#0000', version: 1 };
  /** Two ids in different buckets. */
  const [a, b] = ((): [string, string] => {
    for (let i = 1; ; i++) if (bucketOf(`id-${i}`) !== bucketOf('id-0')) return ['id-0', `id-${i}`];
  })();

  it('hashes ids into its buckets', () => {
    for (const id of ['a', 'b', 'h1-2', '€']) expect(bucketOf(id)).toBeGreaterThanOrEqual(0);
    expect(new Set(Array.from({ length: 2_000 }, (_, i) => bucketOf(`id-${i}`))).size).toBe(BUCKETS);
  });

  it('writes every changed bucket in one transaction, each conditional on the version it was read at', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const snapshot = {
      buckets: new Map([
        [bucketOf(a), { dv: 0, entries: new Map() }],
        [bucketOf(b), { dv: 7, entries: new Map() }],
      ]),
    };
    const again = await writeDirectory(
      SCOPE,
      snapshot,
      new Map([
        [a, location],
        [b, location],
      ]),
    );
    expect(again.size).toBe(0);
    const items = ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
    expect(items.map((i) => i.Put?.ConditionExpression)).toEqual(['attribute_not_exists(pk)', 'dv = :dv']);
    expect(items[1]?.Put?.ExpressionAttributeValues).toEqual({ ':dv': 7 });
    expect(items[1]?.Put?.Item).toMatchObject({ pk: `docid#${SCOPE}`, dv: 8 });
  });

  it('reports the ids of a bucket changed concurrently and still writes the other buckets', async () => {
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled([true, false]))
      .resolves({});
    const snapshot = {
      buckets: new Map([
        [bucketOf(a), { dv: 3, entries: new Map() }],
        [bucketOf(b), { dv: 4, entries: new Map() }],
      ]),
    };
    const again = await writeDirectory(
      SCOPE,
      snapshot,
      new Map([
        [a, location],
        [b, location],
      ]),
    );
    expect([...again]).toEqual([a]);
    const calls = ddb.commandCalls(TransactWriteCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.args[0].input.TransactItems?.map((i) => i.Put?.ExpressionAttributeValues)).toEqual([{ ':dv': 4 }]);
    expect(snapshot.buckets.get(bucketOf(b))?.dv).toBe(5);
    expect(snapshot.buckets.get(bucketOf(a))?.dv).toBe(3);
  });

  it('removes an id with a conditional delete when its bucket empties, and writes nothing for an id it never held', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const snapshot = {
      buckets: new Map([
        [bucketOf(a), { dv: 2, entries: new Map([[a, ['2017-01-01', location.sk, 1] as [string, string, number]]]) }],
        [bucketOf(b), { dv: 0, entries: new Map() }],
      ]),
    };
    await writeDirectory(
      SCOPE,
      snapshot,
      new Map([
        [a, null],
        [b, null],
      ]),
    );
    const items = ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
    expect(items).toHaveLength(1);
    expect(items[0]?.Delete).toMatchObject({ Key: { pk: `docid#${SCOPE}` }, ConditionExpression: 'dv = :dv', ExpressionAttributeValues: { ':dv': 2 } });
  });
});

describe('a batch after writing its chunks', () => {
  const index = { name: 'metrics', uuid: 'uuid1', createdMs: 0, mappings: { properties: {} }, settings: {}, timeField: 't', mappingVersion: 1 };
  const chunk = { pk: 'doc#metrics/uuid1#2017-01-01', sk: '000001483228800000#0123456789#0000' };
  const [x, y] = ((): [string, string] => {
    for (let i = 1; ; i++) if (bucketOf(`id-${i}`) !== bucketOf('id-0')) return ['id-0', `id-${i}`];
  })();
  const doc = (id: string) => ({ id, timeMs: T0, version: 1, seqNo: 0, sourceText: '{}', chunk });

  it('takes out a document whose id another writer re-pointed before the chunk landed, and keeps the rest', async () => {
    ddb
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: {
          'docs-table': [
            { sk: String(bucketOf(x)).padStart(3, '0'), dv: 3 },
            { sk: String(bucketOf(y)).padStart(3, '0'), dv: 6 },
          ],
        },
      })
      .resolvesOnce({
        Responses: {
          'docs-table': [
            {
              sk: String(bucketOf(y)).padStart(3, '0'),
              dv: 6,
              z: deflateRawSync(JSON.stringify({ c: [['2017-01-05', '000001483574400000#ffffffffff#0000']], e: { [y]: [0, 2] } })),
            },
          ],
        },
      });
    const rows = [
      [x, T0, 1, 0, '{}'],
      [y, T0, 1, 1, '{}'],
    ];
    ddb.on(GetCommand).resolves({ Item: { ...chunk, nonce: '0123456789', cv: 1, z: deflateRawSync(JSON.stringify(rows)) } });
    ddb.on(PutCommand).resolves({});
    await dropSuperseded(
      index,
      [doc(x), doc(y)],
      new Map([
        [bucketOf(x), 3],
        [bucketOf(y), 5],
      ]),
    );
    const put = ddb.commandCalls(PutCommand)[0]?.args[0].input;
    expect(put?.ConditionExpression).toBe('cv = :cv');
    expect(JSON.parse(inflateRawSync(put?.Item?.z as Uint8Array).toString('utf8')).map((r: unknown[]) => r[0])).toEqual([x]);
  });

  it('reads nothing more when no bucket it committed has moved', async () => {
    ddb.on(BatchGetCommand).resolves({ Responses: { 'docs-table': [{ sk: String(bucketOf(x)).padStart(3, '0'), dv: 3 }] } });
    await dropSuperseded(index, [doc(x)], new Map([[bucketOf(x), 3]]));
    expect(ddb.commandCalls(BatchGetCommand)).toHaveLength(1);
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });
});

describe('a day query', () => {
  it('bounds the sort key by the latest time a day can hold, so an end past year 9999 still reads the day', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    await queryDayChunks('doc#metrics/uuid1#9999-12-31', undefined, 10 ** 16);
    expect(ddb.commandCalls(QueryCommand)[0]?.args[0].input.ExpressionAttributeValues?.[':hi']).toBe('253402300799999#\uffff');
  });
});
