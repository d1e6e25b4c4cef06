import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, ScanCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Command } from '../../../lib/domain/command.ts';
import { keys } from '../../../lib/store/keys.ts';

process.env.TABLE_NAME = 'test-table';
process.env.COMMAND_QUEUE_URL = 'http://sqs.local/000000000000/commands.fifo';
const ddb = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
const { requeuePendingCommands } = await import('../../../lib/app/recovery.ts');

const command = (id: string, over: Partial<Command> & { outcomes?: Record<string, unknown> }): Record<string, unknown> => ({
  ...keys.command(id),
  command_id: id,
  task_id: `n:${id}`,
  action: 'close',
  es_action: 'cluster:admin/xpack/ml/job/close',
  description: '',
  targets: ['a'],
  params: {},
  status: 'queued',
  outcomes: {},
  created_ms: 0,
  expires_at: 0,
  ...over,
});

/** The table as recovery may read it: the index-complete item, pending markers, and the commands they point at. */
function table(commands: Record<string, unknown>[]): void {
  ddb.on(GetCommand, { Key: keys.pendingIndexComplete }).resolves({ Item: { ...keys.pendingIndexComplete } });
  ddb.on(QueryCommand).resolves({ Items: [] });
  for (const pk of keys.pendingPartitions) {
    const markers = commands.map((c) => ({ ...keys.pendingCommand(c.command_id as string), command_id: c.command_id, created_ms: c.created_ms })).filter((m) => m.pk === pk);
    ddb.on(QueryCommand, { ExpressionAttributeValues: { ':pk': pk } }).resolves({ Items: markers });
  }
  for (const c of commands) ddb.on(GetCommand, { Key: keys.command(c.command_id as string) }).resolves({ Item: c });
}

describe('restart recovery of the local runtime', () => {
  beforeEach(() => {
    ddb.reset();
    sqs.reset();
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
  });

  it('re-sends exactly the targets of unfinished commands that have no outcome, oldest first, without a Scan', async () => {
    table([
      command('2', { targets: ['j2'], created_ms: 20 }),
      command('1', { targets: ['j1a', 'j1b'], status: 'running', created_ms: 10, outcomes: { j1a: { status: 'done', finished_ms: 1 } } }),
    ]);

    expect(await requeuePendingCommands()).toBe(2);

    expect(ddb).not.toHaveReceivedCommand(ScanCommand);
    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 2);
    expect(sqs).toHaveReceivedNthCommandWith(SendMessageBatchCommand, 1, { Entries: [expect.objectContaining({ MessageBody: '{"command_id":"1","target":"j1b"}' })] });
    expect(sqs).toHaveReceivedNthCommandWith(SendMessageBatchCommand, 2, { Entries: [expect.objectContaining({ MessageBody: '{"command_id":"2","target":"j2"}' })] });
  });

  it('finishes a command whose outcomes are all in but whose status was never rolled up', async () => {
    table([command('3', { status: 'running', outcomes: { a: { status: 'failed', finished_ms: 1 } } })]);

    expect(await requeuePendingCommands()).toBe(0);

    expect(sqs).not.toHaveReceivedCommand(SendMessageBatchCommand);
    expect(ddb).toHaveReceivedCommandWith(TransactWriteCommand, {
      TransactItems: [
        { Update: expect.objectContaining({ Key: keys.command('3'), ExpressionAttributeValues: { ':s': 'failed' } }) },
        { Delete: expect.objectContaining({ Key: keys.pendingCommand('3') }) },
      ],
    });
  });

  it('leaves the targets parked by upgrade mode in the table: disabling it sends them, in order', async () => {
    table([command('4', { targets: ['p', 'q'], status: 'running', created_ms: 5 })]);
    ddb
      .on(QueryCommand, { ExpressionAttributeValues: { ':pk': keys.parkedPartition } })
      .resolves({ Items: [{ ...keys.parked(1, 1, '4', 'p'), command_id: '4', target: 'p', parked_ms: 1 }] });

    expect(await requeuePendingCommands()).toBe(1);

    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 1);
    expect(sqs).toHaveReceivedCommandWith(SendMessageBatchCommand, { Entries: [expect.objectContaining({ MessageBody: '{"command_id":"4","target":"q"}' })] });
  });

  it('never queues a command event’s task left running: it is closed as a 500, since its ingress stopped with the process', async () => {
    const task = command('5', {
      action: 'command_event',
      es_action: 'cluster:admin/xpack/ml/job/close',
      targets: ['_command_event'],
      params: { method: 'POST', path: '/_ml/anomaly_detectors/a/_close' },
      status: 'running',
    });
    table([task]);
    ddb.on(UpdateCommand).resolves({ Attributes: { ...task, outcomes: { _command_event: { status: 'failed', finished_ms: 1, error_json: '{}' } } } });
    ddb.on(TransactWriteCommand).resolves({});

    expect(await requeuePendingCommands()).toBe(0);

    expect(sqs).not.toHaveReceivedCommand(SendMessageBatchCommand);
    // One target: its outcome and the command's status are one transaction (lib/store/commands.ts#recordOutcome).
    expect(ddb).toHaveReceivedCommandWith(TransactWriteCommand, {
      TransactItems: expect.arrayContaining([
        {
          Update: expect.objectContaining({
            Key: keys.command('5'),
            ExpressionAttributeValues: {
              ':o': expect.objectContaining({ status: 'failed', error_json: expect.stringContaining('mlplane stopped before the outcome of this command event was recorded') }),
              ':s': 'failed',
            },
          }),
        },
      ]),
    });
  });
});
