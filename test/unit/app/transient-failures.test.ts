import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CloseDeferred } from '../../../lib/domain/errors.ts';
import { ConflictError, StaleStateError, TransientError } from '../../../lib/domain/errors.ts';
import { isTransientFailure } from '../../../lib/app/transient-failures.ts';

const sdk = (name: string, fields: Record<string, unknown> = {}) => Object.assign(new Error(name), { name, $metadata: {}, ...fields });
const zodError = (() => {
  try {
    z.object({ a: z.string() }).parse({});
  } catch (err) {
    return err;
  }
})();

describe('which worker failures a redelivery can cure', () => {
  it.each([
    ['a lost race', new StaleStateError('changed concurrently')],
    ['our own transient error', new TransientError('BatchWriteItem left 3 items unprocessed')],
    ['a close deferred for time', new CloseDeferred('j')],
    ['DynamoDB throttling', sdk('ThrottlingException', { $fault: 'client', $retryable: { throttling: true } })],
    ['provisioned throughput exceeded', sdk('ProvisionedThroughputExceededException', { $fault: 'client' })],
    ['a server fault', sdk('InternalServerError', { $fault: 'server', $metadata: { httpStatusCode: 500 } })],
    ['an unnamed 503', sdk('UnknownError', { $metadata: { httpStatusCode: 503 } })],
    ['a transaction conflict', sdk('TransactionCanceledException', { $fault: 'client', CancellationReasons: [{ Code: 'None' }, { Code: 'TransactionConflict' }] })],
    ['a socket reset', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ['a timeout', sdk('TimeoutError')],
  ])('%s is transient', (_, err) => {
    expect(isTransientFailure(err)).toBe(true);
  });

  it.each([
    ['an item too large', sdk('ValidationException', { $fault: 'client', message: 'Item size has exceeded the maximum allowed size' })],
    ['a transaction with an invalid item', sdk('TransactionCanceledException', { $fault: 'client', CancellationReasons: [{ Code: 'ValidationError' }, { Code: 'None' }] })],
    ['access denied', sdk('AccessDeniedException', { $fault: 'client' })],
    ['an Elasticsearch error', new ConflictError('not open')],
    ['a malformed message', zodError],
    ['unparseable JSON', new SyntaxError('Unexpected token')],
    ['a programming error', new TypeError('x is undefined')],
    ['a thrown string', 'boom'],
  ])('%s is permanent', (_, err) => {
    expect(isTransientFailure(err)).toBe(false);
  });
});
