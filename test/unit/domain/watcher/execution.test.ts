import { describe, expect, it } from 'vitest';
import { type ExecutionInput, type ExecutionPorts, executeWatch, HttpInputFailure, throttle } from '../../../../lib/domain/watcher/execution.ts';
import { freshStatus } from '../../../../lib/domain/watcher/status.ts';
import type { WatchAction, WatchConfig, WatchStatus } from '../../../../lib/domain/watcher/types.ts';

const PUT = Date.parse('2026-01-10T12:00:00.000Z');
const EXEC = PUT + 60_000;
const NOW = EXEC + 10; // wall clock during the run

const logging: WatchAction = { id: 'log', type: 'logging', body: { text: 'count {{ctx.payload.n}}' } };

function watch(over: Partial<WatchConfig> = {}): WatchConfig {
  return {
    trigger: { schedule: { type: 'interval', value: '1m' } },
    input: { type: 'simple', body: { n: 1, match: 'true' } },
    condition: { type: 'compare', body: { 'ctx.payload.match': { eq: 'true' } } },
    actions: [logging],
    ...over,
  };
}

function ports(fail?: Error): ExecutionPorts & { runs: string[] } {
  const runs: string[] = [];
  return {
    runs,
    now: () => NOW,
    search: async () => ({ hits: { total: 0 } }),
    httpInput: async () => {
      throw new Error('no http input here');
    },
    runAction: async (a, model, simulate) => {
      if (fail) throw fail;
      runs.push(`${a.id}:${simulate ? 'sim' : 'run'}`);
      const ctx = model.ctx as { payload: { n?: number } };
      return { status: simulate ? 'simulated' : 'success', result: { logged_text: `count ${ctx.payload.n ?? ''}` } };
    },
  };
}

const input = (status: WatchStatus, over: Partial<ExecutionInput> = {}): ExecutionInput => ({
  watchId: 'w',
  watch: watch(),
  status,
  trigger: 'manual',
  triggeredTimeMs: EXEC,
  scheduledTimeMs: EXEC,
  ...over,
});

const fresh = () => freshStatus(['log'], PUT, true);
const withAck = (state: 'ackable' | 'acked', lastSuccess?: number): WatchStatus => ({
  state: { active: true, timestamp: PUT },
  actions: {
    log: {
      ack: { timestamp: PUT + 1, state },
      ...(lastSuccess !== undefined
        ? { last_execution: { timestamp: lastSuccess, successful: true }, last_successful_execution: { timestamp: lastSuccess, successful: true } }
        : {}),
    },
  },
});

