/**
 * The HTTP edge with hostile input the official client would never send: raw `node:http`
 * and `node:net` requests against the local system.
 */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { describe, expect, inject, it } from 'vitest';
import { esClient, uniqueId } from './client.ts';

const es = esClient();
const url = new URL(inject('esUrl'));
const password = inject('elasticPassword');
const AUTH = `Basic ${Buffer.from(`elastic:${password}`).toString('base64')}`;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

function send(method: string, path: string, opts: { headers?: Record<string, string>; body?: Buffer | string; auth?: boolean } = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.auth !== false) headers.authorization ??= AUTH;
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Writes raw bytes on a fresh connection and returns status line and body of the answer. */
function raw(payload: string): Promise<{ statusLine: string; body: any }> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const statusLine = text.slice(0, text.indexOf('\r\n'));
      let body: unknown;
      try {
        body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
      } catch {
        body = undefined; // Node's default answer to malformed HTTP has no body
      }
      resolve({ statusLine, body });
    });
    socket.on('error', reject);
    socket.write(payload);
  });
}

const BAD_UTF8 = Buffer.from([0xff, 0xfe, 0xc3, 0x28]);
const JSON_CT = { 'content-type': 'application/json' };

describe('invalid UTF-8 in a body is a 400, never stored as U+FFFD', () => {
  it('in a job description', async () => {
    const id = uniqueId('utf8-job');
    const body = Buffer.concat([
      Buffer.from('{"description":"'),
      BAD_UTF8,
      Buffer.from('","analysis_config":{"bucket_span":"1h","detectors":[{"function":"count"}]},"data_description":{"time_field":"t"}}'),
    ]);
    const r = await send('PUT', `/_ml/anomaly_detectors/${id}`, { headers: JSON_CT, body });
    expect(r.status).toBe(400);
    expect(r.json.error.type).toBe('x_content_parse_exception');
    expect(r.json.error.reason).toMatch(/^\[1:18\] Invalid UTF-8 start byte 0xff/);
    expect((await send('GET', `/_ml/anomaly_detectors/${id}`)).status).toBe(404);
  });

  it('in a filter item', async () => {
    const id = uniqueId('utf8-filter');
    const body = Buffer.concat([Buffer.from('{"items":["ok","'), BAD_UTF8, Buffer.from('"]}')]);
    const r = await send('PUT', `/_ml/filters/${id}`, { headers: JSON_CT, body });
    expect(r.status).toBe(400);
    expect(r.json.error.reason).toContain('Invalid UTF-8 start byte 0xff');
    expect((await send('GET', `/_ml/filters/${id}`)).status).toBe(404);
  });

  it('a malformed escape in the query or path is a 400 with Elasticsearch reasons', async () => {
    const q = await send('GET', '/_ml/anomaly_detectors?allow_no_match=%zz');
    expect(q.status).toBe(400);
    expect(q.json.error).toMatchObject({ type: 'bad_parameter_exception', caused_by: { reason: "invalid escape sequence `%zz' at index 0 of: %zz" } });
    const p = await send('GET', '/_ml/anomaly_detectors/a%zz');
    expect(p.status).toBe(400);
    expect(p.json.error).toMatchObject({ type: 'illegal_argument_exception', reason: "invalid escape sequence `%zz' at index 1 of: a%zz" });
  });
});

describe('credentials are never echoed', () => {
  it('Basic base64("elastic<password>") without a colon is refused as a malformed header', async () => {
    const r = await send('GET', '/', { headers: { authorization: `Basic ${Buffer.from(`elastic${password}`).toString('base64')}` } });
    expect(r.status).toBe(401);
    expect(r.json.error).toMatchObject({ type: 'security_exception', reason: 'invalid basic authentication header value' });
    expect(r.text).not.toContain(password);
  });

  it('invalid base64, Basic alone and an unknown scheme get 401 bodies', async () => {
    expect((await send('GET', '/', { headers: { authorization: 'Basic !!!' } })).json.error.reason).toBe('invalid basic authentication header encoding');
    expect((await send('GET', '/', { headers: { authorization: 'Basic' } })).json.error.reason).toBe('missing authentication credentials for REST request [/]');
    expect((await send('GET', '/', { headers: { authorization: 'Negotiate abc' } })).status).toBe(401);
  });
});

describe('HTTP limits and malformed HTTP get Elasticsearch 400 bodies', () => {
  it('a URL past 4096 bytes', async () => {
    const r = await send('GET', `/_ml/anomaly_detectors/${'j'.repeat(5000)}`);
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ type: 'too_long_http_line_exception', reason: 'An HTTP line is larger than 4096 bytes.' });
    expect(r.headers['x-elastic-product']).toBe('Elasticsearch');
  });

  it('headers past 16 KiB, and far past it', async () => {
    const r = await send('GET', '/', { headers: { 'x-big': 'b'.repeat(20_000) } });
    expect(r.json.error).toMatchObject({ type: 'too_long_http_header_exception', reason: 'HTTP header is larger than 16384 bytes.' });
    const huge = await raw(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(40_000)}\r\n\r\n`);
    expect(huge.statusLine).toMatch(/^HTTP\/1\.1 400 /);
    expect(huge.body.error.type).toBe('too_long_http_header_exception');
  });

  it('a malformed request', async () => {
    const r = await raw('GET / HTTP/1.1\r\nBad Header Name: x\r\n\r\n');
    expect(r.statusLine).toMatch(/^HTTP\/1\.1 400 /);
    expect(r.body).toMatchObject({ status: 400, error: { type: 'illegal_argument_exception' } });
  });
});

describe('media types', () => {
  it('refuses compatible-with=7 and =10 with the RestCompatibleVersionHelper message', async () => {
    for (const v of [7, 10]) {
      const accept = `application/vnd.elasticsearch+json; compatible-with=${v}`;
      const r = await send('GET', '/', { headers: { accept } });
      expect(r.status).toBe(400);
      expect(r.json.error).toMatchObject({
        type: 'media_type_header_exception',
        caused_by: { type: 'status_exception', reason: `Accept version must be either version 9 or 8, but found ${v}. Accept=${accept}` },
      });
    }
  });

  it('refuses a text/plain body with 406', async () => {
    const id = uniqueId('plain');
    const r = await send('PUT', `/_ml/filters/${id}`, { headers: { 'content-type': 'text/plain' }, body: '{"items":[]}' });
    expect(r.status).toBe(406);
    expect(r.json).toEqual({ error: 'Content-Type header [text/plain] is not supported', status: 406 });
  });
});

describe('filter_path', () => {
  it('filters what the official client asks for', async () => {
    const id = uniqueId('fp');
    await es.ml.putFilter({ filter_id: id, items: ['a'], description: 'd' });
    const r = await es.ml.getFilters({ filter_id: id, filter_path: 'filters.filter_id,-count' });
    expect(r).toEqual({ filters: [{ filter_id: id }] });
  });
});

describe('GET /', () => {
  it('reports a random cluster_uuid that stays the same', async () => {
    const a = await es.info();
    const b = await es.info();
    expect(a.cluster_uuid).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(b.cluster_uuid).toBe(a.cluster_uuid);
    // Not the old value derived from the cluster name, which every instance shared.
    const { createHash } = await import('node:crypto');
    expect(a.cluster_uuid).not.toBe(createHash('sha256').update(a.cluster_name).digest('base64url').slice(0, 22));
  });
});
