import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
  BatchWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { deflateRawSync } from 'node:zlib';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Command } from '../../../lib/domain/command.ts';
import { keys } from '../../../lib/store/keys.ts';

process.env.TABLE_NAME = 'test-table';
process.env.COMMAND_QUEUE_URL = 'http://sqs.local/queue/commands.fifo';
const ddb = mockClient(DynamoDBDocumentClient);
const { recordOutcome, markRunning, putCommand, rollUpStatus, listUnfinishedCommands, getCommandPayload } = await import('../../../lib/store/commands.ts');

const cmd = (targets: string[], id = '123'): Command => ({
  command_id: id,
  task_id: `n:${id}`,
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
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('marks the command done when the last target lands, failed when any failed, and drops its pending marker with it', async () => {
    ddb.on(UpdateCommand).resolves({
      Attributes: { ...cmd(['a', 'b']), outcomes: { a: { status: 'done', finished_ms: 1 }, b: { status: 'failed', finished_ms: 2 } } },
    });
    await recordOutcome(cmd(['a', 'b']), 'b', { status: 'failed', finished_ms: 2 });
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 1);
    expect(ddb).toHaveReceivedCommandWith(TransactWriteCommand, {
      TransactItems: [
        { Update: expect.objectContaining({ Key: keys.command('123'), ExpressionAttributeValues: { ':s': 'failed' } }) },
        { Delete: { TableName: 'test-table', Key: keys.pendingCommand('123') } },
      ],
    });
  });

  it('a roll-up of a command already finished writes nothing', async () => {
    await rollUpStatus({ ...cmd(['a']), status: 'done', outcomes: { a: { status: 'done', finished_ms: 1 } } });
    expect(ddb).not.toHaveReceivedAnyCommand();
  });

  it('treats a lost race on the outcome as a no-op', async () => {
    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
    await expect(recordOutcome(cmd(['a', 'b']), 'a', { status: 'done', finished_ms: 1 })).resolves.toBeUndefined();
    await expect(markRunning('123')).resolves.toBeUndefined();
    expect(ddb).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('records the only target’s outcome, the status and the marker’s removal in one transaction', async () => {
    await recordOutcome(cmd(['a']), 'a', { status: 'failed', finished_ms: 1 });
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
    expect(ddb).toHaveReceivedCommandWith(TransactWriteCommand, {
      TransactItems: [
        {
          Update: expect.objectContaining({
            Key: keys.command('123'),
            UpdateExpression: 'SET outcomes.#t = :o, #s = :s',
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(outcomes.#t)',
            ExpressionAttributeValues: { ':o': { status: 'failed', finished_ms: 1 }, ':s': 'failed' },
          }),
        },
        { Delete: { TableName: 'test-table', Key: keys.pendingCommand('123') } },
      ],
    });
  });

  it('treats a lost race on the only target’s outcome as a no-op', async () => {
    ddb
      .on(TransactWriteCommand)
      .rejects(new TransactionCanceledException({ message: 'cancelled', $metadata: {}, CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }] }));
    await expect(recordOutcome(cmd(['a']), 'a', { status: 'done', finished_ms: 1 })).resolves.toBeUndefined();
  });

  it('stores a new command and its pending marker in one transaction, the command conditionally', async () => {
    expect(await putCommand({ ...cmd(['a'], '1700000000000123'), created_ms: 5, expires_at: 9 })).toBe(true);
    expect(ddb).toHaveReceivedCommandWith(TransactWriteCommand, {
      TransactItems: [
        { Put: expect.objectContaining({ ConditionExpression: 'attribute_not_exists(pk)', Item: expect.objectContaining(keys.command('1700000000000123')) }) },
        { Put: { TableName: 'test-table', Item: { ...keys.pendingCommand('1700000000000123'), command_id: '1700000000000123', created_ms: 5, expires_at: 9 } } },
      ],
    });
    expect(keys.pendingCommand('1700000000000123').pk).toMatch(/^pending#[0-3]$/);
  });

  it('stores a payload Brotli-compressed, in fewer bytes than DEFLATE did, and reads it back as it was posted', async () => {
    const written: { data: Uint8Array; sk: string }[] = [];
    ddb.on(BatchWriteCommand).callsFake((input: { RequestItems: Record<string, { PutRequest: { Item: { data: Uint8Array; sk: string } } }[]> }) => {
      for (const r of input.RequestItems['test-table'] ?? []) written.push(r.PutRequest.Item);
      return {};
    });
    // The lookback's shape: one series, a record every 5 minutes.
    const body = Array.from({ length: 10_000 }, (_, n) =>
      JSON.stringify({ timestamp: 1767571200000 + n * 300_000, value: 100 + 10 * Math.sin((2 * Math.PI * n) / 288) + ((n * 7919) % 100) / 50 }),
    ).join('\n');
    const c = cmd(['a']);
    expect(await putCommand(c, body)).toBe(true);
    expect(c.payload_encoding).toBe('br');
    expect(c.payload_chunks).toBe(1);
    const stored = written.reduce((n, item) => n + item.data.length, 0);
    // What the DEFLATE level 1 of before stored, less a fifth at least (measured: 68 KB against 108 KB).
    expect(stored).toBeLessThan(deflateRawSync(body, { level: 1 }).length * 0.8);
    for (const item of written) ddb.on(GetCommand, { Key: { pk: keys.command(c.command_id).pk, sk: item.sk } }).resolves({ Item: item });
    expect(await getCommandPayload(c)).toBe(body);
  });

  it('reads the deflated payload of a command stored before payloads were Brotli', async () => {
    const body = '{"timestamp":1,"value":2}\n{"timestamp":3,"value":4}';
    const c: Command = { ...cmd(['a']), payload_chunks: 2, payload_nonce: 'n', payload_encoding: 'deflate-raw' };
    const z = deflateRawSync(body, { level: 1 });
    ddb.on(GetCommand, { Key: keys.commandPayloadChunk(c.command_id, 'n', 0) }).resolves({ Item: { data: z.subarray(0, 10) } });
    ddb.on(GetCommand, { Key: keys.commandPayloadChunk(c.command_id, 'n', 1) }).resolves({ Item: { data: z.subarray(10) } });
    expect(await getCommandPayload(c)).toBe(body);
  });

  it('reads the plain payload of a command stored before payloads were deflated', async () => {
    const c = { ...cmd(['a']), payload_chunks: 1, payload_nonce: 'n' };
    ddb.on(GetCommand, { Key: keys.commandPayloadChunk(c.command_id, 'n', 0) }).resolves({ Item: { data: Buffer.from('{"a":1}') } });
    expect(await getCommandPayload(c)).toBe('{"a":1}');
  });

  it('reports a taken command id as false', async () => {
    ddb
      .on(TransactWriteCommand)
      .rejects(new TransactionCanceledException({ message: 'cancelled', $metadata: {}, CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }] }));
    expect(await putCommand(cmd(['a']))).toBe(false);
  });
});

