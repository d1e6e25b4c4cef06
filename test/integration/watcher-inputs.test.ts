import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { esClient, esError, uniqueId } from './client.ts';

const es = esClient();

/** Loopback JSON server: `/silent` never answers; anything else echoes the request as JSON. */
let server: Server;
let port: number;
const seen: { url: string; body: string }[] = [];
const held: (() => void)[] = [];

const read = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => resolve(body));
  });

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const body = await read(req);
    seen.push({ url: req.url ?? '', body });
    if (req.url?.startsWith('/silent')) {
      held.push(() => res.destroy());
      return;
    }
    if (req.url?.startsWith('/list')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('[{"n":1},{"n":2}]');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'x-served-by': 'loopback' }).end(JSON.stringify({ path: req.url, method: req.method, body, hits: { total: 3 } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => {
  for (const release of held) release();
  server.close();
});

describe('watch inputs: http and chain', () => {
  it('an http input renders its templates, sends the request and gives the JSON body with _status_code and _headers', async () => {
    const id = uniqueId('wi-http');
    await es.watcher.putWatch({
      id,
      trigger: { schedule: { interval: '1m' } },
      input: {
        http: {
          request: { host: '127.0.0.1', port, method: 'post', path: '/w/{{ctx.watch_id}}', params: { who: '{{ctx.watch_id}}' }, body: '{"id":"{{ctx.watch_id}}"}' },
        },
      },
      condition: { compare: { 'ctx.payload.hits.total': { gt: 2 } } },
      actions: { log: { logging: { text: 'status {{ctx.payload._status_code}} total {{ctx.payload.hits.total}}' } } },
    } as any);
    const got = (await es.watcher.getWatch({ id })) as any;
    expect(got.watch.input.http.request.path).toBe('/w/{{ctx.watch_id}}');

    const r = ((await es.watcher.executeWatch({ id })) as any).watch_record;
    expect(r.state).toBe('executed');
    expect(r.result.input).toMatchObject({
      type: 'http',
      status: 'success',
      payload: { _status_code: 200, path: `/w/${id}?who=${id}`, method: 'POST', body: `{"id":"${id}"}`, hits: { total: 3 }, _headers: { 'x-served-by': ['loopback'] } },
      http: { request: { host: '127.0.0.1', port, scheme: 'http', method: 'post', path: `/w/${id}`, params: { who: id } }, status_code: 200 },
    });
    expect(r.result.actions[0]).toMatchObject({ status: 'success', logging: { logged_text: 'status 200 total 3' } });
  });

  it('an http input puts a JSON array under data, and extract keeps only the named keys', async () => {
    const list = (
      (await es.watcher.executeWatch({
        watch: { trigger: { schedule: { interval: '1m' } }, input: { http: { request: { url: `http://127.0.0.1:${port}/list` } } } },
      } as any)) as any
    ).watch_record;
    expect(list.result.input.payload.data).toEqual([{ n: 1 }, { n: 2 }]);
    const extracted = (
      (await es.watcher.executeWatch({
        watch: { trigger: { schedule: { interval: '1m' } }, input: { http: { request: { url: `http://127.0.0.1:${port}/x` }, extract: ['hits.total'] } } },
      } as any)) as any
    ).watch_record;
    const { _headers, ...rest } = extracted.result.input.payload;
    expect(rest).toEqual({ _status_code: 200, hits: { total: 3 } });
  });

  it('a chain of simple and http inputs gives the http step the simple payload as ctx.payload.<name>', async () => {
    const id = uniqueId('wi-chain');
    await es.watcher.putWatch({
      id,
      trigger: { schedule: { interval: '1m' } },
      input: {
        chain: {
          inputs: [{ first: { simple: { path: 'from-first' } } }, { second: { http: { request: { host: '127.0.0.1', port, path: '/{{ctx.payload.first.path}}' } } } }],
        },
      },
      condition: { compare: { 'ctx.payload.second.hits.total': { eq: 3 } } },
      actions: { log: { logging: { text: '{{ctx.payload.first.path}} {{ctx.payload.second.path}}' } } },
    } as any);
    const r = ((await es.watcher.executeWatch({ id })) as any).watch_record;
    expect(r.state).toBe('executed');
    expect(r.result.input).toMatchObject({
      type: 'chain',
      status: 'success',
      payload: { first: { path: 'from-first' }, second: { _status_code: 200, path: '/from-first' } },
      chain: { first: { type: 'simple', status: 'success' }, second: { type: 'http', status: 'success', http: { status_code: 200 } } },
    });
    expect(r.result.actions[0].logging.logged_text).toBe('from-first /from-first');
    expect(r.input).toEqual({
      chain: { inputs: [{ first: { simple: { path: 'from-first' } } }, { second: { http: { request: { host: '127.0.0.1', port, path: '/{{ctx.payload.first.path}}' } } } }] },
    });
  });

  it('a host that does not answer within the timeouts fails the input: "failed to execute watch input", no action runs', async () => {
    const id = uniqueId('wi-silent');
    await es.watcher.putWatch({
      id,
      trigger: { schedule: { interval: '1m' } },
      input: { http: { request: { host: '127.0.0.1', port, path: '/silent', connection_timeout: '1s', read_timeout: '1s' } } },
      actions: { log: { logging: { text: 'never' } } },
    } as any);
    const r = ((await es.watcher.executeWatch({ id, record_execution: true })) as any).watch_record;
    expect(r.state).toBe('failed');
    expect(r.messages).toEqual(['failed to execute watch input']);
    expect(r.result.input).toMatchObject({
      type: 'http',
      status: 'failure',
      error: { reason: `[http] input [127.0.0.1:${port}] did not answer within [2s]` },
      http: { request: { host: '127.0.0.1', port, path: '/silent' } },
    });
    expect(r.result.actions).toEqual([]);
    expect(r.status.actions.log.ack.state).toBe('awaits_successful_execution');
  });

  it('basic auth on an http input is refused at put with a 400 naming it', async () => {
    const e = await esError(
      es.watcher.putWatch({
        id: uniqueId('wi-auth'),
        trigger: { schedule: { interval: '1m' } },
        input: { http: { request: { host: '127.0.0.1', port, auth: { basic: { username: 'u', password: 'p' } } } } },
      } as any),
    );
    expect([e.status, e.type, e.reason]).toEqual([400, 'illegal_argument_exception', 'mlplane does not support the [http input auth] input yet']);
  });
});
