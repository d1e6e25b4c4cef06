import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Command } from '../../../lib/domain/command.ts';

process.env.TABLE_NAME = 'test-table';
process.env.COMMAND_QUEUE_URL = 'http://sqs.local/queue/commands.fifo';
const ddb = mockClient(DynamoDBDocumentClient);
const { recordOutcome, markRunning } = await import('../../../lib/store/commands.ts');

const cmd = (targets: string[]): Command => ({
  command_id: '123',
  task_id: 'n:123',
  action: 'close',
  es_action: 'cluster:admin/xpack/ml/job/close',
  description: '',
  targets,
  params: {},
  status: 'queued',
  outcomes: {},
  created_ms: 0,
  expires_at: 0,
});

describe('the command store adapter', () => {
  beforeEach(() => ddb.reset());

  it('records an outcome only once per target, with a condition', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: { ...cmd(['a', 'b']), outcomes: { a: { status: 'done', finished_ms: 1 } } } });
    await recordOutcome(cmd(['a', 'b']), 'a', { status: 'done', finished_ms: 1 });
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 1);
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: 'test-table',
      ConditionExpression: 'attribute_not_exists(outcomes.#t)',
      ExpressionAttributeNames: { '#t': 'a' },
    });
  });

  it('marks the command done when the last target lands, failed when any failed', async () => {
    ddb.on(UpdateCommand).resolvesOnce({
      Attributes: { ...cmd(['a', 'b']), outcomes: { a: { status: 'done', finished_ms: 1 }, b: { status: 'failed', finished_ms: 2 } } },
    }).resolves({});
    await recordOutcome(cmd(['a', 'b']), 'b', { status: 'failed', finished_ms: 2 });
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 2);
    expect(ddb).toHaveReceivedNthCommandWith(UpdateCommand, 2, { ExpressionAttributeValues: { ':s': 'failed' } });
  });

  it('treats a lost race on the outcome as a no-op', async () => {
    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
    await expect(recordOutcome(cmd(['a']), 'a', { status: 'done', finished_ms: 1 })).resolves.toBeUndefined();
    await expect(markRunning('123')).resolves.toBeUndefined();
  });
});