describe('listing the unfinished commands', () => {
  beforeEach(() => ddb.reset());

  const stored = (c: Command) => ({ Item: { ...keys.command(c.command_id), ...c } });
  const marker = (c: Command) => ({ ...keys.pendingCommand(c.command_id), command_id: c.command_id, created_ms: c.created_ms, expires_at: 0 });

  it('reads only the pending partitions, never scans, and returns exactly the unfinished commands oldest first', async () => {
    const queued = { ...cmd(['a'], '300'), created_ms: 30 };
    const running = { ...cmd(['b'], '100'), status: 'running' as const, created_ms: 10 };
    const done = { ...cmd(['c'], '200'), status: 'done' as const, created_ms: 20 };
    ddb.on(GetCommand, { Key: keys.pendingIndexComplete }).resolves({ Item: { ...keys.pendingIndexComplete } });
    ddb.on(GetCommand, { Key: keys.command('300') }).resolves(stored(queued));
    ddb.on(GetCommand, { Key: keys.command('100') }).resolves(stored(running));
    ddb.on(GetCommand, { Key: keys.command('200') }).resolves(stored(done));
    ddb.on(GetCommand, { Key: keys.command('400') }).resolves({});
    ddb.on(QueryCommand).resolves({ Items: [] });
    const markers = [queued, running, done, cmd(['d'], '400')].map(marker);
    for (const pk of keys.pendingPartitions) {
      ddb.on(QueryCommand, { ExpressionAttributeValues: { ':pk': pk } }).resolves({ Items: markers.filter((m) => m.pk === pk) });
    }

    const out = await listUnfinishedCommands();

    expect(out.map((c) => c.command_id)).toEqual(['100', '300']);
    expect(ddb).not.toHaveReceivedCommand(ScanCommand);
    expect(ddb).toHaveReceivedCommandTimes(QueryCommand, keys.pendingPartitions.length);
    // The markers of the finished and the expired command are cleaned up.
    expect(ddb).toHaveReceivedCommandTimes(DeleteCommand, 2);
    expect(ddb).toHaveReceivedCommandWith(DeleteCommand, { Key: keys.pendingCommand('200') });
    expect(ddb).toHaveReceivedCommandWith(DeleteCommand, { Key: keys.pendingCommand('400') });
  });

  it('on a table from before the index, scans once to backfill the markers, then marks the index complete', async () => {
    const legacy = { ...cmd(['a'], '500'), status: 'running' as const, created_ms: 50, expires_at: 99 };
    let backfilled = 0;
    ddb.on(GetCommand, { Key: keys.pendingIndexComplete }).resolves({});
    ddb
      .on(ScanCommand)
      .resolvesOnce({ Items: [], LastEvaluatedKey: { pk: 'x', sk: 'y' } })
      .resolves({ Items: [{ command_id: '500', created_ms: 50, expires_at: 99 }] });
    ddb.on(BatchWriteCommand).resolves({});
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(QueryCommand, { ExpressionAttributeValues: { ':pk': keys.pendingCommand('500').pk } }).resolves({ Items: [marker(legacy)] });
    ddb.on(GetCommand, { Key: keys.command('500') }).resolves(stored(legacy));

    const out = await listUnfinishedCommands({ onBackfill: () => backfilled++ });

    expect(out.map((c) => c.command_id)).toEqual(['500']);
    expect(backfilled).toBe(1);
    expect(ddb).toHaveReceivedCommandTimes(ScanCommand, 2);
    expect(ddb).toHaveReceivedCommandWith(BatchWriteCommand, {
      RequestItems: { 'test-table': [{ PutRequest: { Item: { ...marker(legacy), expires_at: 99 } } }] },
    });
    expect(ddb).toHaveReceivedCommandWith(PutCommand, { Item: expect.objectContaining(keys.pendingIndexComplete) });
  });
});
