import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ScheduledEvent } from 'aws-lambda';
import { startCron, type CronRunner } from '../../../lib/local/cron.ts';
import type { ScheduleHandler } from '../../../lib/local/lambda.ts';
import { schedules, type ScheduleDefinition } from '../../../lib/runtime/topology.ts';

/** Advances fake time a second at a time until `check` holds (at most `limitS` seconds of schedule time). */
async function advanceUntil(what: string, check: () => boolean, limitS = 5): Promise<void> {
  for (let s = 0; !check(); s++) {
    if (s >= limitS) throw new Error(`no ${what} within ${limitS} s of schedule time`);
    await vi.advanceTimersByTimeAsync(1000);
  }
}

const everySecond: ScheduleDefinition = {
  name: 'tick',
  fn: 'persist',
  expression: 'rate(1 second)',
  localCron: '* * * * * *',
  description: 'test',
};

describe('startCron', () => {
  let runner: CronRunner | undefined;
  beforeEach(() => vi.useFakeTimers({ now: new Date('2026-01-02T03:04:05.500Z') }));
  afterEach(async () => {
    await runner?.stop();
    runner = undefined;
    vi.useRealTimers();
  });

  it('schedules every topology schedule in UTC', () => {
    runner = startCron({ region: 'us-east-1', resolveHandler: async () => async () => undefined });
    const next = runner.nextRuns();
    expect(Object.keys(next).sort()).toEqual(schedules.map((s) => s.name).sort());
    const nightly = next['nightly-maintenance']!;
    expect([nightly.getUTCHours(), nightly.getUTCMinutes()]).toEqual([0, 30]);
  });

  it('invokes the schedule function with the EventBridge event of its rule', async () => {
    const events: ScheduledEvent[] = [];
    const fns: string[] = [];
    runner = startCron({
      schedules: [everySecond],
      region: 'eu-west-1',
      resolveHandler: async (fn) => {
        fns.push(fn);
        return async (event) => {
          events.push(event);
        };
      },
    });
    await advanceUntil('run', () => events.length > 0, 3);
    expect(fns[0]).toBe('persist');
    expect(events[0]).toMatchObject({
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      region: 'eu-west-1',
      resources: ['arn:aws:events:eu-west-1:000000000000:rule/tick'],
    });
  });

  it('logs a failing run and keeps the schedule going', async () => {
    let calls = 0;
    const lines: string[] = [];
    const handler: ScheduleHandler = async () => {
      calls++;
      if (calls === 1) throw new Error('first run fails');
    };
    runner = startCron({ schedules: [everySecond], region: 'us-east-1', resolveHandler: async () => handler, log: (l) => lines.push(l) });
    await advanceUntil('second run', () => calls >= 2, 4);
    expect(lines.some((l) => l.includes('tick') && l.includes('first run fails'))).toBe(true);
  });

  it('trigger runs a schedule now and stop waits for it to end', async () => {
    let finished = false;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    runner = startCron({
      region: 'us-east-1',
      resolveHandler: async () => async () => {
        await gate;
        finished = true;
      },
    });
    void runner.trigger('nightly-maintenance');
    const stopping = runner.stop();
    let stopped = false;
    void stopping.then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(50);
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(finished).toBe(true);
    runner = undefined;
  });

  it('rejects a trigger of an unknown schedule', async () => {
    runner = startCron({ region: 'us-east-1', resolveHandler: async () => async () => undefined });
    await expect(runner.trigger('nope')).rejects.toThrow('no schedule named nope');
  });
});
