import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { config } from '../runtime/config.ts';

let client: DynamoDBDocumentClient | undefined;

/**
 * The process-wide DynamoDB document client, created on first use (cold start) with the
 * default provider chain; `AWS_ENDPOINT_URL_DYNAMODB` points it at DynamoDB Local.
 * Undefined attributes are dropped, so optional keys of Elasticsearch documents vanish.
 */
export function db(): DynamoDBDocumentClient {
  client ??= DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 5 }), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  return client;
}

/** The table name from the runtime configuration. */
export const tableName = (): string => config().tableName;

/** True when an SDK error is a failed condition (plain or inside a transaction). */
export function isConditionFailure(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'ConditionalCheckFailedException') return true;
  if (err.name === 'TransactionCanceledException') {
    const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
    return reasons.some((r) => r.Code === 'ConditionalCheckFailed');
  }
  return false;
}