describe('executeWatch: status transitions (spec §2.4)', () => {
  it('row 1: awaits → ackable at the execution time when the action succeeds', async () => {
    const p = ports();
    const out = await executeWatch(input(fresh()), 'rid', EXEC, p);
    expect(out.state).toBe('executed');
    expect(out.status.actions.log).toEqual({
      ack: { timestamp: EXEC, state: 'ackable' },
      last_execution: { timestamp: EXEC, successful: true },
      last_successful_execution: { timestamp: EXEC, successful: true },
    });
    expect(out.status).toMatchObject({ last_checked: EXEC, last_met_condition: EXEC, execution_state: 'executed' });
    expect(out.result.actions).toEqual([{ id: 'log', type: 'logging', status: 'success', logging: { logged_text: 'count 1' } }]);
    expect(p.runs).toEqual(['log:run']);
  });

  it('row 2: a failing action stays awaits with last_execution failed, reason "" for an exception', async () => {
    const out = await executeWatch(input(fresh()), 'rid', EXEC, ports(new Error('boom')));
    expect(out.state).toBe('executed');
    expect(out.status.actions.log).toEqual({ ack: { timestamp: PUT, state: 'awaits_successful_execution' }, last_execution: { timestamp: EXEC, successful: false, reason: '' } });
    expect(out.result.actions).toEqual([
      { id: 'log', type: 'logging', status: 'failure', error: { root_cause: [{ type: 'exception', reason: 'boom' }], type: 'exception', reason: 'boom' } },
    ]);
  });

  it('row 3: a skipped action stays awaits with last_throttle "manually skipped"', async () => {
    const out = await executeWatch(input(fresh(), { actionModes: { log: 'skip' } }), 'rid', EXEC, ports());
    expect(out.state).toBe('throttled');
    expect(out.status.actions.log).toEqual({ ack: { timestamp: PUT, state: 'awaits_successful_execution' }, last_throttle: { timestamp: EXEC, reason: 'manually skipped' } });
  });

  it('skip results appear even when the condition is not met', async () => {
    const out = await executeWatch(input(fresh(), { actionModes: { _all: 'skip' }, alternativeInput: { match: 'false' } }), 'rid', EXEC, ports());
    expect(out.state).toBe('execution_not_needed');
    expect(out.result.actions).toEqual([{ id: 'log', type: 'logging', status: 'throttled', reason: 'manually skipped' }]);
  });

  it('row 5: condition false on awaits keeps awaits and sets only last_checked', async () => {
    const p = ports();
    const out = await executeWatch(input(fresh(), { alternativeInput: { match: 'false' } }), 'rid', EXEC, p);
    expect(out.state).toBe('execution_not_needed');
    expect(out.status.last_checked).toBe(EXEC);
    expect(out.status.last_met_condition).toBeUndefined();
    expect(out.status.actions.log).toEqual({ ack: { timestamp: PUT, state: 'awaits_successful_execution' } });
    expect(out.result.actions).toEqual([]);
    expect(out.result.input).toEqual({ type: 'simple', status: 'success', payload: { match: 'false' } });
    expect(p.runs).toEqual([]);
  });

  it('row 6: ackable stays ackable with its ack timestamp when the action succeeds again', async () => {
    const out = await executeWatch(input(withAck('ackable', PUT)), 'rid', EXEC, ports());
    expect(out.status.actions.log?.ack).toEqual({ timestamp: PUT + 1, state: 'ackable' });
    expect(out.status.actions.log?.last_successful_execution?.timestamp).toBe(EXEC);
  });

  it('rows 8 and 11: condition false resets ackable and acked to awaits at the execution time', async () => {
    for (const state of ['ackable', 'acked'] as const) {
      const out = await executeWatch(input(withAck(state), { alternativeInput: { match: 'false' } }), 'rid', EXEC, ports());
      expect(out.status.actions.log?.ack).toEqual({ timestamp: EXEC, state: 'awaits_successful_execution' });
    }
  });

  it('row 9: an action condition false resets ackable at wall-clock now and gives condition_failed', async () => {
    const w = watch({ actions: [{ ...logging, condition: { type: 'compare', body: { 'ctx.payload.n': { gt: 5 } } } }] });
    const p = ports();
    const out = await executeWatch(input(withAck('ackable'), { watch: w }), 'rid', EXEC, p);
    expect(out.status.actions.log?.ack).toEqual({ timestamp: NOW, state: 'awaits_successful_execution' });
    expect(out.result.actions).toEqual([
      {
        id: 'log',
        type: 'logging',
        status: 'condition_failed',
        condition: { type: 'compare', status: 'success', met: false, compare: { resolved_values: { 'ctx.payload.n': 1 } } },
        reason: 'condition not met. skipping',
      },
    ]);
    expect(out.state).toBe('executed');
    expect(p.runs).toEqual([]);
  });

  it('row 10: acked with the condition true is acknowledged, status unchanged, no last_throttle', async () => {
    const p = ports();
    const out = await executeWatch(input(withAck('acked')), 'rid', EXEC, p);
    expect(out.state).toBe('acknowledged');
    expect(out.status.actions.log).toEqual(withAck('acked').actions.log);
    expect(out.result.actions).toEqual([{ id: 'log', type: 'logging', status: 'acknowledged', reason: 'action [log] was acked at [2026-01-10T12:00:00.001Z]' }]);
    expect(p.runs).toEqual([]);
  });

  it('row 10: the action condition is not evaluated for an acked action on a normal run', async () => {
    const w = watch({ actions: [{ ...logging, condition: { type: 'never', body: {} } }] });
    const out = await executeWatch(input(withAck('acked'), { watch: w }), 'rid', EXEC, ports());
    expect(out.status.actions.log?.ack.state).toBe('acked');
  });

  it('row 12: force_execute runs an acked action and keeps it acked', async () => {
    const p = ports();
    const out = await executeWatch(input(withAck('acked', EXEC - 1000), { actionModes: { log: 'force_execute' } }), 'rid', EXEC, p);
    expect(out.state).toBe('executed');
    expect(out.status.actions.log?.ack).toEqual({ timestamp: PUT + 1, state: 'acked' });
    expect(out.status.actions.log?.last_successful_execution?.timestamp).toBe(EXEC);
    expect(p.runs).toEqual(['log:run']);
  });

  it('row 13: force_execute with the action condition false resets acked at wall-clock now', async () => {
    const w = watch({ condition: { type: 'always', body: {} }, actions: [{ ...logging, condition: { type: 'compare', body: { 'ctx.payload.match': { eq: 'true' } } } }] });
    const out = await executeWatch(input(withAck('acked'), { watch: w, actionModes: { _all: 'force_execute' }, alternativeInput: { match: 'false' } }), 'rid', EXEC, ports());
    expect(out.status.actions.log?.ack).toEqual({ timestamp: NOW, state: 'awaits_successful_execution' });
  });
});

