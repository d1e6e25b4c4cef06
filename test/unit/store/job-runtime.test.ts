import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { newJobRuntime } from '../../../lib/domain/state.ts';

process.env.TABLE_NAME = 'test-table';
process.env.COMMAND_QUEUE_URL = 'http://sqs.local/queue/commands.fifo';
const ddb = mockClient(DynamoDBDocumentClient);
const { getJobRuntime } = await import('../../../lib/store/jobs.ts');

describe('a job runtime item read back from the store', () => {
  beforeEach(() => ddb.reset());

  it('comes back as it was written', async () => {
    const rt = { ...newJobRuntime('a', 5), state: 'closing' as const, close: { command_id: '9', next: 2 }, version: 3 };
    ddb.on(GetCommand).resolves({ Item: { data: JSON.stringify(rt) } });
    await expect(getJobRuntime('a')).resolves.toEqual(rt);
  });

  it('is refused when it is not a runtime item', async () => {
    ddb.on(GetCommand).resolves({ Item: { data: JSON.stringify({ ...newJobRuntime('a', 5), state: 'paused' }) } });
    await expect(getJobRuntime('a')).rejects.toBeInstanceOf(ZodError);
    ddb.on(GetCommand).resolves({ Item: { data: JSON.stringify({ ...newJobRuntime('a', 5), version: undefined }) } });
    await expect(getJobRuntime('a')).rejects.toBeInstanceOf(ZodError);
    ddb.on(GetCommand).resolves({ Item: { data: 42 } });
    await expect(getJobRuntime('a')).rejects.toBeInstanceOf(ZodError);
  });

  it('is undefined when there is none', async () => {
    ddb.on(GetCommand).resolves({});
    await expect(getJobRuntime('a')).resolves.toBeUndefined();
  });
});
