import type { Context } from 'aws-lambda';
import middy from '@middy/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext, logger } from '../../../lib/runtime/log.ts';

const context = { functionName: 'mlplane-jobs', awsRequestId: 'req-42', invokedFunctionArn: 'arn:aws:lambda:us-east-1:0:function:mlplane-jobs' } as unknown as Context;

const captured = () => {
  const out: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  return out;
};

describe('log lines inside a Lambda invocation', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    delete process.env.LOG_FORMAT;
    delete process.env.LOG_LEVEL;
  });

  it('carry the request id and function name in json, with our fields and errors as they are', async () => {
    process.env.LOG_FORMAT = 'json';
    process.env.LOG_LEVEL = 'info';
    const out = captured();
    await middy(async () => logger.error('boom', { job_id: 'a', err: new TypeError('bad') })).use(lambdaContext())({}, context);
    expect(out).toHaveLength(1);
    const line = JSON.parse(out[0]!);
    expect(line).toMatchObject({
      level: 'error',
      message: 'boom',
      function_name: 'mlplane-jobs',
      function_request_id: 'req-42',
      job_id: 'a',
      err: { name: 'TypeError', message: 'bad' },
    });
    expect(Object.keys(line).slice(0, 3)).toEqual(['level', 'message', 'time']);
  });

  it('keep the text format for people unchanged, and honour the level at each call', async () => {
    process.env.LOG_FORMAT = 'text';
    process.env.LOG_LEVEL = 'warn';
    const out = captured();
    await middy(async () => {
      logger.info('hidden');
      logger.warn('shown', { k: 'v' });
    }).use(lambdaContext())({}, context);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^\S+Z WARN {2}shown k=v\n$/);
  });
});
