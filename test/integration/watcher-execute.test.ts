import { describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { esClient, esError, uniqueId } from './client.ts';

const es = esClient();

/** The seed watch (ack_watch/30): simple input, compare condition, one index action. */
const seedWatch = (index: string, extra: Record<string, unknown> = {}) => ({
  trigger: { schedule: { interval: '1m' } },
  input: { simple: { match: 'true' } },
  condition: { compare: { 'ctx.payload.match': { eq: 'true' } } },
  actions: { indexme: { index: { index } } },
  ...extra,
});

const ackState = async (id: string): Promise<string> => ((await es.watcher.getWatch({ id })) as any).status.actions.indexme.ack.state;

describe('watch execution: the seed sequence', () => {
  it('put → awaits → execute → ackable → ack → acked → acknowledged → condition false → awaits', async () => {
    const id = uniqueId('wx');
    const index = uniqueId('wx-out');
    // throttle 0: only the ack throttler can hold the action back.
    await es.watcher.putWatch({ id, ...seedWatch(index, { throttle_period: '0s' }) } as any);
    expect(await ackState(id)).toBe('awaits_successful_execution');

    const first = (await es.watcher.executeWatch({ id, record_execution: true })) as any;
    expect(first._id).toMatch(new RegExp(`^${id}_[0-9a-f-]{36}-\\d{4}-\\d{2}-\\d{2}T`));
    expect(first.watch_record).toMatchObject({ watch_id: id, state: 'executed', trigger_event: { type: 'manual' }, input: { simple: { match: 'true' } } });
    expect(first.watch_record.status.actions.indexme.ack.state).toBe('ackable');
    expect(first.watch_record.result.condition).toEqual({ type: 'compare', status: 'success', met: true, compare: { resolved_values: { 'ctx.payload.match': 'true' } } });
    expect(first.watch_record.result.actions[0]).toMatchObject({
      id: 'indexme',
      type: 'index',
      status: 'success',
      index: { response: { created: true, result: 'created', index } },
    });
    expect(await ackState(id)).toBe('ackable');
    expect((await es.count({ index })).count).toBe(1);

    const acked = (await es.watcher.ackWatch({ watch_id: id })) as any;
    expect(acked.status.actions.indexme.ack.state).toBe('acked');
    expect(await ackState(id)).toBe('acked');

    const again = (await es.watcher.executeWatch({ id, record_execution: true })) as any;
    expect(again.watch_record.state).toBe('acknowledged');
    expect(again.watch_record.result.actions[0]).toMatchObject({ id: 'indexme', status: 'acknowledged', reason: expect.stringMatching(/^action \[indexme\] was acked at \[/) });
    expect(await ackState(id)).toBe('acked');
    expect((await es.count({ index })).count).toBe(1);

    const unmet = (await es.watcher.executeWatch({ id, record_execution: true, alternative_input: { match: 'false' } })) as any;
    expect(unmet.watch_record.state).toBe('execution_not_needed');
    expect(unmet.watch_record.result.actions).toEqual([]);
    expect(await ackState(id)).toBe('awaits_successful_execution');

    // Every recorded execution is in the history.
    const history = await es.search({ index: '.watcher-history-*', query: { term: { watch_id: id } }, size: 10 });
    expect((history.hits.total as { value: number }).value).toBe(3);
    expect(history.hits.hits.map((h: any) => h._source.state).sort()).toEqual(['acknowledged', 'executed', 'execution_not_needed']);
  });

  it('throttles a second recorded execution within the throttle period, unless forced', async () => {
    const id = uniqueId('wx');
    const index = uniqueId('wx-out');
    // execute_watch/30_throttled: a watch-level period of 1h (the 5s default would make the test depend on speed).
    await es.watcher.putWatch({ id, ...seedWatch(index, { throttle_period: '1h' }) } as any);
    await es.watcher.executeWatch({ id, record_execution: true });
    const second = (await es.watcher.executeWatch({ id, record_execution: true })) as any;
    expect(second.watch_record.state).toBe('throttled');
    expect(second.watch_record.result.actions[0].reason).toMatch(/^throttling interval is set to \[1h\] but time elapsed since last execution is \[[\d.]+(ms|s|m)\]$/);
    expect(second.watch_record.status.actions.indexme.last_throttle.reason).toBe(second.watch_record.result.actions[0].reason);
    const forced = (await es.watcher.executeWatch({ id, record_execution: true, action_modes: { indexme: 'force_execute' } })) as any;
    expect(forced.watch_record.state).toBe('executed');
    expect((await es.count({ index })).count).toBe(2);
  });

  it('does not write the status back unless recorded', async () => {
    const id = uniqueId('wx');
    await es.watcher.putWatch({ id, ...seedWatch(uniqueId('wx-out')) } as any);
    const r = (await es.watcher.executeWatch({ id, action_modes: { _all: 'simulate' } })) as any;
    expect(r.watch_record.status.actions.indexme.ack.state).toBe('ackable');
    expect(r.watch_record.result.actions[0]).toMatchObject({ status: 'simulated', index: { request: { source: { match: 'true' } } } });
    expect(await ackState(id)).toBe('awaits_successful_execution');
  });
});

describe('watch execution: requests and errors', () => {
  it('answers 404 for an unknown watch', async () => {
    const e = await esError(es.watcher.executeWatch({ id: uniqueId('missing') }));
    expect([e.status, e.type]).toEqual([404, 'resource_not_found_exception']);
    expect(e.reason).toMatch(/^Watch with id \[missing-.*\] does not exist$/);
  });

  it('runs an inline watch with a logging action and ignore_condition', async () => {
    const r = (await es.watcher.executeWatch({
      ignore_condition: true,
      watch: {
        trigger: { schedule: { interval: '1m' } },
        input: { simple: { foo: 'bar' } },
        condition: { never: {} },
        actions: { logging: { logging: { text: 'foo is {{ctx.payload.foo}}' } } },
      },
    } as any)) as any;
    expect(r._id).toMatch(/^_inlined__/);
    expect(r.watch_record).toMatchObject({
      watch_id: '_inlined_',
      state: 'executed',
      condition: { never: {} },
      status: { execution_state: 'executed', state: { active: true }, actions: { logging: { ack: { state: 'ackable' } } } },
      result: { input: { type: 'simple', payload: { foo: 'bar' } }, condition: { type: 'always', met: true } },
    });
    expect(r.watch_record.result.actions[0]).toEqual({ id: 'logging', type: 'logging', status: 'success', logging: { logged_text: 'foo is bar' } });
  });

  it('asks to wrap watch fields and refuses recording an inline watch', async () => {
    const wrap = await esError(es.transport.request({ method: 'POST', path: '/_watcher/watch/_execute', body: { trigger: { schedule: { interval: '1m' } } } }));
    expect([wrap.status, wrap.type, wrap.reason]).toEqual([400, 'parse_exception', 'please wrap watch including field [trigger] inside a "watch" field']);
    const rec = await esError(es.watcher.executeWatch({ record_execution: true, watch: { trigger: { schedule: { interval: '1m' } } } } as any));
    expect([rec.status, rec.type, rec.reason]).toEqual([400, 'action_request_validation_exception', 'Validation Failed: 1: the execution of an inline watch cannot be recorded;']);
  });

  it('records a webhook to a host that does not answer as a failure', async () => {
    const id = uniqueId('wx');
    await es.watcher.putWatch({ id, trigger: { schedule: { interval: '1m' } }, actions: { hook: { webhook: { scheme: 'http', host: '127.0.0.1', port: 9, path: '/x' } } } } as any);
    const r = (await es.watcher.executeWatch({ id, record_execution: true })) as any;
    expect(r.watch_record.state).toBe('executed');
    expect(r.watch_record.result.actions[0]).toMatchObject({ id: 'hook', type: 'webhook', status: 'failure' });
    expect(r.watch_record.status.actions.hook).toMatchObject({ ack: { state: 'awaits_successful_execution' }, last_execution: { successful: false, reason: '' } });
  });
});

describe('watcher service', () => {
  it('reports stats with current_watches and stops and starts', async () => {
    const stats = (await es.watcher.stats({ metric: 'current_watches' })) as any;
    expect(stats).toMatchObject({ _nodes: { total: 1, successful: 1, failed: 0 }, manually_stopped: false, stats: [{ watcher_state: 'started', current_watches: [] }] });
    expect(stats.stats[0].queued_watches).toBeUndefined();
    expect(await es.watcher.stop()).toEqual({ acknowledged: true });
    expect(((await es.watcher.stats()) as any).stats[0].watcher_state).toBe('stopped');
    expect(await es.watcher.start()).toEqual({ acknowledged: true });
    expect(((await es.watcher.stats()) as any).manually_stopped).toBe(false);
  });
});

describe('watch execution: index action ids and the search input', () => {
  const run = async (id: string, body: Record<string, unknown>) => {
    await es.watcher.putWatch({ id, trigger: { schedule: { interval: '1m' } }, ...body } as any);
    return ((await es.watcher.executeWatch({ id })) as any).watch_record.result.actions[0];
  };

  it('uses doc_id, a payload _id, and bulk-indexes a payload _doc array', async () => {
    const index = uniqueId('wx-ids');
    const byConfig = await run(uniqueId('wx'), { input: { simple: { value: 15 } }, actions: { a: { index: { index, doc_id: 'test_id1' } } } });
    expect(byConfig.index.response).toMatchObject({ id: 'test_id1', index, created: true });
    const byPayload = await run(uniqueId('wx'), { input: { simple: { _id: 'test_id2', value: 20 } }, actions: { a: { index: { index } } } });
    expect(byPayload.index.response.id).toBe('test_id2');
    const bulk = await run(uniqueId('wx'), {
      input: {
        simple: {
          _doc: [
            { _id: 'test_id3', value: 1 },
            { _id: 'test_id4', value: 2 },
          ],
        },
      },
      actions: { a: { index: { index } } },
    });
    expect(bulk.index.response.map((r: any) => r.id)).toEqual(['test_id3', 'test_id4']);
    const doc = (await es.get({ index, id: 'test_id2' })) as any;
    expect(doc._source).toEqual({ value: 20 });
    expect((await es.count({ index })).count).toBe(4);
  });

  it('searches with the search input and compares its total hits', async () => {
    const index = uniqueId('wx-logs');
    await es.index({ index, id: '1', document: { level: 'error', msg: 'a' }, refresh: true });
    await es.index({ index, id: '2', document: { level: 'info', msg: 'b' }, refresh: true });
    const id = uniqueId('wx');
    await es.watcher.putWatch({
      id,
      trigger: { schedule: { interval: '1m' } },
      input: { search: { request: { indices: [index], body: { query: { term: { level: 'error' } } } } } },
      condition: { compare: { 'ctx.payload.hits.total': { gt: 0 } } },
      actions: { log: { logging: { text: '{{ctx.payload.hits.total}} errors, first {{ctx.payload.hits.hits.0._source.msg}}' } } },
    } as any);
    const r = ((await es.watcher.executeWatch({ id })) as any).watch_record;
    expect(r.state).toBe('executed');
    expect(r.result.input).toMatchObject({ type: 'search', status: 'success', payload: { hits: { total: 1 } } });
    expect(r.result.actions[0].logging.logged_text).toBe('1 errors, first a');
  });
});

describe('watch execution: an ack while the watch runs', () => {
  it('answers 409 while the execution holds the watch, and acks once it is done', async () => {
    // A webhook target that holds every request until released: the execution stays in flight.
    const held: (() => void)[] = [];
    const server = createServer((_req, res) => {
      held.push(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const id = uniqueId('wx-run');
      await es.watcher.putWatch({
        id,
        trigger: { schedule: { interval: '1m' } },
        actions: { hook: { webhook: { scheme: 'http', host: '127.0.0.1', port, path: '/hook' } } },
      } as any);
      const execution = es.watcher.executeWatch({ id, record_execution: true }) as Promise<any>;

      const deadline = Date.now() + 20_000;
      let running: any[] = [];
      while (Date.now() < deadline) {
        running = ((await es.watcher.stats({ metric: 'current_watches' })) as any).stats[0].current_watches.filter((w: any) => w.watch_id === id);
        if (running.length > 0 && held.length > 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(running).toHaveLength(1);

      const busy = await esError(es.watcher.ackWatch({ watch_id: id }));
      expect([busy.status, busy.type, busy.reason]).toEqual([409, 'status_exception', `watch[${id}] is running currently, cannot ack until finished`]);

      for (const release of held) release();
      const record = (await execution).watch_record;
      expect(record.result.actions[0]).toMatchObject({ id: 'hook', type: 'webhook', status: 'success', webhook: { response: { status: 200, body: '{"ok":true}' } } });
      expect(record.status.actions.hook.ack.state).toBe('ackable');

      const acked = (await es.watcher.ackWatch({ watch_id: id })) as any;
      expect(acked.status.actions.hook.ack.state).toBe('acked');
    } finally {
      server.close();
    }
  });
});
