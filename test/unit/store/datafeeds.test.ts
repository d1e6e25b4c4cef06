import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { DatafeedConfig } from '../../../lib/domain/datafeed/types.ts';

process.env.TABLE_NAME = 'datafeeds-table';
process.env.COMMAND_QUEUE_URL = 'http://sqs.local/queue/commands.fifo';
const ddb = mockClient(DynamoDBDocumentClient);
const { createDatafeed, readDatafeedItem } = await import('../../../lib/store/datafeeds.ts');
const { newDatafeedRuntime } = await import('../../../lib/domain/datafeed/types.ts');

const config = {
  datafeed_id: 'feed',
  job_id: 'job',
  authorization_roles: ['superuser'],
  query_delay: '1m',
  chunking_config: { mode: 'auto' },
  indices_options: { expand_wildcards: ['open'], ignore_unavailable: false, allow_no_indices: true, ignore_throttled: false },
  query: { match_all: {} },
  indices: ['i'],
  scroll_size: 1000,
  delayed_data_check_config: { enabled: true },
} satisfies DatafeedConfig;

/** A cancelled transaction whose items' conditions failed as `failed` says (None otherwise). */
const cancelled = (failed: boolean[]) =>
  new TransactionCanceledException({
    message: 'cancelled',
    $metadata: {},
    CancellationReasons: failed.map((f) => (f ? { Code: 'ConditionalCheckFailed' } : { Code: 'None' })),
  });

beforeEach(() => ddb.reset());

describe('creating a datafeed', () => {
  it('writes the datafeed, the job claim and the job check in one transaction, each conditional', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    expect(await createDatafeed(config, newDatafeedRuntime('feed'))).toBeUndefined();
    const items = ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
    expect(items).toHaveLength(3);
    expect(items[0]?.Put).toMatchObject({ Item: { pk: 'datafeeds', sk: 'datafeed#feed', job_id: 'job', version: 1 }, ConditionExpression: 'attribute_not_exists(pk)' });
    expect(items[1]?.Put).toMatchObject({ Item: { pk: 'datafeeds', sk: 'job#job', datafeed_id: 'feed' }, ConditionExpression: 'attribute_not_exists(pk)' });
    expect(items[2]?.ConditionCheck).toMatchObject({ Key: { pk: 'jobs', sk: 'job#job' }, ConditionExpression: 'attribute_exists(pk)' });
  });

  it.each([
    [[true, false, false], 'id_taken'],
    [[false, true, false], 'job_has_datafeed'],
    [[true, true, false], 'job_has_datafeed'],
    [[false, false, true], 'job_missing'],
    [[true, true, true], 'job_missing'],
  ] as const)('a transaction cancelled with failed conditions %j is refused as %s (Elasticsearch checks job, then its datafeeds, then the id)', async (failed, refusal) => {
    ddb.on(TransactWriteCommand).rejects(cancelled([...failed]));
    expect(await createDatafeed(config, newDatafeedRuntime('feed'))).toBe(refusal);
  });

  it('any other failure is thrown', async () => {
    ddb.on(TransactWriteCommand).rejects(new Error('network'));
    await expect(createDatafeed(config, newDatafeedRuntime('feed'))).rejects.toThrow('network');
  });
});

describe('reading a datafeed item', () => {
  it('checks what it reads back', () => {
    const item = { config: JSON.stringify(config), runtime: JSON.stringify(newDatafeedRuntime('feed')) };
    expect(readDatafeedItem(item).config).toEqual(config);
    expect(() => readDatafeedItem({ ...item, runtime: JSON.stringify({ state: 'running' }) })).toThrow();
  });
});
