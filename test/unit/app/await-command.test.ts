import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

process.env.TABLE_NAME = 'test-table';
process.env.COMMAND_QUEUE_URL = 'http://sqs.local/000000000000/commands.fifo';
process.env.HTTP_WAIT_CAP_MS = '28000';
process.env.COMMAND_POLL_MS = '15';
const ddb = mockClient(DynamoDBDocumentClient);
const { resetConfig } = await import('../../../lib/runtime/config.ts');
resetConfig();
const { awaitCommand, FAST_POLL_WINDOW_MS, MAX_POLL_INTERVAL_MS } = await import('../../../lib/app/commands.ts');

const item = (status: string) => ({
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
    outcomes: {},
    created_ms: 0,
    expires_at: 1,
  },
});

/** Fake-clock times (ms after the start) at which the command was read. */
function recordReads(doneAfter = Infinity): number[] {
  const reads: number[] = [];
  const t0 = Date.now();
  ddb.on(GetCommand).callsFake(() => {
    reads.push(Date.now() - t0);
    return item(reads.length > doneAfter ? 'done' : 'running');
  });
  return reads;
}

const gaps = (reads: number[]) => reads.slice(1).map((t, i) => t - (reads[i] as number));

describe('the HTTP wait for a command polls with backoff', () => {
  beforeEach(() => {
    ddb.reset();
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  it('reads at once, every COMMAND_POLL_MS during the fast window, then after pauses doubling up to half a second', async () => {
    const reads = recordReads(30);
    const waiting = awaitCommand('1', undefined, Date.now());
    await vi.runAllTimersAsync();
    expect((await waiting).kind).toBe('finished');
    expect(reads[0]).toBe(0);
    const fast = FAST_POLL_WINDOW_MS / 15;
    expect(gaps(reads)).toEqual([...Array<number>(fast).fill(15), 30, 60, 120, 240, 480, ...Array<number>(5).fill(MAX_POLL_INTERVAL_MS)]);
  });

  it('never sleeps past the request timeout: the last pause is cut to it', async () => {
    const reads = recordReads();
    const waiting = awaitCommand('1', 100, Date.now());
    await vi.runAllTimersAsync();
    expect((await waiting).kind).toBe('request_timeout');
    expect(reads).toEqual([0, 15, 30, 45, 60, 75, 90, 100]);
  });

  it('reads a 20 s wait some 65 times, not once every 15 ms', async () => {
    const reads = recordReads();
    const waiting = awaitCommand('1', 20_000, Date.now());
    await vi.runAllTimersAsync();
    expect((await waiting).kind).toBe('request_timeout');
    expect(reads.length).toBeLessThan(70);
    expect(reads.at(-1)).toBe(20_000);
  });

  it('ends at the gateway cap with a read at the cap', async () => {
    const reads = recordReads();
    const waiting = awaitCommand('1', undefined, Date.now());
    await vi.runAllTimersAsync();
    expect((await waiting).kind).toBe('gateway_cap');
    expect(reads.at(-1)).toBe(28_000);
  });
});
