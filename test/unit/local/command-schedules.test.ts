import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type CommandScheduleInput, parseCommandSchedules } from '../../../lib/domain/command-schedule.ts';
import { type CommandSchedules, type ScheduledCommandEvent, startCommandSchedules } from '../../../lib/local/command-schedules.ts';
import { startCron } from '../../../lib/local/cron.ts';
import { fileScheduleStateStore, memoryScheduleStateStore, SCHEDULE_STATE_FILE, type ScheduleStateStore } from '../../../lib/local/schedule-state.ts';

const command = { method: 'POST', path: '/_ml/anomaly_detectors/nightly-*/_close' } as const;

/** A runner whose invocations are recorded; `started` resolves once start-up firings are under way. */
async function start(
  schedules: Omit<CommandScheduleInput, 'command'>[],
  state: ScheduleStateStore = memoryScheduleStateStore(),
  invoke?: (e: ScheduledCommandEvent) => Promise<unknown>,
) {
  const events: ScheduledCommandEvent[] = [];
  const lines: string[] = [];
  const runner = await startCommandSchedules({
    schedules: parseCommandSchedules(
      schedules.map((s) => ({ command, ...s })),
      'test',
    ),
    state,
    log: (l) => lines.push(l),
    invoke: async (e) => {
      events.push(e);
      return invoke ? invoke(e) : { status: 200 };
    },
  });
  await vi.advanceTimersByTimeAsync(0);
  return { runner, events, lines, times: () => events.map((e) => e.origin.scheduled_time) };
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('command schedules (local Scheduler)', () => {
  let runner: CommandSchedules | undefined;
  afterEach(async () => {
    await runner?.stop();
    runner = undefined;
    vi.useRealTimers();
  });

  it('fires a cron schedule at its wall-clock time in its time zone, skipping the time the clocks jump over (DST)', async () => {
    // Europe/Berlin goes from 02:00 to 03:00 on 2026-03-29: 02:30 does not exist that day.
    vi.useFakeTimers({ now: new Date('2026-03-27T12:00:00Z') });
    const r = await start([{ name: 'berlin', expression: 'cron(30 2 * * ? *)', timezone: 'Europe/Berlin' }]);
    runner = r.runner;
    await vi.advanceTimersByTimeAsync(4 * DAY);
    expect(r.times()).toEqual(['2026-03-28T01:30:00Z', '2026-03-30T00:30:00Z', '2026-03-31T00:30:00Z']);
  });

  it('fires a time the clocks go back over once, not twice (DST)', async () => {
    // 2026-10-25 Europe/Berlin: 03:00 CEST becomes 02:00 CET, so 02:00-02:59 happen twice.
    vi.useFakeTimers({ now: new Date('2026-10-24T22:00:00Z') });
    const r = await start([{ name: 'half-hourly', expression: 'cron(0/30 2 * * ? *)', timezone: 'Europe/Berlin' }]);
    runner = r.runner;
    await vi.advanceTimersByTimeAsync(6 * HOUR);
    expect(r.times()).toEqual(['2026-10-25T00:00:00Z', '2026-10-25T00:30:00Z']);
  });

  it('sends the command event with origin {kind: schedule, name, id, scheduled_time}', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-02T01:59:30Z') });
    const r = await start([{ name: 'utc-two', expression: 'cron(0 2 * * ? *)' }]);
    runner = r.runner;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(r.events).toHaveLength(1);
    expect(r.events[0]).toEqual({
      command_version: 1,
      ...command,
      origin: { kind: 'schedule', name: 'utc-two', id: expect.stringMatching(/^[0-9a-f-]{36}$/), scheduled_time: '2026-01-02T02:00:00Z' },
    });
  });

  it('runs firings missed while down once at the next start, not once per missed firing', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:30:00Z') });
    const state = memoryScheduleStateStore();
    const first = await start([{ name: 'hourly', expression: 'cron(0 * * * ? *)' }], state);
    await vi.advanceTimersByTimeAsync(HOUR);
    expect(first.times()).toEqual(['2026-01-01T01:00:00Z']);
    await first.runner.stop();

    // Down for three days: 72 hourly firings missed.
    vi.setSystemTime(new Date('2026-01-04T01:30:00Z'));
    const second = await start([{ name: 'hourly', expression: 'cron(0 * * * ? *)' }], state);
    runner = second.runner;
    expect(second.times()).toEqual(['2026-01-01T02:00:00Z']);
    expect(second.lines.some((l) => l.includes('missed while mlplane was down; run once'))).toBe(true);
    await vi.advanceTimersByTimeAsync(HOUR);
    expect(second.times()).toEqual(['2026-01-01T02:00:00Z', '2026-01-04T02:00:00Z']);
  });

  it('does not run anything at a restart when no firing fell due while down', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:30:00Z') });
    const state = memoryScheduleStateStore();
    const first = await start([{ name: 'daily', expression: 'cron(0 12 * * ? *)' }], state);
    await first.runner.stop();
    vi.setSystemTime(new Date('2026-01-01T06:00:00Z'));
    const second = await start([{ name: 'daily', expression: 'cron(0 12 * * ? *)' }], state);
    runner = second.runner;
    expect(second.events).toHaveLength(0);
  });

  it('fires nothing for a cron schedule at its first start (nothing was missed before it existed)', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T13:00:00Z') });
    const r = await start([{ name: 'daily', expression: 'cron(0 12 * * ? *)' }]);
    runner = r.runner;
    expect(r.events).toHaveLength(0);
    expect(r.runner.nextRuns().daily?.toISOString()).toBe('2026-01-02T12:00:00.000Z');
  });

  it('keeps the state in the data folder, so the missed run survives a restart of the process', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:30:00Z') });
    const dir = mkdtempSync(join(tmpdir(), 'mlplane-schedule-state-'));
    const first = await start([{ name: 'hourly', expression: 'cron(0 * * * ? *)' }], fileScheduleStateStore(dir));
    await vi.advanceTimersByTimeAsync(HOUR);
    await first.runner.stop();
    expect(JSON.parse(readFileSync(join(dir, SCHEDULE_STATE_FILE), 'utf8'))).toMatchObject({ hourly: { covered_until: '2026-01-01T01:00:00.000Z' } });

    vi.setSystemTime(new Date('2026-01-01T05:10:00Z'));
    const second = await start([{ name: 'hourly', expression: 'cron(0 * * * ? *)' }], fileScheduleStateStore(dir));
    runner = second.runner;
    expect(second.times()).toEqual(['2026-01-01T02:00:00Z']);
  });

  it('fires an at schedule once at its time, and never again after a restart', async () => {
    vi.useFakeTimers({ now: new Date('2026-05-01T00:00:00Z') });
    const state = memoryScheduleStateStore();
    const def = { name: 'once', expression: 'at(2026-05-01T12:00:00)', timezone: 'Asia/Kolkata' };
    const first = await start([def], state);
    await vi.advanceTimersByTimeAsync(DAY);
    expect(first.times()).toEqual(['2026-05-01T06:30:00Z']);
    await first.runner.stop();
    const second = await start([def], state);
    runner = second.runner;
    await vi.advanceTimersByTimeAsync(DAY);
    expect(second.events).toHaveLength(0);
  });

  it('does not fire an at schedule already past at its first start (Scheduler refuses to create one), saying so', async () => {
    vi.useFakeTimers({ now: new Date('2026-06-01T00:00:00Z') });
    const r = await start([{ name: 'late', expression: 'at(2026-05-01T12:00:00)' }]);
    runner = r.runner;
    await vi.advanceTimersByTimeAsync(DAY);
    expect(r.events).toHaveLength(0);
    expect(r.lines.some((l) => l.includes('late') && l.includes('had passed before the schedule was first started; not fired'))).toBe(true);
  });

  it('fires once at the next start an at schedule that fell due while mlplane was down', async () => {
    vi.useFakeTimers({ now: new Date('2026-05-01T00:00:00Z') });
    const state = memoryScheduleStateStore();
    const def = { name: 'once', expression: 'at(2026-05-01T12:00:00)' };
    const first = await start([def], state);
    await first.runner.stop();
    vi.setSystemTime(new Date('2026-05-02T00:00:00Z'));
    const second = await start([def], state);
    expect(second.times()).toEqual(['2026-05-01T12:00:00Z']);
    await second.runner.stop();
    const third = await start([def], state);
    runner = third.runner;
    expect(third.events).toHaveLength(0);
  });

  it('fires an at schedule further ahead than one timer can wait (about 24.8 days)', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    const r = await start([{ name: 'far', expression: 'at(2026-03-01T00:00:00)' }]);
    runner = r.runner;
    await vi.advanceTimersByTimeAsync(58 * DAY);
    expect(r.events).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(2 * DAY);
    expect(r.times()).toEqual(['2026-03-01T00:00:00Z']);
  });

  it('starts afresh, saying so, from a state file that is not one', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:30:00Z') });
    const dir = mkdtempSync(join(tmpdir(), 'mlplane-schedule-state-'));
    writeFileSync(join(dir, SCHEDULE_STATE_FILE), '{"hourly": 42}');
    const lines: string[] = [];
    const store = fileScheduleStateStore(dir, (l) => lines.push(l));
    const r = await start([{ name: 'hourly', expression: 'cron(0 * * * ? *)' }], store);
    runner = r.runner;
    expect(r.events).toHaveLength(0);
    expect(lines.some((l) => l.includes('is not a schedules state file') && l.includes('starting afresh'))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, SCHEDULE_STATE_FILE), 'utf8'))).toMatchObject({
      hourly: { expression: 'cron(0 * * * ? *)', covered_until: '2026-01-01T00:30:00.000Z' },
    });
  });

  it('fires a rate schedule at its first start and every period after, keeping the phase across a restart', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    const state = memoryScheduleStateStore();
    const first = await start([{ name: 'ten', expression: 'rate(10 minutes)' }], state);
    await vi.advanceTimersByTimeAsync(25 * 60_000);
    expect(first.times()).toEqual(['2026-01-01T00:00:00Z', '2026-01-01T00:10:00Z', '2026-01-01T00:20:00Z']);
    await first.runner.stop();
    // Back at 00:27: nothing was missed (00:30 is still ahead), and the next firing keeps the 00:00 phase.
    vi.setSystemTime(new Date('2026-01-01T00:27:00Z'));
    const second = await start([{ name: 'ten', expression: 'rate(10 minutes)' }], state);
    runner = second.runner;
    expect(second.events).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(3 * 60_000);
    expect(second.times()).toEqual(['2026-01-01T00:30:00Z']);
  });

  it('counts a rate of days in 24-hour periods, across a DST change', async () => {
    vi.useFakeTimers({ now: new Date('2026-03-28T12:00:00Z') });
    const r = await start([{ name: 'daily', expression: 'rate(1 day)', timezone: 'Europe/Berlin' }]);
    runner = r.runner;
    await vi.advanceTimersByTimeAsync(2 * DAY);
    expect(r.times()).toEqual(['2026-03-28T12:00:00Z', '2026-03-29T12:00:00Z', '2026-03-30T12:00:00Z']);
  });

  it('fires a flexible-window schedule at the start of its window', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    const r = await start([{ name: 'flex', expression: 'cron(0 3 * * ? *)', flexible_window_minutes: 60 }]);
    runner = r.runner;
    await vi.advanceTimersByTimeAsync(3 * HOUR);
    expect(r.times()).toEqual(['2026-01-01T03:00:00Z']);
  });

  it('skips a disabled schedule, which trigger still runs by hand', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    const r = await start([{ name: 'off', expression: 'rate(1 minute)', enabled: false }]);
    runner = r.runner;
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(r.events).toHaveLength(0);
    expect(r.runner.nextRuns()).toEqual({ off: null });
    await expect(r.runner.trigger('off')).resolves.toEqual({ status: 200 });
    expect(r.events).toHaveLength(1);
  });

  it('logs a failed firing and keeps firing the schedule', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:30Z') });
    let calls = 0;
    const r = await start([{ name: 'flaky', expression: 'cron(* * * * ? *)' }], memoryScheduleStateStore(), async () => {
      calls++;
      if (calls === 1) throw new Error('ingress down');
      return { status: 200 };
    });
    runner = r.runner;
    await vi.advanceTimersByTimeAsync(2 * 60_000);
    expect(r.times()).toEqual(['2026-01-01T00:01:00Z', '2026-01-01T00:02:00Z']);
    expect(r.lines.some((l) => l.includes('flaky failed') && l.includes('ingress down'))).toBe(true);
  });

  it("is triggered, listed and stopped through the cron runner, beside mlplane's own schedules", async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    const r = await start([{ name: 'close-nightly', expression: 'cron(0 2 * * ? *)', timezone: 'Europe/Berlin' }]);
    const cron = startCron({ region: 'us-east-1', resolveHandler: async () => async () => undefined, commands: r.runner });
    try {
      expect(cron.nextRuns()['close-nightly']?.toISOString()).toBe('2026-01-01T01:00:00.000Z');
      expect(cron.nextRuns()['nightly-maintenance']).toBeInstanceOf(Date);
      await expect(cron.trigger('close-nightly')).resolves.toEqual({ status: 200 });
      expect(r.events[0]?.origin.name).toBe('close-nightly');
    } finally {
      await cron.stop();
    }
    await vi.advanceTimersByTimeAsync(DAY);
    expect(r.events).toHaveLength(1);
  });
});
