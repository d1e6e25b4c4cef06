import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { WatchWriteConflict } from '../../../lib/domain/errors.ts';
import type { WatchConfig, WatchStatus } from '../../../lib/domain/watcher/types.ts';

process.env.TABLE_NAME = 'watches-table';
process.env.COMMAND_QUEUE_URL = 'http://sqs.local/queue/commands.fifo';
const ddb = mockClient(DynamoDBDocumentClient);
const { putWatch, putStatus, deleteWatch, readWatchItem } = await import('../../../lib/store/watches.ts');

const watch: WatchConfig = {
  trigger: { schedule: { type: 'interval', value: '5m' } },
  input: { type: 'none', body: {} },
  condition: { type: 'always', body: {} },
  actions: [{ id: 'log', type: 'logging', body: { text: 'hi' } }],
};
const status: WatchStatus = { state: { active: true, timestamp: 1000 }, actions: { log: { ack: { timestamp: 1000, state: 'awaits_successful_execution' } } } };
const item = (version: number, seqNo: number) => ({
  pk: 'watches',
  sk: 'watch#w',
  watch: JSON.stringify(watch),
  status: JSON.stringify(status),
  version,
  seq_no: seqNo,
  primary_term: 1,
});
const conditionFailed = (old?: Record<string, unknown>) => Object.assign(new ConditionalCheckFailedException({ message: 'failed', $metadata: {} }), old ? { Item: old } : {});

beforeEach(() => ddb.reset());

describe('putting a watch', () => {
  it('increments _version and _seq_no in the write itself and reports creation at version 1', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: item(1, 0) });
    const { stored, created } = await putWatch('w', watch, status, { kind: 'any' });
    expect(created).toBe(true);
    expect(stored).toMatchObject({ id: 'w', version: 1, seqNo: 0, primaryTerm: 1, watch, status });
    const input = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.Key).toEqual({ pk: 'watches', sk: 'watch#w' });
    expect(input?.UpdateExpression).toContain('version = if_not_exists(version, :zero) + :one');
    expect(input?.ConditionExpression).toBeUndefined();
  });

  it('with an expected seq_no is conditional and reports what is stored on conflict', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed({ version: { N: '4' }, seq_no: { N: '3' }, primary_term: { N: '1' } }));
    const err = await putWatch('w', watch, status, { kind: 'seq_no', seqNo: 1, primaryTerm: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WatchWriteConflict);
    expect((err as WatchWriteConflict).current).toEqual({ version: 4, seqNo: 3, primaryTerm: 1 });
    expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input.ConditionExpression).toBe('seq_no = :eseq AND primary_term = :ept');
  });

  it('a create expects no watch and reports the existing one on conflict', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed({ version: { N: '2' }, seq_no: { N: '1' }, primary_term: { N: '1' } }));
    const err = await putWatch('w', watch, status, { kind: 'absent' }).catch((e: unknown) => e);
    expect((err as WatchWriteConflict).current).toEqual({ version: 2, seqNo: 1, primaryTerm: 1 });
    expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input.ConditionExpression).toBe('attribute_not_exists(pk)');
  });

  it('a conflict on a missing watch has no current document', async () => {
    ddb.on(UpdateCommand).rejects(conditionFailed());
    const err = await putWatch('w', watch, status, { kind: 'version', version: 2 }).catch((e: unknown) => e);
    expect((err as WatchWriteConflict).current).toBeUndefined();
  });
});

describe('writing a status', () => {
  it('is guarded by the seq_no read before and bumps both counters', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: item(3, 2) });
    const stored = await putStatus('w', status, 1);
    expect(stored.version).toBe(3);
    const input = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.ConditionExpression).toBe('seq_no = :eseq');
    expect(input?.ExpressionAttributeValues?.[':eseq']).toBe(1);
  });
});

describe('deleting and reading', () => {
  it('delete returns the old watch or undefined', async () => {
    ddb.on(DeleteCommand).resolves({ Attributes: item(2, 1) });
    expect((await deleteWatch('w'))?.version).toBe(2);
    ddb.on(DeleteCommand).resolves({});
    expect(await deleteWatch('w')).toBeUndefined();
  });

  it('reads the running marker back', () => {
    expect(readWatchItem({ ...item(1, 0), running_since_ms: 5 }).runningSinceMs).toBe(5);
    expect(() => readWatchItem({ sk: 'watch#w' })).toThrow();
  });
});
