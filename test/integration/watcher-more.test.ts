import { describe, expect, it } from 'vitest';
import { esClient, esError, uniqueId } from './client.ts';
import { direct } from './direct.ts';

const es = esClient();
const store = await direct(() => import('../../lib/store/watches.ts'));

/** A watch that never fires on its own in a test's lifetime, with `metadata` to query. */
const watchWith = (metadata: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  trigger: { schedule: { interval: '1h' } },
  input: { simple: { match: 'true' } },
  condition: { always: {} },
  actions: { log: { logging: { text: 'hello' } } },
  metadata,
  ...extra,
});

/** A raw request (the legacy paths, or to see headers), failing on nothing. */
async function raw(method: string, path: string, querystring: Record<string, string> = {}, body?: Record<string, unknown>) {
  const res = await es.transport.request({ method, path, querystring, ...(body === undefined ? {} : { body }) }, { meta: true, ignore: [400, 404, 409] });
  return { status: res.statusCode ?? 0, body: res.body as any, warning: res.headers.warning as string | undefined };
}

type AckState = 'awaits_successful_execution' | 'ackable' | 'acked';

/** Sets an action's status directly in the store (the execution engine's job), as if executions and acks had happened. */
async function setAckState(
  id: string,
  action: string,
  state: AckState,
  extra: { timestamp?: number; expires?: number; lastThrottle?: { timestamp: number; reason: string } } = {},
) {
  const w = await store.getWatch(id);
  if (!w) throw new Error(`no watch ${id}`);
  const ack = { timestamp: extra.timestamp ?? 1_000, state, ...(extra.expires === undefined ? {} : { expires: extra.expires }) };
  const actions = { ...w.status.actions, [action]: { ...w.status.actions[action], ack, ...(extra.lastThrottle ? { last_throttle: extra.lastThrottle } : {}) } };
  return store.putStatus(id, { ...w.status, actions }, w.seqNo);
}

describe('query watches (_watcher/_query/watches)', () => {
  it('filters on metadata, _id and status.state.active, counts every match and pages with from/size', async () => {
    const team = uniqueId('team');
    const ids = [uniqueId('qw-a'), uniqueId('qw-b'), uniqueId('qw-c')];
    for (const [i, id] of ids.entries()) await es.watcher.putWatch({ id, ...watchWith({ team, rank: i }) } as any);
    await es.watcher.deactivateWatch({ watch_id: ids[2] as string });

    const all = (await es.watcher.queryWatches({ query: { term: { 'metadata.team.keyword': team } }, sort: [{ 'metadata.rank': { order: 'asc' } }] } as any)) as any;
    expect(all.count).toBe(3);
    expect(all.watches.map((w: any) => w._id)).toEqual(ids);
    const first = all.watches[0];
    expect(Object.keys(first)).toEqual(['_id', 'watch', 'status', '_seq_no', '_primary_term']);
    expect(first).toMatchObject({ _id: ids[0], _seq_no: 0, _primary_term: 1, watch: { metadata: { team, rank: 0 }, actions: { log: { logging: { text: 'hello' } } } } });
    expect(first.watch.status).toBeUndefined();
    expect(first.status).toMatchObject({ state: { active: true }, actions: { log: { ack: { state: 'awaits_successful_execution' } } }, version: 1 });

    const active = (await es.watcher.queryWatches({
      query: { bool: { filter: [{ term: { 'metadata.team.keyword': team } }, { term: { 'status.state.active': true } }] } },
    } as any)) as any;
    expect(active.watches.map((w: any) => w._id).sort()).toEqual(ids.slice(0, 2).sort());

    const byId = (await es.watcher.queryWatches({ query: { ids: { values: [ids[1]] } } } as any)) as any;
    expect(byId.count).toBe(1);
    expect(byId.watches[0]._id).toBe(ids[1]);

    const page = (await es.watcher.queryWatches({
      from: 1,
      size: 1,
      query: { term: { 'metadata.team.keyword': team } },
      sort: [{ 'metadata.rank': { order: 'desc' } }],
    } as any)) as any;
    expect(page).toMatchObject({ count: 3, watches: [{ _id: ids[1] }] });

    const after = (await es.watcher.queryWatches({
      query: { term: { 'metadata.team.keyword': team } },
      sort: [{ 'metadata.rank': { order: 'asc' } }],
      search_after: [0],
    } as any)) as any;
    expect(after.watches.map((w: any) => w._id)).toEqual(ids.slice(1));
  });

  it('answers through GET without a body, and a query on an unindexed part of the watch matches nothing, as in Elasticsearch', async () => {
    const id = uniqueId('qw-get');
    await es.watcher.putWatch({ id, ...watchWith({ probe: id }) } as any);
    const got = await raw('GET', '/_watcher/_query/watches');
    expect(got.status).toBe(200);
    expect(got.body.count).toBeGreaterThanOrEqual(1);
    expect(got.body.watches.length).toBeLessThanOrEqual(10);
    const none = (await es.watcher.queryWatches({ query: { term: { 'input.simple.match': 'true' } } } as any)) as any;
    expect(none).toEqual({ count: 0, watches: [] });
  });

  it('refuses a query mlplane does not evaluate with a 400 naming it, and a bad page with the search API error', async () => {
    const unsupported = await esError(es.watcher.queryWatches({ query: { wildcard: { 'metadata.team': 'x*' } } } as any));
    expect(unsupported).toMatchObject({ status: 400, type: 'illegal_argument_exception', reason: 'mlplane does not support the [wildcard] query yet' });
    const negative = await esError(es.watcher.queryWatches({ from: -1 } as any));
    expect(negative).toMatchObject({ status: 400, reason: '[from] parameter cannot be negative, found [-1]' });
  });
});

