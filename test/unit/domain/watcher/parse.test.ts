import { describe, expect, it } from 'vitest';
import { EsError } from '../../../../lib/domain/errors.ts';
import { parseWatch } from '../../../../lib/domain/watcher/parse.ts';
import { renderWatch } from '../../../../lib/domain/watcher/types.ts';

const seed = {
  trigger: { schedule: { hourly: { minute: [0, 5] } } },
  input: { simple: { payload: { send: 'yes' } } },
  condition: { always: {} },
  actions: { test_index: { throttle_period: '15m', index: { index: 'test' } } },
};
const parse = (body: unknown, id = 'w') => parseWatch(id, JSON.stringify(body));
const errorOf = (body: unknown): ReturnType<EsError['toBody']> => {
  try {
    parse(body);
  } catch (e) {
    if (e instanceof EsError) return e.toBody();
    throw e;
  }
  throw new Error('parsed');
};
const withSchedule = (schedule: unknown) => ({ ...seed, trigger: { schedule } });

describe('parsing a put-watch body', () => {
  it('re-serializes the seed watch as GET shows it (throttle in ms)', () => {
    expect(renderWatch(parse(seed))).toEqual({
      trigger: { schedule: { hourly: { minute: [0, 5] } } },
      input: { simple: { payload: { send: 'yes' } } },
      condition: { always: {} },
      actions: { test_index: { throttle_period_in_millis: 900000, index: { index: 'test' } } },
    });
  });

  it('defaults input none, condition always, no actions', () => {
    expect(renderWatch(parse({ trigger: seed.trigger }))).toEqual({ trigger: seed.trigger, input: { none: {} }, condition: { always: {} }, actions: {} });
  });

  it.each([
    [{ throttle_period: '10s' }, 10000],
    [{ throttle_period: '1.5h' }, 5400000],
    [{ throttle_period_in_millis: 7000 }, 7000],
  ])('watch-level throttle %j comes back as throttle_period_in_millis %d', (t, ms) => {
    expect(renderWatch(parse({ ...seed, ...t })).throttle_period_in_millis).toBe(ms);
  });

  it('a numeric throttle_period is refused', () => {
    const e = errorOf({ ...seed, throttle_period: 10 });
    expect(e.error.reason).toBe('could not parse watch [w]. failed to parse time value for field [throttle_period]');
    expect(e.error.caused_by?.reason).toBe('could not parse time value [10]. expected either a string or a null value but found [VALUE_NUMBER] instead');
  });

  it.each([
    [{ ...seed, foo: 1 }, 'could not parse watch [w]. unexpected field [foo]'],
    [{ input: seed.input }, 'could not parse watch [w]. missing required field [trigger]'],
    [withSchedule({ every: '5m' }), 'could not parse schedule for [w]. unknown schedule type [every]'],
    [withSchedule({ hourly: { minute: 60 } }), 'could not parse [hourly] schedule. invalid value for [minute]'],
    [withSchedule({ interval: '500ms' }), 'could not parse schedule: could not parse [interval] schedule. could not parse [500m] as a [seconds] duration'],
    [withSchedule({ interval: 0 }), "could not parse schedule: interval can't be lower than 1000 ms, but [0s] was specified"],
    [withSchedule({ interval: '5m', timezone: 'UTC' }), 'could not parse schedule. Timezone is not supported for schedule type [interval]'],
    [withSchedule({ cron: '0 0 12 * *' }), 'could not parse [cron] schedule'],
    [{ ...seed, input: { transform: {} } }, 'mlplane does not support the [transform] input yet; supported inputs are [simple, none, search, http, chain]'],
    [{ ...seed, input: { foo: {} } }, 'could not parse input for watch [w]. unknown input type [foo]'],
    [{ ...seed, condition: { script: 'return true' } }, 'mlplane does not support the [script] condition yet; supported conditions are [always, never, compare, array_compare]'],
    [{ ...seed, transform: { script: 'return [:]' } }, 'mlplane does not support the [script] transform yet; supported transforms are [search, chain]'],
    [{ ...seed, condition: { compare: { 'ctx.payload.x': { like: 1 } } } }, 'could not parse [compare] condition for watch [w]. unknown comparison operator [like]'],
    [{ ...seed, actions: { a: { email: { to: 'x' } } } }, 'mlplane does not support the [email] action yet; supported actions are [index, logging, webhook]'],
    [{ ...seed, actions: { a: { sms: {} } } }, 'could not parse action [w/a]. unknown action type [sms]'],
    [{ ...seed, actions: { a: { throttle_period: '5s' } } }, 'could not parse watch action [w/a]. missing action type'],
    [withSchedule({ weekly: { on: 'someday' } }), 'could not parse [weekly] schedule. invalid weekly times'],
    [withSchedule({ monthly: { on: 40 } }), 'invalid month day [40]'],
    [withSchedule({ daily: { at: '25:00' } }), 'could not parse [daily] schedule. invalid time value for field [at] - [VALUE_STRING]'],
    [withSchedule({ daily: { time: 'noon' } }), 'could not parse [daily] schedule. unexpected field [time]'],
  ])('%j is refused: %s', (body, reason) => {
    const e = errorOf(body);
    expect(e.status).toBe(400);
    expect(e.error.reason).toBe(reason);
  });

  it('an invalid timezone names the zone and is caused by zone_rules_exception', () => {
    const e = errorOf(withSchedule({ timezone: 'Pangea/Tethys', hourly: { minute: 5 } }));
    expect(e.error).toMatchObject({ type: 'parse_exception', reason: 'could not parse schedule. invalid timezone [Pangea/Tethys]' });
    expect(e.error.caused_by).toMatchObject({ type: 'zone_rules_exception', reason: 'Unknown time-zone ID: Pangea/Tethys' });
    // ZoneRulesException is a plain Java exception: the root cause stays the parse exception.
    expect(e.error.root_cause).toEqual([{ type: 'parse_exception', reason: 'could not parse schedule. invalid timezone [Pangea/Tethys]' }]);
  });

  it('a bad cron explains itself in caused_by as Elasticsearch does', () => {
    const e = errorOf(withSchedule({ cron: '0 0 25 * * ?' }));
    expect(e.error.caused_by).toMatchObject({
      type: 'illegal_argument_exception',
      reason: 'invalid cron expression [0 0 25 * * ?]',
      caused_by: { reason: 'illegal cron expression format [java.lang.IllegalArgumentException: Hour values must be between 0 and 23]' },
    });
    expect(errorOf(withSchedule({ cron: '0 0 12 * *' })).error.caused_by?.caused_by?.reason).toBe(
      'illegal cron expression format [java.lang.IllegalArgumentException: unexpected end of expression at pos [10].]',
    );
  });

  it.each([
    [{ hourly: { minute: '7' } }, { hourly: { minute: [7] } }],
    [{ daily: { at: 'noon' } }, { daily: { at: ['noon'] } }],
    [{ daily: { at: { hour: 9, minute: [0, 30] } } }, { daily: { at: [{ hour: [9], minute: [0, 30] }] } }],
    [{ weekly: { on: 'monday', at: '17:30' } }, { weekly: [{ on: ['MON'], at: ['17:30'] }] }],
    // MonthTimes keeps last_day as day 32 and renders the int array; days sorted and deduplicated.
    [{ monthly: { on: ['last_day', 15, '1', 'first_day'], at: 'noon' } }, { monthly: [{ on: [1, 15, 32], at: ['noon'] }] }],
    // WeekTimes/YearTimes: EnumSets render in enum order as cron keys; equal times are one.
    [
      { weekly: [{ on: ['fri', 2, 'Sunday'], at: ['noon', '12:00'] }, { day: 'sat' }] },
      {
        weekly: [
          { on: ['SUN', 'MON', 'FRI'], at: ['noon'] },
          { on: ['SAT'], at: ['midnight'] },
        ],
      },
    ],
    [{ yearly: { in: ['dec', 'last', 1], on: 25, at: '08:00' } }, { yearly: [{ in: ['JAN', 'DEC'], on: [25], at: ['08:00'] }] }],
    [{ weekly: [] }, { weekly: [{ on: ['MON'], at: ['midnight'] }] }],
    [{ interval: 30 }, { interval: '30s' }],
    [{ cron: '0 0/5 * * * ?' }, { cron: '0 0/5 * * * ?' }],
    [{ cron: ['0 0 12 ? * mon', '0 0 1 * * ?'] }, { cron: ['0 0 1 * * ?', '0 0 12 ? * MON'] }],
    [
      { timezone: 'Europe/Paris', daily: { at: 'noon' } },
      { daily: { at: ['noon'] }, timezone: 'Europe/Paris' },
    ],
  ])('schedule %j is shown as %j', (schedule, shown) => {
    expect(renderWatch(parse(withSchedule(schedule))).trigger).toEqual({ schedule: shown });
  });
});

