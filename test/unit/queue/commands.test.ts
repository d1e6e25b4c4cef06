import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';

process.env.TABLE_NAME = 'test-table';
process.env.COMMAND_QUEUE_URL = 'http://sqs.local/000000000000/commands.fifo';
const sqs = mockClient(SQSClient);
const { enqueueCommand, enqueueContinuation } = await import('../../../lib/queue/commands.ts');

describe('the command queue adapter', () => {
  beforeEach(() => sqs.reset());

  it('sends one FIFO message per target, grouped by job, deduplicated by command and target', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    await enqueueCommand('42', ['job-a', 'job-b']);
    expect(sqs).toHaveReceivedCommandWith(SendMessageBatchCommand, {
      QueueUrl: 'http://sqs.local/000000000000/commands.fifo',
      Entries: [
        { Id: '0', MessageBody: '{"command_id":"42","target":"job-a"}', MessageGroupId: 'job/job-a', MessageDeduplicationId: '42-job-a' },
        { Id: '1', MessageBody: '{"command_id":"42","target":"job-b"}', MessageGroupId: 'job/job-b', MessageDeduplicationId: '42-job-b' },
      ],
    });
  });

  it('splits more than ten targets into batches of ten', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    await enqueueCommand(
      '7',
      Array.from({ length: 23 }, (_, i) => `j${i}`),
    );
    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 3);
  });

  it('throws when SQS refuses an entry, so the caller does not report a command that was never queued', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [{ Id: '0', SenderFault: true, Code: 'InvalidParameterValue', Message: 'bad' }] });
    await expect(enqueueCommand('1', ['x'])).rejects.toThrow('SQS refused 1 command messages: bad');
  });

  it('hands a command on in the same group with the same body, deduplicated by the message it continues', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    await enqueueContinuation('42', 'job-a', '0b7c1e2a-5f3d-4a8e-9c6b-1d2e3f4a5b6c');
    await enqueueContinuation('42', 'job-a', 'a1b2c3d4-0000-4000-8000-000000000001');
    const sent = sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.Entries?.[0]);
    expect(sent[0]).toEqual({
      Id: '0',
      MessageBody: '{"command_id":"42","target":"job-a"}',
      MessageGroupId: 'job/job-a',
      MessageDeduplicationId: '42-0b7c1e2a-5f3d-4a8e-9c6b-1d2e3f4a5b6c-job-a',
    });
    // Each continuation of a continuation is a new message, never deduplicated against the one before.
    expect(sent[1]?.MessageDeduplicationId).not.toBe(sent[0]?.MessageDeduplicationId);
    expect(sent[1]?.MessageDeduplicationId).not.toBe('42-job-a');
  });

  it("keeps a continuation id within SQS's 128 characters for the longest job id", async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const longest = 'j'.repeat(64);
    await enqueueContinuation('1764108000000000123', longest, '0b7c1e2a-5f3d-4a8e-9c6b-1d2e3f4a5b6c');
    const id = sqs.commandCalls(SendMessageBatchCommand)[0]!.args[0].input.Entries?.[0]?.MessageDeduplicationId ?? '';
    expect(id.length).toBeLessThanOrEqual(128);
    expect(id).toContain('0b7c1e2a-5f3d-4a8e-9c6b-1d2e3f4a5b6c');
  });
});
