import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';

process.env.TABLE_NAME = 'watches-table';
process.env.COMMAND_QUEUE_URL = 'http://sqs.local/queue/commands.fifo';
const ddb = mockClient(DynamoDBDocumentClient);
const { listWatchesWithTrigger, claimScheduledRun, releaseScheduledRun } = await import('../../../lib/store/watch-triggers.ts');

const watchItem = (id: string, extra: Record<string, unknown> = {}) => ({
  pk: 'watches',
  sk: `watch#${id}`,
  watch: JSON.stringify({ trigger: { schedule: { type: 'interval', value: '5m' } }, input: { type: 'none', body: {} }, condition: { type: 'always', body: {} }, actions: [] }),
  status: JSON.stringify({ state: { active: true, timestamp: 1000 }, actions: {} }),
  version: 3,
  seq_no: 2,
  primary_term: 1,
  ...extra,
});
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'failed', $metadata: {} });

beforeEach(() => ddb.reset());

describe('the trigger state of watches', () => {
  it('lists every watch with its last scheduled run, if any', async () => {
    ddb.on(QueryCommand).resolves({ Items: [watchItem('a'), watchItem('b', { last_scheduled_ms: 5000, last_triggered_ms: 5400 })] });
    const out = await listWatchesWithTrigger();
    expect(out.map((w) => [w.watch.id, w.lastRun])).toEqual([
      ['a', undefined],
      ['b', { scheduledMs: 5000, triggeredMs: 5400 }],
    ]);
    expect(ddb.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({ ExpressionAttributeValues: { ':pk': 'watches', ':p': 'watch#' }, ConsistentRead: true });
  });

  it('claims a run only over the state the tick read, without touching _version or _seq_no', async () => {
    ddb.on(UpdateCommand).resolves({});
    expect(await claimScheduledRun('w', { scheduledMs: 9000, triggeredMs: 9500 }, { scheduledMs: 5000, triggeredMs: 5400 })).toBe(true);
    const input = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      Key: { pk: 'watches', sk: 'watch#w' },
      UpdateExpression: 'SET last_scheduled_ms = :s, last_triggered_ms = :t',
      ConditionExpression: 'attribute_exists(pk) AND last_triggered_ms = :et',
      ExpressionAttributeValues: { ':s': 9000, ':t': 9500, ':et': 5400 },
    });
    expect(input?.UpdateExpression).not.toMatch(/version|seq_no/);
  });

  it('the first claim of a watch expects no state; a lost race or a deleted watch gives false', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());
    expect(await claimScheduledRun('w', { scheduledMs: 9000, triggeredMs: 9500 }, undefined)).toBe(false);
    expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input.ConditionExpression).toBe('attribute_exists(pk) AND attribute_not_exists(last_triggered_ms)');
  });

  it('releasing a claim restores the state before it, only while the claim is still there', async () => {
    ddb.on(UpdateCommand).resolves({});
    expect(await releaseScheduledRun('w', { scheduledMs: 9000, triggeredMs: 9500 }, undefined)).toBe(true);
    expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input).toMatchObject({
      UpdateExpression: 'REMOVE last_scheduled_ms, last_triggered_ms',
      ConditionExpression: 'attribute_exists(pk) AND last_triggered_ms = :et',
      ExpressionAttributeValues: { ':et': 9500 },
    });
  });
});
