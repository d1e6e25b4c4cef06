import { describe, expect, it } from 'vitest';
import { esClient, esError, uniqueId } from './client.ts';
import { direct } from './direct.ts';

const es = esClient();
const store = await direct(() => import('../../lib/store/watches.ts'));

const seed = {
  trigger: { schedule: { hourly: { minute: [0, 5] } } },
  input: { simple: { payload: { send: 'yes' } } },
  condition: { always: {} },
  actions: { test_index: { throttle_period: '15m', index: { index: 'test' } } },
};

/** Sets action states directly in the store (the execution engine's job), as if executions had run. */
async function setAckStates(id: string, states: Record<string, 'awaits_successful_execution' | 'ackable' | 'acked'>, extra: { runningSinceMs?: number } = {}) {
  const w = await store.getWatch(id);
  if (!w) throw new Error(`no watch ${id}`);
  const actions = { ...w.status.actions };
  for (const [a, state] of Object.entries(states)) actions[a] = { ...actions[a], ack: { timestamp: 1_000, state } };
  const stored = await store.putStatus(id, { ...w.status, actions }, w.seqNo);
  if (extra.runningSinceMs !== undefined) await store.setWatchRunning(id, extra.runningSinceMs);
  return stored;
}

/** A raw request (the 5.x paths, or to see headers), failing on nothing. */
async function raw(method: string, path: string, querystring: Record<string, string> = {}, body?: Record<string, unknown>) {
  const res = await es.transport.request({ method, path, querystring, ...(body === undefined ? {} : { body }) }, { meta: true, ignore: [400, 404, 409] });
  return { status: res.statusCode ?? 0, body: res.body as any, warning: res.headers.warning as string | undefined };
}

