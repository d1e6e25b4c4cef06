import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { sqsWorker } from '../../../lib/worker/chain.ts';

const record = (id: string, group: string, receives = '1'): SQSRecord =>
  ({
    messageId: id,
    receiptHandle: id,
    body: '{}',
    attributes: { MessageGroupId: group, ApproximateReceiveCount: receives, SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:commands.fifo',
    awsRegion: 'us-east-1',
  }) as SQSRecord;

const context = (remaining = 60_000) => ({ getRemainingTimeInMillis: () => remaining }) as unknown as Context;

describe('the SQS FIFO worker chain', () => {
  it('reports nothing when every record succeeds', async () => {
    const seen: string[] = [];
    const handler = sqsWorker(async (r) => {
      seen.push(r.messageId);
    });
    const out = await handler({ Records: [record('1', 'job/a'), record('2', 'job/b')] } as SQSEvent, context());
    expect(out).toEqual({ batchItemFailures: [] });
    expect(seen).toEqual(['1', '2']);
  });

  it('a failed record fails the rest of its group but not other groups', async () => {
    const seen: string[] = [];
    const handler = sqsWorker(async (r) => {
      seen.push(r.messageId);
      if (r.messageId === '2') throw new Error('boom');
    });
    const out = await handler({ Records: [record('1', 'job/a'), record('2', 'job/a'), record('3', 'job/b'), record('4', 'job/a'), record('5', 'job/b')] } as SQSEvent, context());
    expect(out.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['2', '4']);
    expect(seen).toEqual(['1', '2', '3', '5']);
  });

  it('hands records back undone when the function is about to time out', async () => {
    const seen: string[] = [];
    const handler = sqsWorker(async (r) => {
      seen.push(r.messageId);
    });
    const out = await handler({ Records: [record('1', 'job/a')] } as SQSEvent, context(1_000));
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: '1' }]);
    expect(seen).toEqual([]);
  });

  it('reports records handed back on their last receive to onAbandon, and only those', async () => {
    const abandoned: string[] = [];
    const handler = sqsWorker(
      async (r) => {
        if (r.messageId === '1') throw new Error('boom');
      },
      { maxReceiveCount: 5, onAbandon: async (r, why) => void abandoned.push(`${r.messageId}:${why}`) },
    );
    const out = await handler({ Records: [record('1', 'job/a', '5'), record('2', 'job/a', '5'), record('3', 'job/a', '4')] } as SQSEvent, context());
    expect(out.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['1', '2', '3']);
    expect(abandoned).toEqual(['2:group_failed']);
  });

  it('reports a record handed back for lack of time on its last receive to onAbandon as out_of_time', async () => {
    const abandoned: string[] = [];
    const handler = sqsWorker(async () => {}, { maxReceiveCount: 5, onAbandon: async (r, why) => void abandoned.push(`${r.messageId}:${why}`) });
    const out = await handler({ Records: [record('1', 'job/a', '5'), record('2', 'job/b', '2')] } as SQSEvent, context(1_000));
    expect(out.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['1', '2']);
    expect(abandoned).toEqual(['1:out_of_time']);
  });

  it('answers a batch whose every record fails with all of them listed instead of throwing', async () => {
    const handler = sqsWorker(async () => {
      throw new Error('boom');
    });
    const out = await handler({ Records: [record('1', 'job/a'), record('2', 'job/b')] } as SQSEvent, context());
    expect(out.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['1', '2']);
  });
});
