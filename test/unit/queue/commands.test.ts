import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';

process.env.TABLE_NAME = 'test-table';
process.env.COMMAND_QUEUE_URL = 'http://sqs.local/000000000000/commands.fifo';
const sqs = mockClient(SQSClient);
const { enqueueCommand } = await import('../../../lib/queue/commands.ts');

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
    await enqueueCommand('7', Array.from({ length: 23 }, (_, i) => `j${i}`));
    expect(sqs).toHaveReceivedCommandTimes(SendMessageBatchCommand, 3);
  });

  it('throws when SQS refuses an entry, so the caller does not report a command that was never queued', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [{ Id: '0', SenderFault: true, Code: 'InvalidParameterValue', Message: 'bad' }] });
    await expect(enqueueCommand('1', ['x'])).rejects.toThrow('SQS refused 1 command messages: bad');
  });
});
