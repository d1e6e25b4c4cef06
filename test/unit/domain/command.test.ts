import { describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { CLUSTER_TARGET, commandActions, messageGroupId, parseCommandParams, watchIdOf, watchTarget } from '../../../lib/domain/command.ts';

describe('command params', () => {
  it('parse per action, typed by the action', () => {
    const flush = parseCommandParams({ action: 'flush', params: { calc_interim: true, start: 1, end: 2, advance_time: 3, skip_time: 4 } });
    expect(flush).toEqual({ action: 'flush', params: { calc_interim: true, start: 1, end: 2, advance_time: 3, skip_time: 4 } });
    expect(parseCommandParams({ action: 'data', params: { reset_start: '1', reset_end: '2' } }).params).toEqual({ reset_start: '1', reset_end: '2' });
    expect(parseCommandParams({ action: 'delete', params: { force: false, create_time: 9 } }).params).toEqual({ force: false, create_time: 9 });
  });

  it('accept empty params for every action but datafeed, which names its datafeed and run, upgrade_mode, which carries its value and timeout, command_event, which names its request, and maintenance, which carries its rate and deadline', () => {
    for (const action of commandActions.filter((a) => a !== 'datafeed' && a !== 'upgrade_mode' && a !== 'watch' && a !== 'command_event' && a !== 'maintenance'))
      expect(parseCommandParams({ action, params: {} })).toEqual({ action, params: {} });
    expect(() => parseCommandParams({ action: 'upgrade_mode', params: {} })).toThrow(ZodError);
    expect(parseCommandParams({ action: 'upgrade_mode', params: { enabled: true, timeout_ms: 30_000 } }).params).toEqual({ enabled: true, timeout_ms: 30_000 });
    expect(() => parseCommandParams({ action: 'datafeed', params: {} })).toThrow(ZodError);
    expect(parseCommandParams({ action: 'datafeed', params: { datafeed_id: 'f', run_id: 'r' } }).params).toEqual({ datafeed_id: 'f', run_id: 'r' });
    expect(() => parseCommandParams({ action: 'command_event', params: {} })).toThrow(ZodError);
    const request = { method: 'POST', path: '/_ml/anomaly_detectors/a/_close', origin: { kind: 'schedule', name: 'close-nightly' } };
    expect(parseCommandParams({ action: 'command_event', params: request }).params).toEqual(request);
    // An expired-data deletion carries its rate, deadline and timeout; the job expression is optional.
    expect(() => parseCommandParams({ action: 'maintenance', params: {} })).toThrow(ZodError);
    const maintenance = { requests_per_second: null, deadline_ms: 1, timeout: '8h', trigger: 'api' };
    expect(parseCommandParams({ action: 'maintenance', params: maintenance }).params).toEqual(maintenance);
    expect(parseCommandParams({ action: 'maintenance', params: { ...maintenance, job_id: 'a*' } }).params).toEqual({ ...maintenance, job_id: 'a*' });
  });

  it('refuse a key the action does not carry, a value of the wrong type and an unknown action', () => {
    expect(() => parseCommandParams({ action: 'close', params: { force: true } })).toThrow(ZodError);
    expect(() => parseCommandParams({ action: 'flush', params: { advance_time: '1h' } })).toThrow(ZodError);
    expect(() => parseCommandParams({ action: 'reboot' as never, params: {} })).toThrow(ZodError);
  });
});

describe('message groups', () => {
  it('put a watch target in its own watch group and keep job and cluster groups', () => {
    expect(messageGroupId(watchTarget('my-watch'))).toBe('watch/my-watch');
    expect(watchIdOf(watchTarget('a:b'))).toBe('a:b');
    expect(watchIdOf('job-1')).toBeUndefined();
    expect(messageGroupId('job-1')).toBe('job/job-1');
    expect(messageGroupId(CLUSTER_TARGET)).toBe('cluster');
  });

  it('check a watch command by its schema', () => {
    expect(() => parseCommandParams({ action: 'watch', params: {} })).toThrow(ZodError);
    const params = { trigger: 'manual', triggered_ms: 1, scheduled_ms: 1, record_execution: true, action_modes: { _all: 'force_execute' } };
    expect(parseCommandParams({ action: 'watch', params }).params).toEqual(params);
  });
});
