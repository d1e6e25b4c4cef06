import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

process.env.TABLE_NAME = 'test-table';
process.env.COMMAND_QUEUE_URL = 'http://sqs.local/000000000000/commands.fifo';
process.env.HTTP_WAIT_CAP_MS = '60';
process.env.COMMAND_POLL_MS = '5';
const ddb = mockClient(DynamoDBDocumentClient);
const { awaitCommand } = await import('../../../lib/app/commands.ts');

const item = (status: string, outcomes: Record<string, unknown> = {}) => ({
  Item: {
    pk: 'command#1',
    sk: 'command',
    command_id: '1',
    task_id: 'n:1',
    action: 'close',
    es_action: 'cluster:admin/xpack/ml/job/close',
    description: 'close job [a]',
    targets: ['a'],
    params: {},
    status,
    outcomes,
    created_ms: 0,
    expires_at: 0,
  },
});

/** Runs a wait to its end on the fake clock (the budgets are of fake time, so a busy machine cannot make them run out). */
async function settle<T>(p: Promise<T>): Promise<T> {
  await vi.runAllTimersAsync();
  return p;
}

describe('waiting for a command within the HTTP budget', () => {
  beforeEach(() => {
    ddb.reset();
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  it('returns the finished command as soon as it is done', async () => {
    ddb
      .on(GetCommand)
      .resolvesOnce(item('queued'))
      .resolves(item('done', { a: { status: 'done', finished_ms: 1, response_json: '{"closed":true}' } }));
    const out = await settle(awaitCommand('1', 10_000));
    expect(out.kind).toBe('finished');
    if (out.kind === 'finished') expect(out.command.outcomes.a?.response).toEqual({ closed: true });
  });

  it('ends with the request timeout when it is shorter than the gateway cap', async () => {
    ddb.on(GetCommand).resolves(item('running'));
    expect((await settle(awaitCommand('1', 20))).kind).toBe('request_timeout');
  });

  it('ends with the gateway cap (a 202 for the caller) when the request timeout is longer', async () => {
    ddb.on(GetCommand).resolves(item('running'));
    expect((await settle(awaitCommand('1', 30 * 60_000))).kind).toBe('gateway_cap');
    expect((await settle(awaitCommand('1', undefined))).kind).toBe('gateway_cap');
  });
});