describe('the 5.x execute paths and the legacy ack form', () => {
  const xpackWarning = (method: string, path: string) => `[${method} /_xpack/watcher/${path}] is deprecated! Use [${method} /_watcher/${path}] instead.`;

  it('_xpack/watcher/watch/{id}/_execute runs the watch with the deprecation warning, a 404 included', async () => {
    const id = uniqueId('xw');
    await es.watcher.putWatch({ id, ...watchWith({}) } as any);
    const ran = await raw('POST', `/_xpack/watcher/watch/${id}/_execute`, {}, { action_modes: { _all: 'simulate' } });
    expect(ran.status).toBe(200);
    expect(ran.body.watch_record).toMatchObject({ watch_id: id, state: 'executed' });
    expect(ran.warning).toContain(xpackWarning('POST', 'watch/{id}/_execute'));

    const missing = await raw('PUT', '/_xpack/watcher/watch/no-such-watch/_execute');
    expect(missing.status).toBe(404);
    expect(missing.warning).toContain(xpackWarning('PUT', 'watch/{id}/_execute'));
  });

  it('_xpack/watcher/watch/_execute runs an inline watch with the deprecation warning', async () => {
    const ran = await raw('POST', '/_xpack/watcher/watch/_execute', {}, { watch: { trigger: { schedule: { interval: '1m' } }, actions: { log: { logging: { text: 'hi' } } } } });
    expect(ran.status).toBe(200);
    expect(ran.body.watch_record.watch_id).toBe('_inlined_');
    expect(ran.warning).toContain(xpackWarning('POST', 'watch/_execute'));
  });

  it('_xpack/watcher/stats, _start and _stop answer as the current paths with the deprecation warning', async () => {
    const stats = await raw('GET', '/_xpack/watcher/stats/current_watches');
    expect(stats.status).toBe(200);
    expect(stats.body.stats[0]).toHaveProperty('current_watches');
    expect(stats.warning).toContain(xpackWarning('GET', 'stats/{metric}'));
    expect((await raw('GET', '/_xpack/watcher/stats')).warning).toContain(xpackWarning('GET', 'stats'));
    // _start while started changes nothing, so this cannot disturb the other tests.
    const started = await raw('POST', '/_xpack/watcher/_start');
    expect(started).toMatchObject({ status: 200, body: { acknowledged: true } });
    expect(started.warning).toContain(xpackWarning('POST', '_start'));
    const withBody = await raw('POST', '/_xpack/watcher/_stop', {}, { x: 1 });
    expect(withBody.status).toBe(400);
    expect(withBody.warning).toContain(xpackWarning('POST', '_stop'));
  });

  it('the current _execute paths carry no warning', async () => {
    const ran = await raw('POST', '/_watcher/watch/_execute', {}, { watch: { trigger: { schedule: { interval: '1m' } }, actions: { log: { logging: { text: 'hi' } } } } });
    expect(ran.status).toBe(200);
    expect(ran.warning).toBeUndefined();
  });

  it('_watcher/watch/{id}/{actions}/_ack acks as _ack/{actions} does, answering as 5.x with the warning naming the new path', async () => {
    const id = uniqueId('legacy-ack');
    await es.watcher.putWatch({ id, ...watchWith({}, { actions: { a1: { logging: { text: 'x' } }, a2: { logging: { text: 'y' } } } }) } as any);
    await setAckState(id, 'a1', 'ackable');
    await setAckState(id, 'a2', 'ackable');
    const acked = await raw('POST', `/_watcher/watch/${id}/a1/_ack`);
    expect(acked.status).toBe(200);
    expect(acked.body._status.actions.a1.ack.state).toBe('acked');
    expect(acked.body._status.actions.a2.ack.state).toBe('ackable');
    expect(acked.warning).toContain('[POST /_watcher/watch/{id}/{actions}/_ack] is deprecated! Use [POST /_xpack/watcher/watch/{id}/_ack/{actions}] instead.');

    const missing = await raw('PUT', '/_watcher/watch/no-such-watch/a1/_ack');
    expect(missing.status).toBe(404);
    expect(missing.warning).toContain('[PUT /_watcher/watch/{id}/{actions}/_ack] is deprecated!');
  });
});

