/**
 * The seed page's ack sequence end to end on the 5.x `_xpack/watcher` paths (issue 10): put,
 * get (`_status`), execute, ack with `master_timeout`, an acknowledged execution, and the reset
 * when the condition is not met; and an index action into an index whose mapping refuses the
 * document, recorded as the action's failure.
 */
import { describe, expect, it } from 'vitest';
import { esClient, uniqueId } from './client.ts';

const es = esClient();

/** A raw request on a 5.x path, with its status, body and Warning header; fails on nothing. */
async function raw(method: string, path: string, querystring: Record<string, string> = {}, body?: Record<string, unknown>) {
  const res = await es.transport.request({ method, path, querystring, ...(body === undefined ? {} : { body }) }, { meta: true, ignore: [400, 404, 409] });
  return { status: res.statusCode ?? 0, body: res.body as any, warning: res.headers.warning as string | undefined };
}

describe('the seed sequence on the 5.x paths', () => {
  it('awaits → ackable after an execution → acked → executions acknowledged → back to awaits when the condition is not met', async () => {
    const id = uniqueId('seed5');
    const index = uniqueId('seed-test');
    // The seed's watch (its simple input nests the object under `payload`), with a condition on it (so one execution can miss it) and a zero throttle period
    // (with the seed's 15m the period throttler would answer "throttled" before the ack throttler could).
    const watch = {
      trigger: { schedule: { hourly: { minute: [0, 5] } } },
      input: { simple: { payload: { send: 'yes' } } },
      condition: { compare: { 'ctx.payload.payload.send': { eq: 'yes' } } },
      actions: { test_index: { throttle_period: '0s', index: { index } } },
    };
    expect((await raw('PUT', `/_xpack/watcher/watch/${id}`, {}, watch)).status).toBe(201);
    const fresh = await raw('GET', `/_xpack/watcher/watch/${id}`);
    expect(fresh.body._status.actions.test_index.ack.state).toBe('awaits_successful_execution');
    expect(fresh.warning).toContain('is deprecated!');

    const first = await raw('POST', `/_xpack/watcher/watch/${id}/_execute`, {}, { record_execution: true });
    expect(first.status).toBe(200);
    expect(first.body.watch_record.state).toBe('executed');
    expect(first.body.watch_record.result.actions[0]).toMatchObject({ id: 'test_index', type: 'index', status: 'success' });
    expect((await es.count({ index })).count).toBe(1);
    expect((await raw('GET', `/_xpack/watcher/watch/${id}`)).body._status.actions.test_index.ack.state).toBe('ackable');

    const acked = await raw('POST', `/_xpack/watcher/watch/${id}/_ack`, { master_timeout: '30s' });
    expect(acked.status).toBe(200);
    expect(acked.body._status.actions.test_index.ack.state).toBe('acked');

    const throttled = await raw('POST', `/_xpack/watcher/watch/${id}/_execute`, {}, { record_execution: true });
    expect(throttled.body.watch_record.state).toBe('acknowledged');
    expect(throttled.body.watch_record.result.actions[0]).toMatchObject({ status: 'acknowledged', reason: expect.stringMatching(/^action \[test_index\] was acked at \[/) });
    expect((await es.count({ index })).count).toBe(1);

    const missed = await raw('POST', `/_xpack/watcher/watch/${id}/_execute`, {}, { record_execution: true, alternative_input: { send: 'no' } });
    expect(missed.body.watch_record.state).toBe('execution_not_needed');
    const after = (await raw('GET', `/_xpack/watcher/watch/${id}`)).body._status;
    expect(after.actions.test_index.ack.state).toBe('awaits_successful_execution');
    expect(after.last_checked).toBeDefined();
    await es.watcher.deleteWatch({ id });
  });

  it('an index action into an index whose mapping refuses the document is that action failing, recorded, with the status untouched but last_execution', async () => {
    const id = uniqueId('seed-map');
    const index = uniqueId('typed');
    await es.indices.create({ index, mappings: { properties: { value: { type: 'long' } } } });
    await es.watcher.putWatch({
      id,
      trigger: { schedule: { interval: '1h' } },
      input: { simple: { value: 'not a number' } },
      actions: { store: { index: { index } } },
    } as any);
    const out = (await es.watcher.executeWatch({ id, record_execution: true })) as any;
    expect(out.watch_record.state).toBe('executed');
    expect(out.watch_record.result.actions[0]).toMatchObject({ id: 'store', status: 'failure' });
    const status = (await es.watcher.getWatch({ id })).status as any;
    expect(status.actions.store.ack.state).toBe('awaits_successful_execution');
    expect(status.actions.store.last_execution).toMatchObject({ successful: false });
    expect(status.actions.store.last_successful_execution).toBeUndefined();
    expect((await es.count({ index })).count).toBe(0);
    await es.watcher.deleteWatch({ id });
  });
});
