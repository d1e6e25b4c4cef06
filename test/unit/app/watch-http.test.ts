import { afterEach, describe, expect, it, vi } from 'vitest';
import { runHttpInput } from '../../../lib/app/watch-http.ts';
import { HttpInputFailure } from '../../../lib/domain/watcher/execution.ts';

const model = (payload: Record<string, unknown> = {}) => ({ ctx: { id: 'rid', watch_id: 'w', payload } });
const answer = (body: string, headers: Record<string, string> = {}, status = 200) => vi.fn(async () => new Response(body, { status, headers }));

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('the http input', () => {
  it('keeps a non-JSON body as _value and a 4xx/5xx as a payload, not a failure', async () => {
    vi.stubGlobal('fetch', answer('plain words', { 'content-type': 'text/plain' }, 503));
    const r = await runHttpInput({ request: { host: 'h', port: 80 } }, model(), 1000);
    expect(r.statusCode).toBe(503);
    expect(r.payload).toEqual({ _status_code: 503, _headers: { 'content-type': ['text/plain'] }, _value: 'plain words' });
  });

  it('parses by response_content_type over the response header', async () => {
    vi.stubGlobal('fetch', answer('{"a":1}', { 'content-type': 'text/plain' }));
    expect((await runHttpInput({ request: { host: 'h', port: 80 }, response_content_type: 'json' }, model(), 1000)).payload).toMatchObject({ a: 1 });
    vi.stubGlobal('fetch', answer('{"a":1}', { 'content-type': 'application/json' }));
    expect((await runHttpInput({ request: { host: 'h', port: 80 }, response_content_type: 'text' }, model(), 1000)).payload).toMatchObject({ _value: '{"a":1}' });
  });

  it('a JSON body that does not parse fails the input with Elasticsearch text and the request', async () => {
    vi.stubGlobal('fetch', answer('{oops', { 'content-type': 'application/json' }));
    const err = await runHttpInput({ request: { host: 'h', port: 80, path: '/p' } }, model(), 1000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpInputFailure);
    expect((err as HttpInputFailure).message).toBe('could not parse response body [http] it does not appear to be [rid]');
    expect((err as HttpInputFailure).type).toBe('parse_exception');
    expect((err as HttpInputFailure).request).toEqual({ host: 'h', port: 80, scheme: 'http', method: 'get', path: '/p' });
  });

  it('renders url, path and params templates from ctx.payload', async () => {
    const fetchSpy = answer('{}', { 'content-type': 'application/json' });
    vi.stubGlobal('fetch', fetchSpy);
    const r = await runHttpInput(
      { request: { url: 'http://h.example:9200/{{ctx.payload.first.ix}}/_count', params: { q: '{{ctx.payload.first.q}}' } } },
      model({ first: { ix: 'logs', q: 'x' } }),
      1000,
    );
    expect(r.request).toEqual({ host: 'h.example', port: 9200, scheme: 'http', method: 'get', path: '/logs/_count', params: { q: 'x' } });
    expect(String((fetchSpy.mock.calls[0] as unknown[] | undefined)?.[0])).toBe('http://h.example:9200/logs/_count?q=x');
  });

  it('a host that does not answer fails after connection_timeout + read_timeout, instead of hanging', async () => {
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
    const run = runHttpInput({ request: { host: 'example.invalid', port: 80, connection_timeout: '1s', read_timeout: '3s' } }, model(), 60_000);
    const outcome = expect(run).rejects.toThrow('[http] input [example.invalid] did not answer within [4s]');
    await vi.advanceTimersByTimeAsync(4000);
    await outcome;
  });
});