describe('ack expiry (mlplane extension: ack ?expires_in=)', () => {
  const iso = (ms: number) => new Date(ms).toISOString();

  it('an ack with expires_in records when it lapses, on the ack answer and on GET', async () => {
    const id = uniqueId('exp-ack');
    await es.watcher.putWatch({ id, ...watchWith({}) } as any);
    await setAckState(id, 'log', 'ackable');
    const acked = await raw('PUT', `/_watcher/watch/${id}/_ack/log`, { expires_in: '1h' });
    expect(acked.status).toBe(200);
    const ack = acked.body.status.actions.log.ack;
    expect(ack.state).toBe('acked');
    expect(Date.parse(ack.expires) - Date.parse(ack.timestamp)).toBe(3_600_000);
    const got = (await es.watcher.getWatch({ id })) as any;
    expect(got.status.actions.log.ack).toEqual(ack);
  });

  it("a plain ack shows no expires: the default answer stays Elasticsearch's", async () => {
    const id = uniqueId('exp-plain');
    await es.watcher.putWatch({ id, ...watchWith({}) } as any);
    await setAckState(id, 'log', 'ackable');
    const acked = (await es.watcher.ackWatch({ watch_id: id })) as any;
    expect(Object.keys(acked.status.actions.log.ack).sort()).toEqual(['state', 'timestamp']);
  });

  it('refuses an expires_in that is not a positive time', async () => {
    const id = uniqueId('exp-bad');
    await es.watcher.putWatch({ id, ...watchWith({}) } as any);
    const zero = await raw('POST', `/_watcher/watch/${id}/_ack`, { expires_in: '0s' });
    expect(zero.status).toBe(400);
    expect(zero.body.error).toMatchObject({ type: 'illegal_argument_exception', reason: '[expires_in] must be positive, got [0s]' });
    const junk = await raw('POST', `/_watcher/watch/${id}/_ack`, { expires_in: 'soon' });
    expect(junk.status).toBe(400);
  });

  it('a lapsed ack reads as awaits_successful_execution on GET, written once with one history entry', async () => {
    const id = uniqueId('exp-get');
    await es.watcher.putWatch({ id, ...watchWith({}) } as any);
    const expires = Date.now() - 60_000;
    const before = await setAckState(id, 'log', 'acked', { timestamp: expires - 60_000, expires });

    const got = (await es.watcher.getWatch({ id })) as any;
    expect(got.status.actions.log.ack).toEqual({ state: 'awaits_successful_execution', timestamp: iso(expires) });
    expect(got._version).toBe(before.version + 1);
    const again = (await es.watcher.getWatch({ id })) as any;
    expect(again._version).toBe(got._version);

    await es.indices.refresh({ index: '.watcher-history-*' }).catch(() => undefined);
    const history = (await es.search({ index: '.watcher-history-*', query: { bool: { filter: [{ term: { watch_id: id } }, { term: { state: 'ack_expired' } }] } } })) as any;
    expect(history.hits.hits.map((h: any) => h._source.messages)).toEqual([['ack of action [log] expired']]);
    expect(history.hits.hits[0]._source).toMatchObject({ action_id: 'log', '@timestamp': iso(expires) });
  });

  it('an execution after the ack lapsed runs the action instead of holding it back as acked', async () => {
    const lapsed = uniqueId('exp-run');
    const live = uniqueId('exp-live');
    for (const id of [lapsed, live]) await es.watcher.putWatch({ id, ...watchWith({}, { throttle_period: '0s' }) } as any);
    await setAckState(lapsed, 'log', 'acked', { expires: Date.now() - 1_000 });
    await setAckState(live, 'log', 'acked', { expires: Date.now() + 3_600_000 });

    const ran = (await es.watcher.executeWatch({ id: lapsed, record_execution: true } as any)) as any;
    expect(ran.watch_record.state).toBe('executed');
    expect(ran.watch_record.result.actions[0]).toMatchObject({ id: 'log', status: 'success' });
    expect(ran.watch_record.status.actions.log.ack.state).toBe('ackable');

    const held = (await es.watcher.executeWatch({ id: live, record_execution: true } as any)) as any;
    expect(held.watch_record.state).toBe('acknowledged');
    expect(held.watch_record.status.actions.log.ack.state).toBe('acked');
  });

  it('query watches shows a lapsed ack as lapsed', async () => {
    const id = uniqueId('exp-query');
    await es.watcher.putWatch({ id, ...watchWith({ probe: id }) } as any);
    await setAckState(id, 'log', 'acked', { expires: Date.now() - 1_000 });
    const q = (await es.watcher.queryWatches({ query: { ids: { values: [id] } } } as any)) as any;
    expect(q.watches[0].status.actions.log.ack.state).toBe('awaits_successful_execution');
  });
});

