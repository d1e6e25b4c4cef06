import { EsError, TransientError } from '../domain/errors.ts';

/**
 * Names of AWS SDK errors that a later attempt can cure although some of them are client
 * faults: throttling and capacity, transaction races, expired credentials, timeouts.
 */
const TRANSIENT_AWS_ERRORS = new Set([
  'ThrottlingException',
  'Throttling',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'LimitExceededException',
  'TooManyRequestsException',
  'TransactionConflictException',
  'TransactionInProgressException',
  'ConditionalCheckFailedException',
  'InternalServerError',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'ExpiredToken',
  'ExpiredTokenException',
  'CredentialsProviderError',
  'TimeoutError',
  'AbortError',
]);

/** `TransactionCanceledException` reasons a retry can cure; `ValidationError` (e.g. an item too large) and the rest cannot. */
const TRANSIENT_CANCELLATION_CODES = new Set(['None', 'ConditionalCheckFailed', 'TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded']);

/** Node socket and DNS error codes of a network that may come back. */
const NETWORK_CODES = /^(ECONNRESET|ECONNREFUSED|ECONNABORTED|ETIMEDOUT|EPIPE|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ENETDOWN|ENOTFOUND|UND_ERR_\w+)$/;

interface SdkErrorShape {
  name?: string;
  code?: string;
  $fault?: 'client' | 'server';
  $retryable?: { throttling?: boolean };
  $metadata?: { httpStatusCode?: number };
  CancellationReasons?: { Code?: string }[];
}

/**
 * Whether a failure of a command's execution may go away on a later delivery, so the
 * message is handed back for redelivery: our own `TransientError`s (lost races,
 * `StaleStateError`, unprocessed batch writes, missing chunks of a model being replaced),
 * a close deferred for lack of time, and AWS SDK errors that are server faults, retryable,
 * throttling, timeouts, expired credentials or network failures.
 *
 * Everything else fails the same way on every delivery and is permanent: Elasticsearch
 * errors, a malformed message (`ZodError`, `SyntaxError`), programming errors
 * (`TypeError`, `RangeError`), and AWS client faults such as DynamoDB's
 * `ValidationException` "Item size has exceeded the maximum allowed size" or a
 * `TransactionCanceledException` whose reasons include `ValidationError`. Retrying those
 * would only hold the job's FIFO group for the queue's whole redrive span.
 */
export function isTransientFailure(err: unknown): boolean {
  if (err instanceof EsError) return false;
  // TransientError covers WorkDeferred (a close deferred for lack of time) and StaleStateError.
  if (err instanceof TransientError) return true;
  if (err === null || typeof err !== 'object') return false;
  const e = err as SdkErrorShape;
  if (typeof e.code === 'string' && NETWORK_CODES.test(e.code)) return true;
  if (e.name === 'TransactionCanceledException') {
    const codes = (e.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
    return codes.every((c) => TRANSIENT_CANCELLATION_CODES.has(c));
  }
  if (e.name !== undefined && TRANSIENT_AWS_ERRORS.has(e.name)) return true;
  if (e.$retryable !== undefined) return true;
  if (e.$fault === 'server') return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  return false;
}
