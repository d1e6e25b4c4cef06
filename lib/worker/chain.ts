import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { logger } from '../runtime/log.ts';

/** Per-record processing; throwing means "not done, redeliver me". */
export type RecordProcessor = (record: SQSRecord, context: Context) => Promise<void>;

/** Milliseconds left at which a worker stops starting new records and hands them back. */
export const STOP_MARGIN_MS = 5_000;

/** Options of sqsWorker. */
export interface WorkerOptions {
  /** The queue's redrive maxReceiveCount: a record handed back at this receive goes to the DLQ. */
  maxReceiveCount?: number;
  /**
   * Called for a record that is handed back without being attempted (an earlier record of
   * its group failed, or time ran out) on its last receive, so its outcome can be recorded
   * before the DLQ takes it. Errors are logged.
   */
  onAbandon?: (record: SQSRecord, why: 'group_failed' | 'out_of_time') => Promise<void>;
}

/**
 * Builds an SQS FIFO worker with Lambda's partial batch response contract: each record is
 * processed on its own; a record that throws, and every later record of the same
 * MessageGroupId in the batch, is reported in `batchItemFailures` so per-entity order
 * holds on redelivery; records of other groups go on. Near the function's time limit no
 * new record is started (they are handed back undeleted). Records handed back on their
 * last receive are reported to `onAbandon` first.
 */
export function sqsWorker(processRecord: RecordProcessor, opts: WorkerOptions = {}) {
  const core = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const failedGroups = new Set<string>();
    const failures: { itemIdentifier: string }[] = [];
    for (const record of event.Records) {
      const group = record.attributes.MessageGroupId ?? record.messageId;
      const outOfTime = typeof context?.getRemainingTimeInMillis === 'function' && context.getRemainingTimeInMillis() < STOP_MARGIN_MS;
      if (failedGroups.has(group) || outOfTime) {
        failures.push({ itemIdentifier: record.messageId });
        const receives = Number(record.attributes.ApproximateReceiveCount ?? '1');
        if (opts.onAbandon && opts.maxReceiveCount !== undefined && receives >= opts.maxReceiveCount) {
          await opts.onAbandon(record, outOfTime ? 'out_of_time' : 'group_failed').catch((err: unknown) => logger.error('onAbandon failed', { messageId: record.messageId, err }));
        }
        continue;
      }
      try {
        await processRecord(record, context);
      } catch (err) {
        logger.error('command record failed; it will be redelivered', { messageId: record.messageId, group, err });
        failedGroups.add(group);
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures: failures };
  };
  return middy<SQSEvent, SQSBatchResponse, Error, Context>(core);
}
