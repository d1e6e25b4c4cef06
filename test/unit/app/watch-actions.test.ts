import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WatchAction } from '../../../lib/domain/watcher/types.ts';

const docs = vi.hoisted(() => ({ indexDocument: vi.fn(), bulk: vi.fn(), putIndex: vi.fn() }));
const searchMod = vi.hoisted(() => ({ search: vi.fn() }));
vi.mock('../../../lib/app/documents.ts', () => docs);
vi.mock('../../../lib/app/search.ts', () => searchMod);

const { executionPorts } = await import('../../../lib/app/watch-actions.ts');

const model = (payload: Record<string, unknown>) => ({ ctx: { watch_id: 'w', execution_time: new Date('2026-01-10T12:00:00.000Z'), payload } });
const indexAction = (body: Record<string, unknown>): WatchAction => ({ id: 'ix', type: 'index', body });

beforeEach(() => {
  vi.resetAllMocks();
});

describe('index action', () => {
  it('indexes the payload, taking the id from the payload _id', async () => {
    docs.indexDocument.mockResolvedValue({ status: 201, body: { _index: 'out', _id: 'd1', _version: 1, result: 'created' } });
    const r = await executionPorts().runAction(indexAction({ index: 'out' }), model({ _id: 'd1', a: 1 }), false);
    expect(docs.indexDocument).toHaveBeenCalledWith('out', 'd1', '{"a":1}', false, undefined);
    expect(r).toEqual({ status: 'success', result: { response: { created: true, result: 'created', id: 'd1', version: 1, index: 'out' } } });
  });

  it('refuses a payload _id together with the action doc_id', async () => {
    await expect(executionPorts().runAction(indexAction({ index: 'out', doc_id: 'x' }), model({ _id: 'd1' }), false)).rejects.toThrow(
      'could not execute action [ix] of watch [w]. [ctx.payload._id] or [ctx.payload._doc._id] were set together with action [id] field. Only set one of them',
    );
  });

  it('bulk-indexes a _doc array, one response per document', async () => {
    docs.bulk.mockResolvedValue({
      items: [{ index: { _index: 'out', _id: 'a', _version: 1, result: 'created' } }, { index: { _index: 'out', _id: 'b', _version: 2, result: 'updated' } }],
    });
    const r = await executionPorts().runAction(
      indexAction({ index: 'out', execution_time_field: 't' }),
      model({
        _doc: [
          { _id: 'a', v: 1 },
          { _id: 'b', v: 2 },
        ],
      }),
      false,
    );
    expect(docs.bulk.mock.calls[0]?.[0]).toBe(
      '{"index":{"_index":"out","_id":"a"}}\n{"v":1,"t":"2026-01-10T12:00:00.000Z"}\n{"index":{"_index":"out","_id":"b"}}\n{"v":2,"t":"2026-01-10T12:00:00.000Z"}\n',
    );
    expect(r).toMatchObject({
      status: 'success',
      result: {
        response: [
          { id: 'a', created: true },
          { id: 'b', created: false, result: 'updated' },
        ],
      },
    });
  });

  it('gives partial_failure when some bulk items fail, failure when all do, without a reason', async () => {
    const ok = { index: { _index: 'out', _id: 'a', _version: 1, result: 'created' } };
    const bad = { index: { _index: 'out', _id: 'b', error: { type: 'mapper_parsing_exception', reason: 'failed to parse' } } };
    docs.bulk.mockResolvedValue({ items: [ok, bad] });
    const partial = await executionPorts().runAction(indexAction({ index: 'out' }), model({ _doc: [{ v: 1 }, { v: 'x' }] }), false);
    expect(partial).toEqual({
      status: 'partial_failure',
      result: { response: [expect.objectContaining({ id: 'a' }), { failed: true, message: 'failed to parse', id: 'b', index: 'out' }] },
    });
    docs.bulk.mockResolvedValue({ items: [bad] });
    expect(await executionPorts().runAction(indexAction({ index: 'out' }), model({ _doc: [{ v: 'x' }] }), false)).toMatchObject({ status: 'failure' });
  });

  it('refuses doc_id with a bulk _doc payload', async () => {
    await expect(executionPorts().runAction(indexAction({ index: 'out', doc_id: 'x' }), model({ _doc: [{ v: 1 }] }), false)).rejects.toThrow(
      'could not execute action [ix] of watch [w]. [doc_id] cannot be used with bulk [_doc] indexing',
    );
  });

  it('only shows the request when simulated', async () => {
    const r = await executionPorts().runAction(indexAction({ index: 'out' }), model({ a: 1 }), true);
    expect(r).toEqual({ status: 'simulated', result: { request: { index: 'out', source: { a: 1 } } } });
    expect(docs.indexDocument).not.toHaveBeenCalled();
  });
});

describe('logging action', () => {
  it('renders the text as logged_text', async () => {
    const r = await executionPorts().runAction({ id: 'l', type: 'logging', body: { text: 'n={{ctx.payload.n}}' } }, model({ n: 3 }), false);
    expect(r).toEqual({ status: 'success', result: { logged_text: 'n=3' } });
  });
});

describe('webhook action', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('fails after the timeout when the host does not answer, instead of hanging', async () => {
    vi.useFakeTimers();
    vi.stubGlobal(
      'fetch',
      vi.fn(
        (_url: URL, init: RequestInit) =>
          new Promise((_resolve, reject) => {
            init.signal?.addEventListener('abort', () => reject(new Error('aborted')));
          }),
      ),
    );
    const run = executionPorts(2000).runAction({ id: 'h', type: 'webhook', body: { host: 'example.invalid', port: 80, path: '/x' } }, model({}), false);
    const outcome = expect(run).rejects.toThrow('webhook [example.invalid] did not answer within [2s]');
    await vi.advanceTimersByTimeAsync(2000);
    await outcome;
  });

  it('refuses auth, proxy and ssl options rather than send without them', async () => {
    const fetchSpy = vi.fn();
    vi.stubGlobal('fetch', fetchSpy);
    await expect(
      executionPorts().runAction({ id: 'h', type: 'webhook', body: { host: 'h', port: 80, auth: { basic: { username: 'u', password: 'p' } } } }, model({}), false),
    ).rejects.toThrow('mlplane does not support the [webhook auth] action yet');
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it('records a status of 400 or more as a failure with the request and response', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => new Response('nope', { status: 503 })),
    );
    const r = await executionPorts().runAction(
      { id: 'h', type: 'webhook', body: { host: 'h.example', port: 8080, method: 'POST', path: '/a/{{ctx.watch_id}}', body: '{{ctx.payload.n}}' } },
      model({ n: 1 }),
      false,
    );
    expect(r).toMatchObject({
      status: 'failure',
      reason: 'received [503] status code',
      result: { request: { host: 'h.example', port: 8080, scheme: 'http', method: 'post', path: '/a/w', body: '1' }, response: { status: 503, body: 'nope' } },
    });
  });
});

describe('search input', () => {
  it('renders templates leaf by leaf and asks for totals as numbers', async () => {
    searchMod.search.mockResolvedValue({ hits: { total: 2 } });
    await executionPorts().search({ indices: ['logs-{{ctx.watch_id}}'], body: { query: { term: { msg: 'say "{{ctx.payload.q}}"' } } } }, model({ q: 'hi' }));
    expect(searchMod.search).toHaveBeenCalledWith('logs-w', '{"query":{"term":{"msg":"say \\"hi\\""}}}', { rest_total_hits_as_int: 'true' });
  });
});
