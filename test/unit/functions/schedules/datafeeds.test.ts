import type { Context } from 'aws-lambda';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { toScheduledEvent } from '../../../../lib/local/events.ts';

const runDatafeedTick = vi.fn(async (_now: number): Promise<unknown[]> => []);
const runScheduledWatches = vi.fn(async (_now: number): Promise<unknown[]> => []);
vi.mock('../../../../lib/app/datafeed-tick.ts', () => ({ runDatafeedTick: (now: number) => runDatafeedTick(now) }));
vi.mock('../../../../lib/app/watch-tick.ts', () => ({ runScheduledWatches: (now: number) => runScheduledWatches(now) }));
vi.mock('../../../../lib/app/upgrade-mode.ts', () => ({ checkUpgradeModeExpiry: async () => ({ expired: false, onSeconds: 0 }) }));
vi.mock('../../../../lib/runtime/metrics.ts', () => ({ publishUpgradeModeOnSeconds: () => {} }));

const { handler } = await import('../../../../functions/schedules/datafeeds.ts');

const context = { functionName: 'datafeeds', awsRequestId: 'r-1' } as unknown as Context;
const event = toScheduledEvent({ name: 'datafeeds-realtime', region: 'us-east-1', time: new Date('2026-11-26T10:01:00Z') });

describe('the minute tick', () => {
  beforeEach(() => {
    runDatafeedTick.mockReset().mockResolvedValue([]);
    runScheduledWatches.mockReset().mockResolvedValue([]);
  });

  it('ticks the datafeeds and the watch schedules at the event’s time', async () => {
    await handler(event as never, context);
    const t = Date.parse('2026-11-26T10:01:00Z');
    expect(runDatafeedTick).toHaveBeenCalledWith(t);
    expect(runScheduledWatches).toHaveBeenCalledWith(t);
  });

  it('a datafeed failure does not keep the watches from their tick, and still fails the invocation', async () => {
    runDatafeedTick.mockRejectedValue(new Error('datafeeds down'));
    await expect(handler(event as never, context)).rejects.toThrow('datafeeds down');
    expect(runScheduledWatches).toHaveBeenCalledTimes(1);
  });
});
