import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { keys } from '../../../lib/store/keys.ts';

process.env.TABLE_NAME = 'test-table';
process.env.COMMAND_QUEUE_URL = 'http://sqs.local/queue/commands.fifo';
const ddb = mockClient(DynamoDBDocumentClient);
const { getCommand } = await import('../../../lib/store/commands.ts');

const item = (over: Record<string, unknown> = {}) => ({
  ...keys.command('123'),
  command_id: '123',
  task_id: 'n:123',
  action: 'flush',
  es_action: 'cluster:admin/xpack/ml/job/flush',
  description: 'flush job [a]',
  targets: ['a'],
  params: { calc_interim: true, advance_time: 60_000 },
  status: 'running',
  outcomes: { a: { status: 'done', finished_ms: 5, response_json: '{"flushed":true}' } },
  created_ms: 1,
  expires_at: 2,
  ...over,
});

describe('a command item read back from the store', () => {
  beforeEach(() => ddb.reset());

  it('comes back typed, without its keys, with its outcomes decoded', async () => {
    ddb.on(GetCommand).resolves({ Item: item() });
    const cmd = await getCommand('123');
    expect(cmd).toEqual({
      command_id: '123',
      task_id: 'n:123',
      action: 'flush',
      es_action: 'cluster:admin/xpack/ml/job/flush',
      description: 'flush job [a]',
      targets: ['a'],
      params: { calc_interim: true, advance_time: 60_000 },
      status: 'running',
      outcomes: { a: { status: 'done', finished_ms: 5, response: { flushed: true } } },
      created_ms: 1,
      expires_at: 2,
    });
  });

  it('keeps the encoding of its payload: Brotli as written now, DEFLATE as written before', async () => {
    for (const payload_encoding of ['br', 'deflate-raw'] as const) {
      ddb.on(GetCommand).resolves({ Item: item({ payload_chunks: 1, payload_nonce: 'n', payload_encoding }) });
      expect(await getCommand('123')).toMatchObject({ payload_encoding });
    }
    ddb.on(GetCommand).resolves({ Item: item({ payload_chunks: 1, payload_nonce: 'n', payload_encoding: 'zstd' }) });
    await expect(getCommand('123')).rejects.toBeInstanceOf(ZodError);
  });

  it('is refused when its params do not fit its action', async () => {
    ddb.on(GetCommand).resolves({ Item: item({ params: { calc_interim: 'yes' } }) });
    await expect(getCommand('123')).rejects.toBeInstanceOf(ZodError);
    ddb.on(GetCommand).resolves({ Item: item({ action: 'open', params: { force: true } }) });
    await expect(getCommand('123')).rejects.toBeInstanceOf(ZodError);
  });

  it('is refused when a field or an outcome has another shape', async () => {
    ddb.on(GetCommand).resolves({ Item: item({ status: 'paused' }) });
    await expect(getCommand('123')).rejects.toBeInstanceOf(ZodError);
    ddb.on(GetCommand).resolves({ Item: item({ outcomes: { a: { status: 'done' } } }) });
    await expect(getCommand('123')).rejects.toBeInstanceOf(ZodError);
  });

  it('is undefined when there is none', async () => {
    ddb.on(GetCommand).resolves({});
    await expect(getCommand('123')).resolves.toBeUndefined();
  });
});
