import { expect } from 'vitest';
import { EsError } from '../../../lib/domain/errors.ts';

/** Runs `fn`, asserts it throws an EsError and returns it. */
export function catchEs(fn: () => unknown): EsError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EsError);
    return e as EsError;
  }
  throw new Error('expected an Elasticsearch error, nothing was thrown');
}

/** Asserts the type, status and reason of the error thrown by `fn`; returns it. */
export function expectEsError(fn: () => unknown, expected: { type: string; status?: number; reason: string | RegExp }): EsError {
  const e = catchEs(fn);
  expect(e.type).toBe(expected.type);
  if (expected.status !== undefined) expect(e.status).toBe(expected.status);
  if (typeof expected.reason === 'string') expect(e.message).toBe(expected.reason);
  else expect(e.message).toMatch(expected.reason);
  return e;
}
