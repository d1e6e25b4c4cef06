/**
 * The local stand-in for a Lambda SQS event source mapping with
 * `ReportBatchItemFailures`: pollers long-poll the queue, hand each batch to the
 * handler as an `SQSEvent`, and delete what the handler did not report as failed.
 * Failed or unreported messages stay on the queue: they come back after the visibility
 * timeout, and the queue's `RedrivePolicy` moves them to the DLQ after
 * `maxReceiveCount` receives, exactly as in AWS.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { commandQueue, workers } from '../runtime/topology.ts';
import { toSqsRecord } from './events.ts';
import { createLambdaContext, type SqsHandler } from './lambda.ts';

/** How an invocation ended: it returned (a response or nothing), or it threw / timed out. */
export type InvocationOutcome = { kind: 'returned'; response: SQSBatchResponse | void | null } | { kind: 'failed' };

/** Which records of a batch to delete and which to leave for redelivery, and why. */
export interface Settlement {
  delete: SQSRecord[];
  retry: SQSRecord[];
  /** Set when the whole batch is retried: `threw`, or `invalid-response`. */
  wholeBatch?: 'threw' | 'invalid-response';
}

/**
 * Lambda's partial batch response rules for one batch:
 * - the handler threw or timed out: nothing is deleted;
 * - it returned nothing, `null`, or no/empty `batchItemFailures`: everything is deleted;
 * - an `itemIdentifier` that is empty or not a message id of the batch, or a
 *   `batchItemFailures` that is not an array: the whole batch failed;
 * - otherwise the listed messages stay; on a FIFO queue, so does every later message of
 *   the same message group in the batch, so a group is never processed out of order.
 */
export function settleBatch(records: readonly SQSRecord[], outcome: InvocationOutcome, fifo: boolean): Settlement {
  if (outcome.kind === 'failed') return { delete: [], retry: [...records], wholeBatch: 'threw' };
  const response = outcome.response;
  if (response === undefined || response === null) return { delete: [...records], retry: [] };
  const failures: unknown = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return { delete: [...records], retry: [] };
  if (!Array.isArray(failures)) return { delete: [], retry: [...records], wholeBatch: 'invalid-response' };

  const ids = new Set(records.map((r) => r.messageId));
  const failed = new Set<string>();
  for (const f of failures as unknown[]) {
    const id = (f as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '' || !ids.has(id)) {
      return { delete: [], retry: [...records], wholeBatch: 'invalid-response' };
    }
    failed.add(id);
  }

  const stoppedGroups = new Set<string>();
  const out: Settlement = { delete: [], retry: [] };
  for (const r of records) {
    const group = r.attributes.MessageGroupId;
    const blocked = fifo && group !== undefined && stoppedGroups.has(group);
    if (failed.has(r.messageId) || blocked) {
      out.retry.push(r);
      if (fifo && group !== undefined) stoppedGroups.add(group);
    } else {
      out.delete.push(r);
    }
  }
  return out;
}

/** Options of {@link startEventSource}. */
export interface EventSourceOptions {
  /** A client with an explicit endpoint (see `createLocalSqsClient`). */
  client: SQSClient;
  queue: { url: string; arn: string };
  region: string;
  handler: SqsHandler;
  /** Name in the Lambda context (default `commands`). */
  functionName?: string;
  /** Function timeout in ms (default: `topology.workers.commands`); `getRemainingTimeInMillis()` counts down from it, and a batch still running at its end counts as failed. */
  timeoutMs?: number;
  memoryMiB?: number;
  /** Messages per batch, 1–10 (default: `topology.commandQueue.batchSize`). */
  batchSize?: number;
  /** Concurrent pollers (default 4). */
  pollers?: number;
  /** Long-poll wait per ReceiveMessage, in s (default 1: `stop()` returns within about that). */
  waitTimeSeconds?: number;
  /** Overrides the queue's visibility timeout on receive, in s (tests: redelivery in seconds, not minutes). */
  visibilityTimeoutSeconds?: number;
  /** FIFO rules for partial failures (default: the URL ends in `.fifo`). */
  fifo?: boolean;
  log?: (line: string) => void;
}

/** A running event source mapping. */
export interface EventSource {
  /** Batches being processed now. */
  readonly inFlight: number;
  /** Stops polling and resolves once in-flight batches are settled (at most one long-poll wait later). */
  stop(): Promise<void>;
}

