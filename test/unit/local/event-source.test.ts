import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { settleBatch, startEventSource, type EventSource } from '../../../lib/local/event-source.ts';
import { createLocalSqsClient } from '../../../lib/local/sqs.ts';

const record = (id: string, group?: string): SQSRecord => ({
  messageId: id,
  receiptHandle: `rh-${id}`,
  body: id,
  attributes: {
    ApproximateReceiveCount: '1',
    SentTimestamp: '0',
    SenderId: '0',
    ApproximateFirstReceiveTimestamp: '0',
    ...(group ? { MessageGroupId: group } : {}),
  },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn',
  awsRegion: 'us-east-1',
});
const ids = (rs: SQSRecord[]) => rs.map((r) => r.messageId);

describe('settleBatch', () => {
  const batch = [record('a1', 'A'), record('b1', 'B'), record('a2', 'A'), record('b2', 'B'), record('a3', 'A')];

  it('deletes everything when the handler reports no failures', () => {
    for (const response of [undefined, null, {}, { batchItemFailures: [] }]) {
      const s = settleBatch(batch, { kind: 'returned', response: response as SQSBatchResponse }, true);
      expect(ids(s.delete)).toEqual(['a1', 'b1', 'a2', 'b2', 'a3']);
      expect(s.retry).toEqual([]);
    }
  });

  it('deletes nothing when the handler threw', () => {
    const s = settleBatch(batch, { kind: 'failed' }, true);
    expect(s.delete).toEqual([]);
    expect(s.wholeBatch).toBe('threw');
  });

  it('on a FIFO queue keeps a failed message and every later message of its group, and deletes the other groups', () => {
    const s = settleBatch(batch, { kind: 'returned', response: { batchItemFailures: [{ itemIdentifier: 'a2' }] } }, true);
    expect(ids(s.retry)).toEqual(['a2', 'a3']);
    expect(ids(s.delete)).toEqual(['a1', 'b1', 'b2']);
  });

  it('on a standard queue keeps only the reported failures', () => {
    const s = settleBatch(batch, { kind: 'returned', response: { batchItemFailures: [{ itemIdentifier: 'a2' }] } }, false);
    expect(ids(s.retry)).toEqual(['a2']);
  });

  it('retries the whole batch when an itemIdentifier is empty or not in the batch', () => {
    for (const bad of ['', 'zzz']) {
      const s = settleBatch(batch, { kind: 'returned', response: { batchItemFailures: [{ itemIdentifier: bad }] } }, true);
      expect(s.delete).toEqual([]);
      expect(s.wholeBatch).toBe('invalid-response');
    }
  });
});