describe('_watcher/stats throttled_actions (mlplane extension)', () => {
  it('lists acked and throttled actions with their reasons only when the metric is named', async () => {
    const id = uniqueId('thr');
    await es.watcher.putWatch({ id, ...watchWith({}, { actions: { a1: { logging: { text: 'x' } }, a2: { logging: { text: 'y' } }, a3: { logging: { text: 'z' } } } }) } as any);
    const ackedAt = Date.parse('2026-01-02T03:04:05.000Z');
    const expires = Date.now() + 3_600_000;
    await setAckState(id, 'a1', 'acked', { timestamp: ackedAt, expires });
    const throttle = { timestamp: Date.parse('2026-01-02T03:05:00.000Z'), reason: 'throttling interval is set to [5s] but time elapsed since last execution is [1s]' };
    await setAckState(id, 'a2', 'ackable', { lastThrottle: throttle });

    const stats = (await raw('GET', '/_watcher/stats/throttled_actions')).body;
    const mine = stats.stats[0].throttled_actions.filter((t: any) => t.watch_id === id);
    expect(mine).toEqual([
      {
        watch_id: id,
        action_id: 'a1',
        reason: 'action [a1] was acked at [2026-01-02T03:04:05.000Z]',
        timestamp: '2026-01-02T03:04:05.000Z',
        expires: new Date(expires).toISOString(),
      },
      { watch_id: id, action_id: 'a2', reason: throttle.reason, timestamp: '2026-01-02T03:05:00.000Z' },
    ]);
    const viaParam = (await raw('GET', '/_watcher/stats', { metric: 'throttled_actions' })).body;
    expect(viaParam.stats[0].throttled_actions.filter((t: any) => t.watch_id === id)).toHaveLength(2);

    for (const plain of [await raw('GET', '/_watcher/stats'), await raw('GET', '/_watcher/stats/_all')]) {
      expect(plain.status).toBe(200);
      expect(plain.body.stats[0].throttled_actions).toBeUndefined();
    }
  });
});
