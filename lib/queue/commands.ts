import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { messageGroupId, type CommandMessage } from '../domain/command.ts';
import { config } from '../runtime/config.ts';

let client: SQSClient | undefined;

/** The process-wide SQS client (default provider chain; `AWS_ENDPOINT_URL_SQS` locally). */
export function sqs(): SQSClient {
  client ??= new SQSClient({ maxAttempts: 5 });
  return client;
}

/**
 * Sends one FIFO message per target of a command: `MessageGroupId` = the target's entity
 * (`job/<id>`), `MessageDeduplicationId` = command id + target, so a retried send within
 * SQS's 5-minute deduplication window is delivered once.
 * @throws Error when SQS rejects any entry after the SDK's retries.
 */
export async function enqueueCommand(commandId: string, targets: string[]): Promise<void> {
  await sendCommandMessages(
    commandId,
    targets.map((target) => ({ target, deduplicationId: `${commandId}-${target}` })),
  );
}

/**
 * Hands a command's target on to a new message in the same FIFO group (`job/<id>`), for
 * work that takes more than one invocation (a close that ran short of time): the worker
 * sends it and then completes the message it was working on, so the work resumes in a
 * fresh invocation without spending a delivery of its redrive budget.
 *
 * The body is the same command message: the target's progress is saved on the entity, so
 * the continuation resumes at its first unfinished step. Its deduplication id names the
 * message it continues (`continuedMessageId`, SQS's message id): a redelivery of that
 * message that hands on again is deduplicated, while each continuation of a continuation
 * gets an id of its own. A continuation of a message re-queued after upgrade mode (`resumed`)
 * keeps the mark, so it still runs ahead of the messages of its group parked behind it.
 * @throws Error when SQS rejects the message after the SDK's retries.
 */
export async function enqueueContinuation(commandId: string, target: string, continuedMessageId: string, resumed?: true): Promise<void> {
  await sendCommandMessages(commandId, [{ target, deduplicationId: `${commandId}-${continuedMessageId}-${target}`, ...(resumed ? { resumed } : {}) }]);
}

/**
 * Re-queues a message that upgrade mode parked, marked `resumed` so it runs ahead of newer
 * messages of its group parked behind it. The deduplication id names the parked item, so a
 * retried re-queue of the same item is delivered once.
 * @throws Error when SQS rejects the message after the SDK's retries.
 */
export async function enqueueResumed(commandId: string, target: string, parkedKey: string): Promise<void> {
  await sendCommandMessages(commandId, [{ target, deduplicationId: `resume-${parkedKey}`, resumed: true }]);
}

/** SQS's allowed characters of a deduplication id (at most 128 of them). */
const deduplicationId = (id: string): string => id.slice(0, 128).replace(/[^A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g, '_');

async function sendCommandMessages(commandId: string, messages: { target: string; deduplicationId: string; resumed?: true }[]): Promise<void> {
  const queueUrl = config().commandQueueUrl;
  for (let i = 0; i < messages.length; i += 10) {
    const entries = messages.slice(i, i + 10).map(({ target, deduplicationId: dedup, resumed }, n) => {
      const body: CommandMessage = { command_id: commandId, target, ...(resumed ? { resumed } : {}) };
      return {
        Id: String(n),
        MessageBody: JSON.stringify(body),
        MessageGroupId: messageGroupId(target),
        MessageDeduplicationId: deduplicationId(dedup),
      };
    });
    const out = await sqs().send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
    if (out.Failed && out.Failed.length > 0) {
      throw new Error(`SQS refused ${out.Failed.length} command messages: ${out.Failed.map((f) => f.Message).join('; ')}`);
    }
  }
}
