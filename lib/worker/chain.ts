import { processPartialResponse, SqsFifoMessageGroupShortCircuitError, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { lambdaContext, logger } from '../runtime/log.ts';

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

/** Thrown for a record reached with less than {@link STOP_MARGIN_MS} left: handed back unattempted. */
class OutOfTimeError extends Error {
  override name = 'OutOfTimeError';
}

/**
 * Builds an SQS FIFO worker with Lambda's partial batch response contract, on Powertools'
 * `SqsFifoPartialProcessorAsync` with `skipGroupOnError`: each record is processed on its
 * own; a record that throws, and every later record of the same MessageGroupId in the
 * batch, is reported in `batchItemFailures` so per-entity order holds on redelivery;
 * records of other groups go on. A batch whose every record fails is answered with all of
 * them listed (`throwOnFullBatchFailure: false`), not by throwing, so the answer has one
 * shape. Near the function's time limit no new record is started (they are handed back
 * undeleted). Records handed back unattempted on their last receive are reported to
 * `onAbandon` once the batch is done, in batch order; a record both skipped for its group
 * and past the time limit is reported as `group_failed`.
 */
export function sqsWorker(processRecord: RecordProcessor, opts: WorkerOptions = {}) {
  const core = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const outOfTime = () => typeof context?.getRemainingTimeInMillis === 'function' && context.getRemainingTimeInMillis() < STOP_MARGIN_MS;
    const handleRecord = async (record: SQSRecord): Promise<void> => {
      if (outOfTime()) throw new OutOfTimeError('handed back: the function is about to time out');
      try {
        await processRecord(record, context);
      } catch (err) {
        logger.error('command record failed; it will be redelivered', { messageId: record.messageId, group: record.attributes?.MessageGroupId, err });
        throw err;
      }
    };
    // One processor per invocation: it holds the batch's state, and the local runner may overlap invocations.
    const processor = new SqsFifoPartialProcessorAsync();
    const response = await processPartialResponse(event, handleRecord, processor, { context, skipGroupOnError: true, throwOnFullBatchFailure: false });
    if (opts.onAbandon && opts.maxReceiveCount !== undefined) {
      const errors = processor.errors;
      for (const [i, failed] of processor.failureMessages.entries()) {
        const record = failed as SQSRecord;
        const err = errors[i];
        const why = err instanceof SqsFifoMessageGroupShortCircuitError ? 'group_failed' : err instanceof OutOfTimeError ? 'out_of_time' : undefined;
        if (!why || Number(record.attributes.ApproximateReceiveCount ?? '1') < opts.maxReceiveCount) continue;
        await opts.onAbandon(record, why).catch((e: unknown) => logger.error('onAbandon failed', { messageId: record.messageId, err: e }));
      }
    }
    return { batchItemFailures: response.batchItemFailures };
  };
  return middy<SQSEvent, SQSBatchResponse, Error, Context>(core).use(lambdaContext());
}