describe('watcher CRUD on the current paths with the official client', () => {
  it('put creates with 201 and a fresh status; get shows it; a re-put is 200 and resets the status', async () => {
    const id = uniqueId('w');
    const put = await es.watcher.putWatch({ id, ...seed } as any);
    expect(put).toMatchObject({ _id: id, _version: 1, _seq_no: 0, _primary_term: 1, created: true });

    const got = await es.watcher.getWatch({ id });
    expect(got).toMatchObject({ found: true, _id: id, _version: 1, _seq_no: 0, _primary_term: 1 });
    expect(got.status?.actions?.test_index?.ack.state).toBe('awaits_successful_execution');
    expect(got.status?.version).toBe(1);
    expect(got.status?.state.active).toBe(true);
    expect(got.status?.state.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(got.watch).toEqual({
      trigger: seed.trigger,
      input: seed.input,
      condition: seed.condition,
      actions: { test_index: { throttle_period_in_millis: 900000, index: { index: 'test' } } },
    });
    expect(got.watch).not.toHaveProperty('status');

    await setAckStates(id, { test_index: 'acked' });
    const again = await es.watcher.putWatch({ id, ...seed } as any, { meta: true });
    expect(again.statusCode).toBe(200);
    expect(again.body).toMatchObject({ _version: 3, _seq_no: 2, created: false });
    expect((await es.watcher.getWatch({ id })).status?.actions?.test_index?.ack.state).toBe('awaits_successful_execution');
  });

  it('put with ?active=false stores an inactive watch; deactivate and activate flip it with the post-write version', async () => {
    const id = uniqueId('w');
    await es.watcher.putWatch({ id, active: false, ...seed } as any);
    expect((await es.watcher.getWatch({ id })).status?.state.active).toBe(false);
    const on = await es.watcher.activateWatch({ watch_id: id });
    expect(on.status.state.active).toBe(true);
    expect(on.status.version).toBe(2);
    const off = await es.watcher.deactivateWatch({ watch_id: id });
    expect(off.status.state.active).toBe(false);
    expect(off.status.version).toBe(3);
    expect((await es.watcher.getWatch({ id })).status?.state.active).toBe(false);
  });

  it('put with if_seq_no merges (keeps last_*) and a stale one is 409', async () => {
    const id = uniqueId('w');
    await es.watcher.putWatch({ id, ...seed } as any);
    const w = await store.getWatch(id);
    if (!w) throw new Error('missing');
    const withRun = await store.putStatus(
      id,
      { ...w.status, last_checked: 5_000, actions: { test_index: { ack: { timestamp: 5_000, state: 'ackable' }, last_execution: { timestamp: 5_000, successful: true } } } },
      w.seqNo,
    );
    const put = await es.watcher.putWatch({ id, if_seq_no: withRun.seqNo, if_primary_term: 1, ...seed } as any);
    expect(put).toMatchObject({ _version: 3, _seq_no: 2, created: false });
    const got = await es.watcher.getWatch({ id });
    expect(got.status?.last_checked).toBe('1970-01-01T00:00:05.000Z');
    expect(got.status?.actions?.test_index).toMatchObject({ ack: { state: 'awaits_successful_execution' }, last_execution: { successful: true } });

    const stale = await esError(es.watcher.putWatch({ id, if_seq_no: 0, if_primary_term: 1, ...seed } as any));
    expect(stale).toMatchObject({
      status: 409,
      type: 'version_conflict_engine_exception',
      reason: `[${id}]: version conflict, required seqNo [0], primary term [1]. current document has seqNo [2] and primary term [1]`,
    });
  });

  it('delete answers found, then 404 with found false', async () => {
    const id = uniqueId('w');
    await es.watcher.putWatch({ id, ...seed } as any);
    expect(await es.watcher.deleteWatch({ id })).toEqual({ _id: id, _version: 2, found: true });
    const again = await raw('DELETE', `/_watcher/watch/${id}`);
    expect(again).toMatchObject({ status: 404, body: { _id: id, found: false } });
  });

  it('get of an unknown watch is 404 {found: false, _id}', async () => {
    const got = await raw('GET', '/_watcher/watch/no-such-watch');
    expect(got).toEqual({ status: 404, body: { found: false, _id: 'no-such-watch' }, warning: undefined });
  });
});

describe('ack on the current paths', () => {
  it('of a never-run watch is a 200 no-op that keeps the version', async () => {
    const id = uniqueId('w');
    await es.watcher.putWatch({ id, ...seed } as any);
    const acked = await es.watcher.ackWatch({ watch_id: id });
    expect(acked.status.actions?.test_index?.ack.state).toBe('awaits_successful_execution');
    expect(acked.status.version).toBe(1);
    expect((await es.watcher.getWatch({ id }))._version).toBe(1);
    const one = await es.watcher.ackWatch({ watch_id: id, action_id: 'test_index' });
    expect(one.status.actions?.test_index?.ack.state).toBe('awaits_successful_execution');
  });

  it('acks an ackable action, answers the version read before the write, ignores unknown ids', async () => {
    const id = uniqueId('w');
    await es.watcher.putWatch({ id, ...seed, actions: { ...seed.actions, other: { logging: { text: 'hi' } } } } as any);
    await setAckStates(id, { test_index: 'ackable', other: 'ackable' });
    const acked = await es.watcher.ackWatch({ watch_id: id, action_id: ['test_index', 'nope'] });
    expect(acked.status.actions?.test_index?.ack.state).toBe('acked');
    expect(acked.status.actions?.other?.ack.state).toBe('ackable');
    expect(acked.status.version).toBe(2);
    const got = await es.watcher.getWatch({ id });
    expect(got._version).toBe(3);
    expect(got.status?.actions?.test_index?.ack.state).toBe('acked');

    const all = await raw('POST', `/_watcher/watch/${id}/_ack`);
    expect(all.body.status.actions.other.ack.state).toBe('acked');
  });

  it('acks the comma list of a path', async () => {
    const id = uniqueId('w');
    await es.watcher.putWatch({ id, ...seed, actions: { a1: { logging: { text: 'a' } }, a2: { logging: { text: 'b' } }, a3: { logging: { text: 'c' } } } } as any);
    await setAckStates(id, { a1: 'ackable', a2: 'ackable', a3: 'ackable' });
    const r = await raw('POST', `/_watcher/watch/${id}/_ack/a1,a2`);
    expect(r.status).toBe(200);
    expect([r.body.status.actions.a1.ack.state, r.body.status.actions.a2.ack.state, r.body.status.actions.a3.ack.state]).toEqual(['acked', 'acked', 'ackable']);
  });

  it('is 409 while an execution holds the watch', async () => {
    const id = uniqueId('w');
    await es.watcher.putWatch({ id, ...seed } as any);
    await setAckStates(id, { test_index: 'ackable' }, { runningSinceMs: Date.now() });
    const e = await esError(es.watcher.ackWatch({ watch_id: id }));
    expect(e).toMatchObject({ status: 409, type: 'status_exception', reason: `watch[${id}] is running currently, cannot ack until finished` });
    await store.setWatchRunning(id, undefined);
    expect((await es.watcher.ackWatch({ watch_id: id })).status.actions?.test_index?.ack.state).toBe('acked');
  });

  it('refuses unknown watches, whitespace ids and parameters as Elasticsearch', async () => {
    expect(await esError(es.watcher.ackWatch({ watch_id: 'non-existent-watch' }))).toMatchObject({
      status: 404,
      type: 'resource_not_found_exception',
      reason: 'Watch with id [non-existent-watch] does not exist',
    });
    expect(await raw('POST', '/_watcher/watch/a%20b/_ack')).toMatchObject({
      status: 400,
      body: { error: { type: 'action_request_validation_exception', reason: 'Validation Failed: 1: watch id contains whitespace;' } },
    });
    expect((await raw('POST', '/_watcher/watch/w/_ack/a%20b')).body.error.reason).toBe('Validation Failed: 1: action id [a b] contains whitespace;');
    expect((await raw('POST', '/_watcher/watch/w/_ack', { master_timeout: '30s' })).body.error).toMatchObject({
      type: 'illegal_argument_exception',
      reason: 'request [/_watcher/watch/w/_ack] contains unrecognized parameter: [master_timeout]',
    });
  });

  it('activate and deactivate of an unknown watch are 404', async () => {
    expect((await esError(es.watcher.activateWatch({ watch_id: 'no-such-watch' }))).status).toBe(404);
    expect((await esError(es.watcher.deactivateWatch({ watch_id: 'no-such-watch' }))).status).toBe(404);
  });
});

describe('put-watch errors', () => {
  it.each([
    [{ ...seed, foo: 1 }, 'parse_exception', 'could not parse watch [bad]. unexpected field [foo]'],
    [{ input: seed.input }, 'parse_exception', 'could not parse watch [bad]. missing required field [trigger]'],
    [{ ...seed, trigger: { schedule: { cron: 'not a cron' } } }, 'parse_exception', 'could not parse [cron] schedule'],
    [
      { ...seed, trigger: { schedule: { interval: '5m', timezone: 'UTC' } } },
      'parse_exception',
      'could not parse schedule. Timezone is not supported for schedule type [interval]',
    ],
    [
      { ...seed, condition: { script: { source: 'return true' } } },
      'illegal_argument_exception',
      'mlplane does not support the [script] condition yet; supported conditions are [always, never, compare, array_compare]',
    ],
    [
      { ...seed, actions: { s: { slack: { message: {} } } } },
      'illegal_argument_exception',
      'mlplane does not support the [slack] action yet; supported actions are [index, logging, webhook]',
    ],
    [
      { ...seed, input: { transform: {} } },
      'illegal_argument_exception',
      'mlplane does not support the [transform] input yet; supported inputs are [simple, none, search, http, chain]',
    ],
  ])('%j → 400 %s %s', async (body, type, reason) => {
    expect(await esError(es.watcher.putWatch({ id: 'bad', ...body } as any))).toMatchObject({ status: 400, type, reason });
  });

  it('an invalid timezone is caused by zone_rules_exception', async () => {
    const e = await esError(es.watcher.putWatch({ id: 'bad', ...seed, trigger: { schedule: { timezone: 'Pangea/Tethys', hourly: { minute: 5 } } } } as any));
    expect(e.body.error).toMatchObject({
      reason: 'could not parse schedule. invalid timezone [Pangea/Tethys]',
      caused_by: { type: 'zone_rules_exception', reason: 'Unknown time-zone ID: Pangea/Tethys' },
    });
  });

  it('versioning rules are validation errors', async () => {
    const both = await raw('PUT', '/_watcher/watch/v', { version: '1', if_seq_no: '0', if_primary_term: '1' }, seed);
    expect(both.body.error.reason).toBe('Validation Failed: 1: compare and write operations can not use versioning;');
    const noTerm = await raw('PUT', '/_watcher/watch/v', { if_seq_no: '0' }, seed);
    expect(noTerm.body.error.reason).toBe('Validation Failed: 1: ifSeqNo is set, but primary term is [0];');
    const noBody = await raw('PUT', '/_watcher/watch/v');
    expect(noBody.body.error.reason).toBe('Validation Failed: 1: request body is missing;');
  });
});

describe('the 5.x _xpack/watcher paths', () => {
  const warningOf = (method: string, path: string) => `[${method} /_xpack/watcher/${path}] is deprecated! Use [${method} /_watcher/${path}] instead.`;

  it('run the seed sequence with _status and the deprecation warning, without compatibility headers', async () => {
    const id = uniqueId('w5');
    const put = await raw('PUT', `/_xpack/watcher/watch/${id}`, {}, seed);
    expect(put.status).toBe(201);
    expect(put.warning).toContain(warningOf('PUT', 'watch/{id}'));

    const got = await raw('GET', `/_xpack/watcher/watch/${id}`);
    expect(got.status).toBe(200);
    expect(Object.keys(got.body)).toEqual(['found', '_id', '_status', 'watch']);
    expect(got.body._status.actions.test_index.ack.state).toBe('awaits_successful_execution');
    expect(got.warning).toContain(warningOf('GET', 'watch/{id}'));

    await setAckStates(id, { test_index: 'ackable' });
    const acked = await raw('POST', `/_xpack/watcher/watch/${id}/_ack`, { master_timeout: '30s' });
    expect(acked.status).toBe(200);
    expect(acked.body._status.actions.test_index.ack.state).toBe('acked');
    expect(acked.warning).toContain(warningOf('POST', 'watch/{id}/_ack'));

    const missing = await raw('POST', '/_xpack/watcher/watch/no-such-watch/_ack');
    expect(missing.status).toBe(404);
    expect(missing.warning).toContain(warningOf('POST', 'watch/{id}/_ack'));

    const deleted = await raw('DELETE', `/_xpack/watcher/watch/${id}`);
    expect(deleted.body).toEqual({ _id: id, _version: 4, found: true });
  });

  it('ack waits for a running execution within master_timeout, then answers 409', async () => {
    const id = uniqueId('w5');
    await es.watcher.putWatch({ id, ...seed } as any);
    await setAckStates(id, { test_index: 'ackable' }, { runningSinceMs: Date.now() });
    const r = await raw('POST', `/_xpack/watcher/watch/${id}/_ack`, { master_timeout: '0s' });
    expect(r).toMatchObject({ status: 409, body: { error: { reason: `watch[${id}] is running currently, cannot ack until finished` } } });
    // The running mark was written by hand: remove the watch so no later test sees a watch "running" (current_watches).
    await es.watcher.deleteWatch({ id });
  });
});