/**
 * Starts `pollers` loops that each: ReceiveMessage (`MaxNumberOfMessages` = batch size,
 * long poll, all system and message attributes), build the `SQSEvent` (`toSqsRecord`),
 * invoke the handler with a Lambda context, and DeleteMessageBatch what
 * {@link settleBatch} says to delete. FIFO order per message group comes from the
 * queue's group lock. A failing ReceiveMessage is logged and retried after 500 ms.
 */
export function startEventSource(opts: EventSourceOptions): EventSource {
  const log = opts.log ?? (() => undefined);
  const functionName = opts.functionName ?? 'commands';
  const timeoutMs = opts.timeoutMs ?? workers.commands.timeoutSeconds * 1000;
  const batchSize = opts.batchSize ?? commandQueue.batchSize;
  const fifo = opts.fifo ?? opts.queue.url.endsWith('.fifo');
  const waitTimeSeconds = opts.waitTimeSeconds ?? 1;
  let running = true;
  let inFlight = 0;
  const wakeups = new Set<() => void>();

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        wakeups.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      wakeups.add(done);
    });

  const invoke = async (records: SQSRecord[]): Promise<InvocationOutcome> => {
    const context = createLambdaContext({
      functionName,
      timeoutMs,
      region: opts.region,
      memoryMiB: opts.memoryMiB ?? workers.commands.memoryMiB,
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const result = await Promise.race([opts.handler({ Records: records }, context), timedOut]);
      if (result === 'timeout') {
        log(`${functionName}: task timed out after ${timeoutMs} ms; ${records.length} message(s) will be redelivered`);
        return { kind: 'failed' };
      }
      return { kind: 'returned', response: result };
    } catch (err) {
      log(`${functionName}: handler threw; ${records.length} message(s) will be redelivered: ${(err as Error)?.stack ?? String(err)}`);
      return { kind: 'failed' };
    } finally {
      clearTimeout(timer);
    }
  };

  const processBatch = async (records: SQSRecord[]): Promise<void> => {
    const outcome = await invoke(records);
    const settlement = settleBatch(records, outcome, fifo);
    if (settlement.wholeBatch === 'invalid-response') {
      log(`${functionName}: invalid batch response; the whole batch of ${records.length} will be redelivered`);
    } else if (settlement.retry.length > 0 && !settlement.wholeBatch) {
      log(`${functionName}: ${settlement.retry.length} of ${records.length} message(s) will be redelivered`);
    }
    if (settlement.delete.length === 0) return;
    try {
      const out = await opts.client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: opts.queue.url,
          Entries: settlement.delete.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
        }),
      );
      for (const f of out.Failed ?? []) log(`${functionName}: delete failed for entry ${f.Id}: ${f.Code} ${f.Message ?? ''}`);
    } catch (err) {
      log(`${functionName}: DeleteMessageBatch failed (the messages will be redelivered): ${(err as Error).message}`);
    }
  };

  const poll = async (): Promise<void> => {
    while (running) {
      let records: SQSRecord[];
      try {
        const out = await opts.client.send(
          new ReceiveMessageCommand({
            QueueUrl: opts.queue.url,
            MaxNumberOfMessages: batchSize,
            WaitTimeSeconds: waitTimeSeconds,
            ...(opts.visibilityTimeoutSeconds !== undefined ? { VisibilityTimeout: opts.visibilityTimeoutSeconds } : {}),
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
        );
        records = (out.Messages ?? []).map((m) => toSqsRecord(m, { arn: opts.queue.arn, region: opts.region }));
      } catch (err) {
        if (!running) break;
        log(`${functionName}: ReceiveMessage failed: ${(err as Error).message}`);
        await pause(500);
        continue;
      }
      // Messages received while stopping are still processed: dropping them would hide them for a visibility timeout.
      if (records.length === 0) continue;
      inFlight++;
      try {
        await processBatch(records);
      } finally {
        inFlight--;
      }
    }
  };

  const loops = Array.from({ length: Math.max(1, opts.pollers ?? 4) }, () => poll());
  let stopped: Promise<void> | undefined;
  return {
    get inFlight() {
      return inFlight;
    },
    stop() {
      running = false;
      for (const wake of [...wakeups]) wake();
      stopped ??= Promise.all(loops).then(() => undefined);
      return stopped;
    },
  };
}