/** Polls `check` until it returns true or the deadline passes (then fails with `what`). */
async function waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('startEventSource against fauxqs', () => {
  let fauxqs: FauxqsServer;
  let client: SQSClient;
  let source: EventSource | undefined;

  beforeAll(async () => {
    fauxqs = await startFauxqs({ port: 0, logger: false });
    client = createLocalSqsClient(`http://127.0.0.1:${fauxqs.port}`, 'us-east-1');
  });
  afterEach(async () => {
    await source?.stop();
    source = undefined;
  });
  afterAll(async () => {
    client.destroy();
    await fauxqs.stop();
  });

  /** A fresh FIFO queue with a FIFO DLQ after `maxReceiveCount` receives. */
  const queues = (maxReceiveCount = 3) => {
    const name = `q-${randomUUID().slice(0, 8)}`;
    const dlq = fauxqs.createQueue(`${name}-dlq.fifo`, { attributes: { FifoQueue: 'true' } });
    const q = fauxqs.createQueue(`${name}.fifo`, {
      attributes: {
        FifoQueue: 'true',
        VisibilityTimeout: '360',
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.queueArn, maxReceiveCount }),
      },
    });
    return { q, dlq };
  };
  const send = (url: string, body: string, group: string) =>
    client.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: body,
        MessageGroupId: group,
        MessageDeduplicationId: randomUUID(),
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'test' } },
      }),
    );
  const remaining = (name: string) => {
    const i = fauxqs.inspectQueue(name)!;
    return i.messages.ready.length + i.messages.inflight.length + i.messages.delayed.length;
  };
  const start = (q: { queueUrl: string; queueArn: string }, handler: (e: SQSEvent, c: Context) => Promise<SQSBatchResponse | void>) =>
    (source = startEventSource({
      client,
      queue: { url: q.queueUrl, arn: q.queueArn },
      region: 'us-east-1',
      handler,
      pollers: 2,
      visibilityTimeoutSeconds: 1,
      timeoutMs: 5000,
    }));

  it('delivers Lambda-shaped records and deletes every message the handler does not report', async () => {
    const { q } = queues();
    const got: SQSRecord[] = [];
    let remainingMs = 0;
    start(q, async (event, context) => {
      got.push(...event.Records);
      remainingMs = context.getRemainingTimeInMillis();
    });
    await send(q.queueUrl, 'one', 'job/a');
    await send(q.queueUrl, 'two', 'job/b');
    await send(q.queueUrl, 'three', 'job/c');
    await waitFor('three deliveries', () => got.length === 3);
    await waitFor('the queue to be empty', () => remaining(q.queueName) === 0);
    expect(got.map((r) => r.body).sort()).toEqual(['one', 'three', 'two']);
    const r = got.find((x) => x.body === 'one')!;
    expect(r).toMatchObject({
      eventSource: 'aws:sqs',
      eventSourceARN: q.queueArn,
      awsRegion: 'us-east-1',
      attributes: { ApproximateReceiveCount: '1', MessageGroupId: 'job/a' },
      messageAttributes: { kind: { stringValue: 'test', dataType: 'String' } },
    });
    expect(r.attributes.SequenceNumber).toMatch(/^\d+$/);
    expect(r.attributes.MessageDeduplicationId).toBeTruthy();
    expect(r.md5OfBody).toMatch(/^[0-9a-f]{32}$/);
    expect(remainingMs).toBeGreaterThan(0);
    expect(remainingMs).toBeLessThanOrEqual(5000);
  });

  it('redelivers a reported failure before the rest of its group, while other groups go on', async () => {
    const { q } = queues();
    const log: string[] = [];
    let failedOnce = false;
    start(q, async (event) => {
      const failures: SQSBatchResponse['batchItemFailures'] = [];
      for (const r of event.Records) {
        log.push(`${r.body}#${r.attributes.ApproximateReceiveCount}`);
        if (r.body === 'a1' && !failedOnce) {
          failedOnce = true;
          failures.push({ itemIdentifier: r.messageId });
        }
      }
      return { batchItemFailures: failures };
    });
    await send(q.queueUrl, 'a1', 'A');
    await send(q.queueUrl, 'a2', 'A');
    await send(q.queueUrl, 'b1', 'B');
    await waitFor('a2 to be processed', () => log.some((l) => l.startsWith('a2')));
    await waitFor('the queue to be empty', () => remaining(q.queueName) === 0);
    const groupA = log.filter((l) => l.startsWith('a'));
    expect(groupA).toEqual(['a1#1', 'a1#2', 'a2#1']);
    expect(log.filter((l) => l.startsWith('b'))).toEqual(['b1#1']);
  });

  it('redelivers the whole batch when the handler throws', async () => {
    const { q } = queues();
    const seen: string[] = [];
    let threw = false;
    start(q, async (event) => {
      for (const r of event.Records) seen.push(`${r.body}#${r.attributes.ApproximateReceiveCount}`);
      if (!threw) {
        threw = true;
        throw new Error('boom');
      }
    });
    await send(q.queueUrl, 'x', 'X');
    await waitFor('a second delivery of x', () => seen.includes('x#2'));
    await waitFor('the queue to be empty', () => remaining(q.queueName) === 0);
    expect(seen).toEqual(['x#1', 'x#2']);
  });

  it('moves a message that keeps failing to the DLQ after maxReceiveCount receives', async () => {
    const { q, dlq } = queues(2);
    let deliveries = 0;
    start(q, async (event) => {
      deliveries += event.Records.length;
      return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
    });
    await send(q.queueUrl, 'poison', 'P');
    await waitFor('the message in the DLQ', () => fauxqs.inspectQueue(dlq.queueName)!.messages.ready.length === 1, 15_000);
    expect(fauxqs.inspectQueue(dlq.queueName)!.messages.ready[0]!.body).toBe('poison');
    expect(remaining(q.queueName)).toBe(0);
    expect(deliveries).toBe(2);
  });

  it('stop waits for the batch in flight and still deletes it', async () => {
    const { q } = queues();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started = false;
    const es = start(q, async () => {
      started = true;
      await gate;
    });
    await send(q.queueUrl, 'slow', 'S');
    await waitFor('the handler to start', () => started);
    let stopped = false;
    const stopping = es.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(stopped).toBe(false);
    expect(es.inFlight).toBe(1);
    release();
    await stopping;
    expect(remaining(q.queueName)).toBe(0);
  });
});