describe('throttling (spec §3)', () => {
  it('throttles within the 5s default, inclusive, with Elasticsearch texts', () => {
    const t = throttle(logging, watch(), withAck('ackable', NOW - 5000), NOW);
    expect(t).toEqual({ status: 'throttled', reason: 'throttling interval is set to [5s] but time elapsed since last execution is [5s]' });
    expect(throttle(logging, watch(), withAck('ackable', NOW - 5001), NOW)).toBeUndefined();
    expect(throttle(logging, watch(), withAck('ackable', NOW - 350), NOW)?.reason).toBe('throttling interval is set to [5s] but time elapsed since last execution is [350ms]');
  });

  it('uses the action period before the watch period', () => {
    const w = watch({ throttle_period_in_millis: 3_600_000 });
    expect(throttle(logging, w, withAck('ackable', NOW - 1200), NOW)?.reason).toBe('throttling interval is set to [1h] but time elapsed since last execution is [1.2s]');
    expect(throttle({ ...logging, throttle_period_in_millis: 1000 }, w, withAck('ackable', NOW - 1200), NOW)).toBeUndefined();
  });

  it('lets the period throttle win over the ack throttle', async () => {
    const out = await executeWatch(input(withAck('acked', NOW - 100)), 'rid', EXEC, ports());
    expect(out.state).toBe('throttled');
    expect(out.status.actions.log?.last_throttle?.reason).toBe('throttling interval is set to [5s] but time elapsed since last execution is [100ms]');
  });

  it('skips throttling with force modes and simulates with simulate modes', async () => {
    const p = ports();
    const out = await executeWatch(input(withAck('ackable', NOW - 100), { actionModes: { _all: 'force_simulate', log: 'execute' } }), 'rid', EXEC, p);
    expect(out.result.actions).toEqual([{ id: 'log', type: 'logging', status: 'simulated', logging: { logged_text: 'count 1' } }]);
    expect(p.runs).toEqual(['log:sim']);
    const throttled = await executeWatch(input(withAck('ackable', NOW - 100), { actionModes: { log: 'simulate' } }), 'rid', EXEC, ports());
    expect(throttled.state).toBe('throttled');
  });
});

