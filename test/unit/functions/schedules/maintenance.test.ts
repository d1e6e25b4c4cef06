import type { Context } from 'aws-lambda';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { toScheduledEvent } from '../../../../lib/local/events.ts';

const startNightlyMaintenance = vi.fn(async (_now: number): Promise<string | undefined> => 'mlplane-0:1');
const expireWatchHistory = vi.fn(async (): Promise<number> => 0);
vi.mock('../../../../lib/app/maintenance.ts', () => ({ startNightlyMaintenance: (now: number) => startNightlyMaintenance(now) }));
vi.mock('../../../../lib/app/watch-history.ts', () => ({ expireWatchHistory: () => expireWatchHistory() }));

const { handler } = await import('../../../../functions/schedules/maintenance.ts');

const context = { functionName: 'maintenance', awsRequestId: 'r-1' } as unknown as Context;
const event = toScheduledEvent({ name: 'nightly-maintenance', region: 'us-east-1', time: new Date('2026-11-26T00:30:00Z') });

describe('the nightly maintenance schedule', () => {
  beforeEach(() => {
    startNightlyMaintenance.mockClear();
    expireWatchHistory.mockClear();
  });

  it('submits the expired-data deletion at the event’s time, and expires watch history, without doing the deletion itself', async () => {
    await handler(event as never, context);
    expect(startNightlyMaintenance).toHaveBeenCalledWith(Date.parse('2026-11-26T00:30:00Z'));
    expect(expireWatchHistory).toHaveBeenCalledTimes(1);
  });
});