describe('parsing the http and chain inputs', () => {
  const http = (body: unknown) => ({ ...seed, input: { http: body } });
  const chain = (inputs: unknown) => ({ ...seed, input: { chain: { inputs } } });

  it('keeps an http input and a chain of named inputs as given', () => {
    const h = { request: { host: 'localhost', port: 9200, path: '/{{ctx.watch_id}}', params: { q: 'x' } }, extract: ['a.b'], response_content_type: 'json' };
    expect(renderWatch(parse(http(h))).input).toEqual({ http: h });
    const c = [{ first: { simple: { n: 1 } } }, { second: { http: { request: { url: 'http://127.0.0.1:1/x' } } } }];
    expect(renderWatch(parse(chain(c))).input).toEqual({ chain: { inputs: c } });
  });

  it.each([
    [http({}), 'parse_exception', 'could not parse [http] input for watch [w]. missing require [request] field'],
    [http({ request: { port: 80 } }), 'parse_exception', 'could not parse [http] input for watch [w]. failed to parse http request template'],
    [
      http({ request: { url: 'http://h/' }, extract: [1] }),
      'parse_exception',
      'could not parse [http] input for watch [w]. expected a string value as an [extract] item but found [VALUE_NUMBER] instead',
    ],
    [http({ request: { url: 'http://h/' }, tags: ['a'] }), 'parse_exception', 'could not parse [http] input for watch [w]. unexpected array field [tags]'],
    [http({ request: { url: 'http://h/' }, response_content_type: 'xml' }), 'parse_exception', 'could not parse [http] input for watch [w]. unknown content type [xml]'],
    [http({ request: { url: 'http://h/' }, mode: 'x' }), 'parse_exception', 'could not parse [http] input for watch [w]. unexpected string field [mode]'],
    [
      http({ request: { url: 'http://h/' }, response_content_type: 'text', extract: ['a'] }),
      'parse_exception',
      'could not parse [http] input for watch [w]. key extraction is not supported for content type [text]',
    ],
    [
      http({ request: { url: 'http://h/', auth: { basic: { username: 'u', password: 'p' } } } }),
      'illegal_argument_exception',
      'mlplane does not support the [http input auth] input yet',
    ],
    [
      http({ request: { url: 'http://h/' }, response_content_type: 'yaml' }),
      'illegal_argument_exception',
      'mlplane does not support the [http input response_content_type [yaml]] input yet',
    ],
    [chain([{ a: 'x' }]), 'parse_exception', 'Expected starting JSON object after [a] in watch [w]'],
    [chain([{ a: { simple: {} }, b: { simple: {} } }]), 'parse_exception', 'Expected closing JSON object after parsing input [simple] named [a] in watch [w]'],
    [chain([{ a: { foo: {} } }]), 'parse_exception', 'could not parse input for watch [w]. unknown input type [foo]'],
    [chain([{ a: { http: {} } }]), 'parse_exception', 'could not parse [http] input for watch [w]. missing require [request] field'],
    [chain('x'), 'parse_exception', 'could not parse [chain] input for watch [w]. expected an array of named inputs in field [inputs]'],
  ])('%j is refused: %s %s', (body, type, reason) => {
    const e = errorOf(body);
    expect(e.status).toBe(400);
    expect(e.error.type).toBe(type);
    expect(e.error.reason).toBe(reason);
  });

  it('says why an http request template fails to parse', () => {
    expect(errorOf(http({ request: { port: 80 } })).error.caused_by?.reason).toBe('could not parse http request template. missing required [host] string field');
  });
});