describe('executeWatch: record parts', () => {
  it('ignore_condition uses always and sets last_met_condition', async () => {
    const w = watch({ condition: { type: 'never', body: {} } });
    const out = await executeWatch(input(fresh(), { watch: w, ignoreCondition: true }), 'rid', EXEC, ports());
    expect(out.result.condition).toEqual({ type: 'always', status: 'success', met: true });
    expect(out.status.last_met_condition).toBe(EXEC);
    expect(out.status.actions.log?.ack.state).toBe('ackable');
  });

  it('gives the manual and schedule trigger events', async () => {
    const manual = await executeWatch(input(fresh(), { triggeredTimeMs: PUT, scheduledTimeMs: PUT - 1000 }), 'rid', EXEC, ports());
    expect(manual.triggerEvent).toEqual({ type: 'manual', triggered_time: '2026-01-10T12:00:00.000Z', manual: { schedule: { scheduled_time: '2026-01-10T11:59:59.000Z' } } });
    const sched = await executeWatch(input(fresh(), { trigger: 'schedule' }), 'rid', EXEC, ports());
    expect(sched.triggerEvent).toEqual({ type: 'schedule', triggered_time: '2026-01-10T12:01:00.000Z', schedule: { scheduled_time: '2026-01-10T12:01:00.000Z' } });
  });

  it('does not run a scheduled execution of an inactive watch', async () => {
    const p = ports();
    const status = { ...fresh(), state: { active: false, timestamp: PUT } };
    const out = await executeWatch(input(status, { trigger: 'schedule' }), 'rid', EXEC, p);
    expect(out.state).toBe('execution_not_needed');
    expect(out.messages).toEqual(['Watch is not active']);
    expect(p.runs).toEqual([]);
  });

  it('runs foreach once per element up to max_iterations', async () => {
    const w = watch({
      input: { type: 'simple', body: { match: 'true', items: [{ n: 1 }, { n: 2 }, { n: 3 }] } },
      actions: [{ ...logging, foreach: 'ctx.payload.items', max_iterations: 2 }],
    });
    const out = await executeWatch(input(fresh(), { watch: w }), 'rid', EXEC, ports());
    expect(out.result.actions).toEqual([
      {
        id: 'log',
        type: 'logging',
        status: 'success',
        number_of_actions_executed: 2,
        foreach: [{ logging: { logged_text: 'count 1' } }, { logging: { logged_text: 'count 2' } }],
        max_iterations: 2,
      },
    ]);
  });

  it('fails a foreach action over an empty list or a non-list with the exception, reason "" in the status', async () => {
    for (const [items, text] of [
      [[], 'foreach object [ctx.payload.items] was an empty list, could not run any action'],
      [{ a: 1 }, 'specified foreach object was not a an array/collection: [ctx.payload.items]'],
      [undefined, 'specified foreach object was null: [ctx.payload.items]'],
    ] as const) {
      const w = watch({ input: { type: 'simple', body: { match: 'true', items } }, actions: [{ ...logging, foreach: 'ctx.payload.items' }] });
      const p = ports();
      const out = await executeWatch(input(fresh(), { watch: w }), 'rid', EXEC, p);
      expect(out.result.actions).toEqual([
        {
          id: 'log',
          type: 'logging',
          status: 'failure',
          error: { root_cause: [{ type: 'illegal_state_exception', reason: text }], type: 'illegal_state_exception', reason: text },
        },
      ]);
      expect(out.status.actions.log?.last_execution).toEqual({ timestamp: EXEC, successful: false, reason: '' });
      expect(p.runs).toEqual([]);
    }
  });

  it('gives partial_failure when the foreach runs differ', async () => {
    const w = watch({ input: { type: 'simple', body: { match: 'true', items: [1, 2] } }, actions: [{ ...logging, foreach: 'ctx.payload.items' }] });
    const p = ports();
    let n = 0;
    p.runAction = async (_a, model) => {
      n++;
      const v = (model.ctx as { payload: { _value: number } }).payload._value;
      return n === 1 ? { status: 'success', result: { logged_text: String(v) } } : { status: 'failure', reason: 'nope' };
    };
    const out = await executeWatch(input(fresh(), { watch: w }), 'rid', EXEC, p);
    expect(out.result.actions).toEqual([
      {
        id: 'log',
        type: 'logging',
        status: 'partial_failure',
        number_of_actions_executed: 2,
        foreach: [{ logging: { logged_text: '1' } }, { reason: 'nope' }],
        max_iterations: 100,
      },
    ]);
    expect(out.status.actions.log).toEqual(fresh().actions.log);
  });

  // ES: a failed watch transform aborts the run (`abortFailedExecution`), but the record state
  // is WatchRecord.getState of the result so far: the condition was met, so `executed`
  // (execute_watch/20_transform.yml "misconfigured search transform on failure").
  it('a failing watch transform stops the run with state executed, the message, and reason plus error', async () => {
    const p = ports();
    p.search = async () => {
      throw Object.assign(new Error('unknown query [does_not_exist]'), { type: 'parsing_exception' });
    };
    const w = watch({ transform: { type: 'search', body: { request: { indices: ['i'], body: { query: { does_not_exist: {} } } } } } });
    const out = await executeWatch(input(fresh(), { watch: w }), 'rid', EXEC, p);
    expect(out.state).toBe('executed');
    expect(out.status.execution_state).toBe('executed');
    expect(out.messages).toEqual(['failed to execute watch transform']);
    expect(out.result.transform).toEqual({
      type: 'search',
      status: 'failure',
      reason: 'unknown query [does_not_exist]',
      error: { root_cause: [{ type: 'parsing_exception', reason: 'unknown query [does_not_exist]' }], type: 'parsing_exception', reason: 'unknown query [does_not_exist]' },
      search: { request: { indices: ['i'], body: { query: { does_not_exist: {} } } } },
    });
    expect(out.result.actions).toEqual([]);
    expect(p.runs).toEqual([]);
  });

  // ES ActionWrapper: a transform result with status failure fails the action with
  // "Failed to transform payload" and keeps the transform result in the action's entry.
  it('a failing action transform fails the action with "Failed to transform payload" and the transform result', async () => {
    const p = ports();
    p.search = async () => {
      throw Object.assign(new Error('no such index [nope]'), { type: 'index_not_found_exception' });
    };
    const a: WatchAction = { ...logging, transform: { type: 'search', body: { request: { indices: ['nope'] } } } };
    const out = await executeWatch(input(fresh(), { watch: watch({ actions: [a] }) }), 'rid', EXEC, p);
    expect(out.state).toBe('executed');
    expect(out.result.actions).toEqual([
      {
        id: 'log',
        type: 'logging',
        status: 'failure',
        transform: {
          search: {
            type: 'search',
            status: 'failure',
            reason: 'no such index [nope]',
            error: { root_cause: [{ type: 'index_not_found_exception', reason: 'no such index [nope]' }], type: 'index_not_found_exception', reason: 'no such index [nope]' },
            search: { request: { indices: ['nope'] } },
          },
        },
        reason: 'Failed to transform payload',
      },
    ]);
    expect(out.status.actions.log?.last_execution).toEqual({ timestamp: EXEC, successful: false, reason: 'Failed to transform payload' });
    expect(p.runs).toEqual([]);
  });

  // ExecutableChainTransform: the first failed step stops the chain with a reason naming it,
  // `error: "unknown"` (a Result built from a reason carries no exception) and the results so far.
  it('a chain transform stops at its first failed step with Elasticsearch reason and the results so far', async () => {
    const p = ports();
    let calls = 0;
    p.search = async () => {
      calls += 1;
      if (calls === 2) throw Object.assign(new Error('no such index [b]'), { type: 'index_not_found_exception' });
      return { hits: { total: 1 } };
    };
    const chain = [{ search: { request: { indices: ['a'] } } }, { search: { request: { indices: ['b'] } } }, { search: { request: { indices: ['c'] } } }];
    const out = await executeWatch(input(fresh(), { watch: watch({ transform: { type: 'chain', body: chain } }) }), 'rid', EXEC, p);
    expect(out.state).toBe('executed');
    expect(out.messages).toEqual(['failed to execute watch transform']);
    expect(calls).toBe(2);
    expect(out.result.transform).toMatchObject({
      type: 'chain',
      status: 'failure',
      reason: 'failed to execute [chain] transform for [rid]. failed to execute sub-transform [search]',
      error: 'unknown',
      chain: [{ search: { status: 'success', payload: { hits: { total: 1 } } } }, { search: { status: 'failure', reason: 'no such index [b]' } }],
    });
    expect((out.result.transform as { chain: unknown[] }).chain).toHaveLength(2);
  });

  it('fails the execution when the condition throws', async () => {
    const w = watch({ condition: { type: 'array_compare', body: { 'ctx.payload.n': { path: '', eq: { value: 1 } } } } });
    const out = await executeWatch(input(fresh(), { watch: w }), 'rid', EXEC, ports());
    expect(out.state).toBe('failed');
    expect(out.messages).toEqual(['failed to execute watch condition']);
  });
});

