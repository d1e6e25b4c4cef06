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
  const queueUrl = config().commandQueueUrl;
  for (let i = 0; i < targets.length; i += 10) {
    const entries = targets.slice(i, i + 10).map((target, n) => {
      const body: CommandMessage = { command_id: commandId, target };
      return {
        Id: String(n),
        MessageBody: JSON.stringify(body),
        MessageGroupId: messageGroupId(target),
        MessageDeduplicationId: `${commandId}-${target}`.slice(0, 128).replace(/[^A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g, '_'),
      };
    });
    const out = await sqs().send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
    if (out.Failed && out.Failed.length > 0) {
      throw new Error(`SQS refused ${out.Failed.length} command messages: ${out.Failed.map((f) => f.Message).join('; ')}`);
    }
  }
}
