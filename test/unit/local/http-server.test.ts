import { request as httpRequest, Agent } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { createRouter, startHttpServer, type LocalHttpServer } from '../../../lib/local/http-server.ts';
import type { HttpHandler } from '../../../lib/local/lambda.ts';
import { routes } from '../../../lib/runtime/topology.ts';

// The server writes access lines for the answers it gives itself; keep test output clean.
process.env.LOG_LEVEL = 'silent';

describe('createRouter', () => {
  const router = createRouter(routes);

  it('answers an unknown path with Elasticsearch 400 body, quoting the uri with its query', () => {
    const m = router.match('GET', '/_nope/x?pretty');
    expect(m.kind).toBe('error');
    if (m.kind !== 'error') return;
    expect(m.response.statusCode).toBe(400);
    expect(JSON.parse(m.response.body.toString())).toEqual({
      error: 'no handler found for uri [/_nope/x?pretty] and method [GET]',
      status: 400,
    });
    expect(m.response.headers['x-elastic-product']).toBe('Elasticsearch');
  });

  it('answers a known path with another method with 405, the allowed methods and an Allow header', () => {
    const m = router.match('DELETE', '/_ml/anomaly_detectors/job-1/_close');
    expect(m.kind).toBe('error');
    if (m.kind !== 'error') return;
    expect(m.response.statusCode).toBe(405);
    expect(JSON.parse(m.response.body.toString())).toEqual({
      error: 'Incorrect HTTP method for uri [/_ml/anomaly_detectors/job-1/_close] and method [DELETE], allowed: [POST]',
      status: 405,
    });
    expect(m.response.headers.allow).toBe('POST');
  });

  it('lists several allowed methods in Elasticsearch order', () => {
    const m = router.match('POST', '/_ml/anomaly_detectors/job-1');
    if (m.kind !== 'error') throw new Error(`expected an error, got ${m.kind}`);
    expect(JSON.parse(m.response.body.toString()).error).toBe('Incorrect HTTP method for uri [/_ml/anomaly_detectors/job-1] and method [POST], allowed: [GET, PUT, DELETE]');
    expect(m.response.headers.allow).toBe('GET,PUT,DELETE');
  });

  it('prefers a static segment over a parameter and decodes parameters', () => {
    const stats = router.match('GET', '/_ml/anomaly_detectors/_stats');
    expect(stats).toMatchObject({ kind: 'route', routeKey: 'GET /_ml/anomaly_detectors/_stats', pathParameters: {} });
    const bucket = router.match('GET', '/_ml/anomaly_detectors/a%2Fb/results/buckets/2024-01-01T00%3A00%3A00Z?x=1');
    expect(bucket).toMatchObject({
      kind: 'route',
      routeKey: 'GET /_ml/anomaly_detectors/{job_id}/results/buckets/{timestamp}',
      pathParameters: { job_id: 'a/b', timestamp: '2024-01-01T00:00:00Z' },
    });
  });

  it('never binds an empty segment to a path parameter', () => {
    expect(router.match('GET', '/_ml/anomaly_detectors/').kind).toBe('error');
  });

  it('answers a malformed escape in the path with Elasticsearch 400 illegal_argument_exception', () => {
    const m = router.match('GET', '/_ml/anomaly_detectors/a%zz');
    if (m.kind !== 'error') throw new Error(`expected an error, got ${m.kind}`);
    expect(m.response.statusCode).toBe(400);
    expect(JSON.parse(m.response.body.toString()).error).toMatchObject({
      type: 'illegal_argument_exception',
      reason: "invalid escape sequence `%zz' at index 1 of: a%zz",
    });
  });

  it('binds an escape that is not UTF-8 as U+FFFD and keeps + as +, as Elasticsearch decodes paths', () => {
    expect(router.match('GET', '/_ml/anomaly_detectors/a%ff+b')).toMatchObject({ kind: 'route', pathParameters: { job_id: 'a\uFFFD+b' } });
  });
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

describe('startHttpServer', () => {
  let server: LocalHttpServer;
  let seen: APIGatewayProxyEventV2[] = [];
  let contexts: Context[] = [];
  let behaviour: (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyResultV2>;
  const agent = new Agent({ keepAlive: true });

  const send = (method: string, path: string, opts: { headers?: Record<string, string | string[]>; body?: string | Buffer[] } = {}): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: server.port, method, path, headers: opts.headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      if (Array.isArray(opts.body)) {
        for (const chunk of opts.body) req.write(chunk);
        req.end();
      } else {
        req.end(opts.body);
      }
    });

  beforeAll(async () => {
    const handler: HttpHandler = async (event, context) => {
      seen.push(event);
      contexts.push(context);
      return behaviour(event);
    };
    server = await startHttpServer({
      port: 0,
      routes,
      resolveHandler: async () => handler,
      maxBodyBytes: 1024,
      region: 'us-east-1',
      integrationTimeoutMs: 2000,
    });
  });
  afterAll(async () => {
    agent.destroy();
    await server.stop();
  });
  beforeEach(() => {
    seen = [];
    contexts = [];
    behaviour = async () => ({ statusCode: 200, headers: { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' }, body: '{"ok":true}' });
  });

  it('invokes the route function with the API Gateway event of the request and writes its result', async () => {
    const reply = await send('POST', '/_ml/anomaly_detectors/job%201/_close?force=true&force=false', {
      headers: { 'content-type': 'application/json', 'x-opaque-id': ['one', 'two'], cookie: 'a=1' },
      body: '{"timeout":"1m"}',
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toBe('{"ok":true}');
    expect(seen).toHaveLength(1);
    const e = seen[0]!;
    expect(e.routeKey).toBe('POST /_ml/anomaly_detectors/{job_id}/_close');
    expect(e.rawPath).toBe('/_ml/anomaly_detectors/job%201/_close');
    expect(e.pathParameters).toEqual({ job_id: 'job 1' });
    expect(e.queryStringParameters).toEqual({ force: 'true,false' });
    expect(e.headers['x-opaque-id']).toBe('one,two');
    expect(e.cookies).toEqual(['a=1']);
    expect(e.body).toBe('{"timeout":"1m"}');
    expect(e.requestContext.http.sourceIp).toBe('127.0.0.1');
    expect(reply.headers['apigw-requestid']).toBe(e.requestContext.requestId);
    expect(contexts[0]!.getRemainingTimeInMillis()).toBeGreaterThan(0);
    expect(contexts[0]!.getRemainingTimeInMillis()).toBeLessThanOrEqual(2000);
  });

  it('keeps the connection alive between requests', async () => {
    const a = await send('GET', '/_ml/info');
    const b = await send('GET', '/_ml/info');
    expect(a.headers.connection).toBe('keep-alive');
    expect(b.status).toBe(200);
  });

  it('answers HEAD with the headers only', async () => {
    behaviour = async () => ({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"name":"x"}' });
    const reply = await send('HEAD', '/');
    expect(reply.status).toBe(200);
    expect(reply.body).toBe('');
    expect(reply.headers['content-length']).toBe('12');
  });

  it('answers an unknown path with 400 and a wrong method with 405 without calling a function', async () => {
    const unknown = await send('GET', '/_unknown/x'); // one segment would be GET /{index} (the document store)
    expect(unknown.status).toBe(400);
    expect(JSON.parse(unknown.body)).toEqual({ error: 'no handler found for uri [/_unknown/x] and method [GET]', status: 400 });
    expect(unknown.headers['x-elastic-product']).toBe('Elasticsearch');
    const wrong = await send('PATCH', '/_ml/info');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('GET');
    expect(seen).toHaveLength(0);
  });

  it('rejects a body declared larger than the limit with 413 before reading it', async () => {
    const reply = await send('POST', '/_ml/anomaly_detectors/j/_data', {
      headers: { 'content-type': 'application/json', 'content-length': '5000' },
      body: 'x'.repeat(5000),
    });
    expect(reply.status).toBe(413);
    expect(JSON.parse(reply.body)).toMatchObject({ status: 413, error: { type: 'content_too_long_exception' } });
    expect(reply.headers['x-elastic-product']).toBe('Elasticsearch');
    expect(seen).toHaveLength(0);
  });

  it('rejects a chunked body with 413 as soon as it passes the limit', async () => {
    const chunks = Array.from({ length: 4 }, () => Buffer.alloc(400, 'y'));
    const reply = await send('POST', '/_ml/anomaly_detectors/j/_data', { headers: { 'content-type': 'application/json' }, body: chunks });
    expect(reply.status).toBe(413);
    expect(seen).toHaveLength(0);
  });

  it('accepts a body at the limit', async () => {
    const reply = await send('POST', '/_ml/anomaly_detectors/j/_data', { body: 'z'.repeat(1024) });
    expect(reply.status).toBe(200);
    expect(seen[0]!.body).toHaveLength(1024);
  });

  it('turns a function crash into an Elasticsearch 500 that reveals nothing', async () => {
    behaviour = async () => {
      throw new Error('secret table name in a stack');
    };
    const reply = await send('GET', '/_ml/info');
    expect(reply.status).toBe(500);
    const body = JSON.parse(reply.body);
    expect(body).toMatchObject({ status: 500, error: { type: 'exception', root_cause: [{ type: 'exception' }] } });
    expect(reply.body).not.toContain('secret');
    expect(reply.headers['x-elastic-product']).toBe('Elasticsearch');
  });

  it('answers 503 when the function runs past the integration timeout', async () => {
    // Fake timers for the server's timeout and the slow function only; sockets run for real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      let entered!: () => void;
      const inFunction = new Promise<void>((r) => (entered = r));
      behaviour = () => {
        entered();
        return new Promise((resolve) => setTimeout(() => resolve({ statusCode: 200, body: '{}' }), 3000));
      };
      const replying = send('GET', '/_ml/info');
      await inFunction;
      await vi.advanceTimersByTimeAsync(2000);
      const reply = await replying;
      expect(reply.status).toBe(503);
      expect(JSON.parse(reply.body).status).toBe(503);
    } finally {
      vi.useRealTimers();
    }
  });

  it('passes a body that is not UTF-8 base64-encoded, byte for byte, never as U+FFFD', async () => {
    const bytes = Buffer.concat([Buffer.from('{"description":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('"}')]);
    const reply = await send('PUT', '/_ml/anomaly_detectors/j', { headers: { 'content-type': 'application/json' }, body: [bytes] });
    expect(reply.status).toBe(200);
    expect(seen[0]!.isBase64Encoded).toBe(true);
    expect(Buffer.from(seen[0]!.body!, 'base64').equals(bytes)).toBe(true);
  });

  it('passes a UTF-8 body as text', async () => {
    await send('PUT', '/_ml/anomaly_detectors/j', { headers: { 'content-type': 'application/json' }, body: '{"description":"é"}' });
    expect(seen[0]!.isBase64Encoded).toBe(false);
    expect(seen[0]!.body).toBe('{"description":"é"}');
  });

  it('answers a request line past 4096 bytes with 400 too_long_http_line_exception', async () => {
    const reply = await send('GET', `/_ml/anomaly_detectors/${'a'.repeat(4100)}`);
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body)).toEqual({
      error: {
        root_cause: [{ type: 'too_long_http_line_exception', reason: 'An HTTP line is larger than 4096 bytes.' }],
        type: 'too_long_http_line_exception',
        reason: 'An HTTP line is larger than 4096 bytes.',
      },
      status: 400,
    });
    expect(reply.headers['x-elastic-product']).toBe('Elasticsearch');
    expect(seen).toHaveLength(0);
  });

  it('answers headers past 16 KiB with 400 too_long_http_header_exception', async () => {
    const reply = await send('GET', '/_ml/info', { headers: { 'x-big': 'b'.repeat(17 * 1024) } });
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body).error).toMatchObject({ type: 'too_long_http_header_exception', reason: 'HTTP header is larger than 16384 bytes.' });
    expect(seen).toHaveLength(0);
  });

  const raw = (payload: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const socket = connect(server.port, '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
      socket.on('error', reject);
      socket.write(payload);
    });

  it('answers headers past even the parser limit with an Elasticsearch 400 body, not a reset or an empty 431', async () => {
    const answer = await raw(`GET /_ml/info HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(40 * 1024)}\r\n\r\n`);
    expect(answer.startsWith('HTTP/1.1 400 ')).toBe(true);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
    expect(body.error.type).toBe('too_long_http_header_exception');
    expect(answer.toLowerCase()).toContain('x-elastic-product: elasticsearch');
  });

  it('answers a request line past the parser limit with too_long_http_line_exception', async () => {
    const answer = await raw(`GET /${'a'.repeat(40 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(answer.startsWith('HTTP/1.1 400 ')).toBe(true);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).error.type).toBe('too_long_http_line_exception');
  });

  it('answers malformed HTTP with 400 and an Elasticsearch body', async () => {
    const answer = await raw('GET /_ml/info HTTP/1.1\r\nBad Header: x\r\n\r\n');
    expect(answer.startsWith('HTTP/1.1 400 ')).toBe(true);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
    expect(body).toMatchObject({ status: 400, error: { type: 'illegal_argument_exception' } });
  });
});
