import type { Context } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { toScheduledEvent } from '../../../lib/local/events.ts';
import { scheduledFunction } from '../../../lib/worker/schedule.ts';

const context = { functionName: 'persist', awsRequestId: 'r-1' } as unknown as Context;

describe('the scheduled function chain', () => {
  it('hands a scheduled event to the task parsed', async () => {
    const run = vi.fn(async (_event: unknown) => {});
    const event = toScheduledEvent({ name: 'persist', region: 'us-east-1', time: new Date('2026-01-02T03:04:05Z') });
    await scheduledFunction(run)(event as never, context);
    expect(run).toHaveBeenCalledTimes(1);
    expect(run.mock.calls[0]![0]).toMatchObject({ time: '2026-01-02T03:04:05Z', 'detail-type': 'Scheduled Event', source: 'aws.events' });
  });

  it('refuses an event that is not a scheduled event instead of running on a guessed time', async () => {
    const run = vi.fn(async (_event: unknown) => {});
    const event = { ...toScheduledEvent({ name: 'persist', region: 'us-east-1' }), time: 'yesterday' };
    await expect(scheduledFunction(run)(event as never, context)).rejects.toThrow();
    const other = { ...toScheduledEvent({ name: 'persist', region: 'us-east-1' }), 'detail-type': 'Object Created', source: 'aws.s3' };
    await expect(scheduledFunction(run)(other as never, context)).rejects.toThrow();
    expect(run).not.toHaveBeenCalled();
  });
});