describe('executeWatch: the chain and http inputs', () => {
  const chainWatch = (inputs: unknown[]) => watch({ input: { type: 'chain', body: { inputs } }, condition: { type: 'always', body: {} } });

  it('a chain input gives each step the earlier payloads by name and ends with all of them', async () => {
    const p = ports();
    const seen: unknown[] = [];
    p.search = async (_request, model) => {
      seen.push(structuredClone((model.ctx as { payload: unknown }).payload));
      return { hits: { total: 2 } };
    };
    p.httpInput = async (_body, model) => {
      seen.push(structuredClone((model.ctx as { payload: unknown }).payload));
      return { payload: { _status_code: 200, ok: true }, request: { host: 'h', port: 1, scheme: 'http', method: 'get' }, statusCode: 200 };
    };
    const w = chainWatch([{ first: { simple: { n: 1 } } }, { found: { search: { request: { indices: ['i'] } } } }, { web: { http: { request: { url: 'http://h:1/' } } } }]);
    const out = await executeWatch(input(fresh(), { watch: w }), 'rid', EXEC, p);
    expect(seen).toEqual([{ first: { n: 1 } }, { first: { n: 1 }, found: { hits: { total: 2 } } }]);
    expect(out.state).toBe('executed');
    expect(out.result.input).toEqual({
      type: 'chain',
      status: 'success',
      payload: { first: { n: 1 }, found: { hits: { total: 2 } }, web: { _status_code: 200, ok: true } },
      chain: {
        first: { type: 'simple', status: 'success', payload: { n: 1 } },
        found: { type: 'search', status: 'success', payload: { hits: { total: 2 } }, search: { request: { indices: ['i'] } } },
        web: {
          type: 'http',
          status: 'success',
          payload: { _status_code: 200, ok: true },
          http: { request: { host: 'h', port: 1, scheme: 'http', method: 'get' }, status_code: 200 },
        },
      },
    });
  });

  it('a nested chain composes its own payload map under its name', async () => {
    const w = chainWatch([{ outer: { chain: { inputs: [{ inner: { simple: { v: 'x' } } }] } } }, { after: { none: {} } }]);
    const out = await executeWatch(input(fresh(), { watch: w }), 'rid', EXEC, ports());
    expect((out.result.input as { payload: unknown }).payload).toEqual({ outer: { inner: { v: 'x' } }, after: {} });
  });

  it('as in Elasticsearch a failed chain step gives {} and the chain goes on and succeeds', async () => {
    const p = ports();
    p.search = async () => {
      throw Object.assign(new Error('no such index [b]'), { type: 'index_not_found_exception' });
    };
    const w = chainWatch([{ found: { search: { request: { indices: ['b'] } } } }, { next: { simple: { n: 2 } } }]);
    const out = await executeWatch(input(fresh(), { watch: w }), 'rid', EXEC, p);
    expect(out.state).toBe('executed');
    expect(out.result.input).toMatchObject({
      status: 'success',
      payload: { found: {}, next: { n: 2 } },
      chain: { found: { type: 'search', status: 'failure', error: { type: 'index_not_found_exception', reason: 'no such index [b]' } } },
    });
  });

  it('an http input that fails fails the watch input and shows the rendered request', async () => {
    const p = ports();
    const request = { host: '10.255.255.1', port: 9, scheme: 'http', method: 'get' };
    p.httpInput = async () => {
      throw new HttpInputFailure(request, new Error('[http] input [10.255.255.1:9] did not answer within [1s]'));
    };
    const w = watch({ input: { type: 'http', body: { request: { host: '10.255.255.1', port: 9 } } } });
    const out = await executeWatch(input(fresh(), { watch: w }), 'rid', EXEC, p);
    expect(out.state).toBe('failed');
    expect(out.messages).toEqual(['failed to execute watch input']);
    expect(out.result.input).toEqual({
      type: 'http',
      status: 'failure',
      error: {
        root_cause: [{ type: 'exception', reason: '[http] input [10.255.255.1:9] did not answer within [1s]' }],
        type: 'exception',
        reason: '[http] input [10.255.255.1:9] did not answer within [1s]',
      },
      http: { request },
    });
    expect(p.runs).toEqual([]);
  });
});
