import { describe, expect, it } from 'vitest';
import { parseCommandSchedules, parseSchedulesFile } from '../../../lib/domain/command-schedule.ts';
import { ScheduleConfigError } from '../../../lib/domain/errors.ts';

const command = { method: 'POST', path: '/_ml/anomaly_detectors/nightly-*/_close' };

describe('parseCommandSchedules', () => {
  it('applies the defaults (UTC, window off, enabled) and the command event defaults', () => {
    const [s] = parseCommandSchedules([{ name: 'a', expression: 'rate(1 hour)', command }], 'f.json');
    expect(s).toMatchObject({ name: 'a', timezone: 'UTC', flexibleWindowMinutes: undefined, enabled: true, command: { command_version: 1, ...command } });
  });

  it.each([
    [
      { name: 'a', expression: 'rate(1 hour)', command: { ...command, origin: { kind: 'cli', name: 'me' } } },
      'f.json: schedule [a]: command.origin: origin is filled in when the schedule fires',
    ],
    [{ name: 'a', expression: 'rate(1 hour)', command: { ...command, method: 'PATCH' } }, 'f.json: schedule [a]: command.method:'],
    [{ name: 'a', expression: 'rate(1 hour)', command: { method: 'POST', path: '/x?y=1' } }, 'f.json: schedule [a]: command.path: must not hold a query string'],
    [{ name: 'a', expression: 'rate(1 hour)', timezon: 'UTC', command }, 'f.json: schedule [a]: (the schedule): Unrecognized key: "timezon"'],
    [{ name: 'a', expression: 'rate(1 hour)' }, 'f.json: schedule [a]: command:'],
    [{ expression: 'rate(1 hour)', command }, 'f.json: schedules[0]: name:'],
    [{ name: 'a', expression: 'cron(0 2 * * * *)', command }, 'f.json: schedule [a]: expression [cron(0 2 * * * *)]: exactly one of'],
    [{ name: 'a', expression: 'rate(1 hour)', description: 'x'.repeat(513), command }, 'f.json: schedule [a]: description:'],
  ])('refuses %o naming the source, the schedule and the field', (item, message) => {
    expect(() => parseCommandSchedules([item], 'f.json')).toThrow(message);
    expect(() => parseCommandSchedules([item], 'f.json')).toThrow(ScheduleConfigError);
  });

  it('refuses two schedules with one name', () => {
    const s = { name: 'twice', expression: 'rate(1 hour)', command };
    expect(() => parseCommandSchedules([s, s], 'f.json')).toThrow('f.json: schedule [twice]: name: another schedule has the same name');
  });
});

describe('parseSchedulesFile', () => {
  it('reads {"schedules": [...]}', () => {
    expect(parseSchedulesFile(JSON.stringify({ schedules: [{ name: 'a', expression: 'rate(1 hour)', command }] }), 'f.json').map((s) => s.name)).toEqual(['a']);
  });

  it.each([
    ['not JSON', '{', 'f.json: not JSON'],
    ['a bare array', JSON.stringify([{ name: 'a' }]), 'f.json: must be a JSON object {"schedules": [...]}'],
    ['another top-level key', JSON.stringify({ schedules: [], extra: 1 }), 'f.json: must be a JSON object {"schedules": [...]}'],
  ])('refuses %s, naming the file', (_what, text, message) => {
    expect(() => parseSchedulesFile(text, 'f.json')).toThrow(message);
  });
});
