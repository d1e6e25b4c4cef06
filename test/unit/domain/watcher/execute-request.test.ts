import { describe, expect, it } from 'vitest';
import { parseExecuteRequest } from '../../../../lib/domain/watcher/execute-request.ts';
import { catchEs } from '../es-error.ts';

const NOW = Date.parse('2026-01-10T12:00:00.000Z');

describe('parseExecuteRequest', () => {
  it('reads every body field, with trigger times as dates, date math or epoch millis', () => {
    const r = parseExecuteRequest(
      'w',
      {
        trigger_data: { triggered_time: 'now-1h', scheduled_time: 1_000 },
        ignore_condition: true,
        record_execution: true,
        alternative_input: { match: 'false' },
        action_modes: { a: 'FORCE_EXECUTE', _all: 'simulate' },
      },
      { debug: 'true' },
      NOW,
    );
    expect(r).toEqual({
      triggeredTimeMs: NOW - 3_600_000,
      scheduledTimeMs: 1_000,
      ignoreCondition: true,
      recordExecution: true,
      alternativeInput: { match: 'false' },
      actionModes: { a: 'force_execute', _all: 'simulate' },
      debug: true,
    });
  });

  it('defaults the scheduled time to the triggered time, and that to now', () => {
    expect(parseExecuteRequest('w', { trigger_data: { triggered_time: '2026-01-01T00:00:00Z' } }, {}, NOW).scheduledTimeMs).toBe(Date.parse('2026-01-01T00:00:00Z'));
    expect(parseExecuteRequest('w', undefined, {}, NOW)).toMatchObject({ triggeredTimeMs: NOW, scheduledTimeMs: NOW, recordExecution: false });
  });

  it('reads record_execution and ignore_condition from the URL only when a body is sent', () => {
    expect(parseExecuteRequest('w', undefined, { record_execution: 'true', ignore_condition: 'true' }, NOW)).toMatchObject({ recordExecution: false, ignoreCondition: false });
    expect(parseExecuteRequest('w', {}, { record_execution: 'true', ignore_condition: 'true' }, NOW)).toMatchObject({ recordExecution: true, ignoreCondition: true });
  });

  it('asks to wrap watch fields inside "watch"', () => {
    const e = catchEs(() => parseExecuteRequest(undefined, { trigger: {} }, {}, NOW));
    expect([e.status, e.type, e.message]).toEqual([400, 'parse_exception', 'please wrap watch including field [trigger] inside a "watch" field']);
  });

  it('refuses unknown fields and modes with Elasticsearch texts', () => {
    expect(catchEs(() => parseExecuteRequest('w', { foo: true }, {}, NOW)).message).toBe('could not parse watch execution request. unexpected boolean field [foo]');
    expect(catchEs(() => parseExecuteRequest('w', { foo: {} }, {}, NOW)).message).toBe('could not parse watch execution request. unexpected object field [foo]');
    const bad = catchEs(() => parseExecuteRequest('w', { action_modes: { a: 'run' } }, {}, NOW));
    expect(bad.toCause()).toEqual({
      type: 'parse_exception',
      reason: 'could not parse watch execution request',
      caused_by: { type: 'illegal_argument_exception', reason: 'unknown action execution mode [run]' },
    });
  });

  it('validates id versus inline watch and recording', () => {
    expect(catchEs(() => parseExecuteRequest(undefined, {}, {}, NOW)).message).toBe(
      'Validation Failed: 1: a watch execution request must either have a watch id or an inline watch source, but both are missing;',
    );
    expect(catchEs(() => parseExecuteRequest('w', { watch: {} }, {}, NOW)).message).toBe(
      'Validation Failed: 1: a watch execution request must either have a watch id or an inline watch source but not both;',
    );
    const e = catchEs(() => parseExecuteRequest(undefined, { watch: {}, record_execution: true }, {}, NOW));
    expect([e.type, e.message]).toEqual(['action_request_validation_exception', 'Validation Failed: 1: the execution of an inline watch cannot be recorded;']);
  });
});
