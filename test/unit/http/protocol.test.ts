import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

process.env.TABLE_NAME = 'test-table';
process.env.COMMAND_QUEUE_URL = 'http://sqs.local/queue/commands.fifo';
process.env.LOG_LEVEL = 'silent';
process.env.LOG_FORMAT = 'json';
const ddb = mockClient(DynamoDBDocumentClient);
const { hashPassword } = await import('../../../lib/app/security.ts');
const { handler } = await import('../../../functions/http/root.ts');

const PASSWORD = 's3cret-Pa55';
let hash = '';
beforeAll(async () => {
  hash = await hashPassword(PASSWORD);
});
beforeEach(() => {
  ddb.reset();
  ddb.on(GetCommand).resolves({});
  ddb.on(GetCommand, { Key: { pk: 'users', sk: 'user#elastic' } }).resolves({ Item: { user: { username: 'elastic', password_hash: hash, roles: ['superuser'], enabled: true } } });
  ddb.on(GetCommand, { Key: { pk: 'cluster', sk: 'settings' } }).resolves({});
  ddb.on(GetCommand, { Key: { pk: 'cluster', sk: 'uuid' } }).resolves({ Item: { uuid: 'stored-uuid-0123456789' } });
});
afterEach(() => {
  vi.restoreAllMocks();
  process.env.LOG_LEVEL = 'silent';
});

const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const AUTH = basic('elastic', PASSWORD);

interface Opts {
  auth?: string;
  headers?: Record<string, string>;
  rawQuery?: string;
  body?: string;
  base64?: boolean;
}

function event(routeKey: string, path: string, opts: Opts = {}): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.auth) headers.authorization = opts.auth;
  const e = {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: opts.rawQuery ?? '',
    headers,
    isBase64Encoded: opts.base64 === true,
    requestContext: { http: { method: routeKey.split(' ')[0], path }, requestId: 'req-1' } as APIGatewayProxyEventV2['requestContext'],
  } as APIGatewayProxyEventV2;
  if (opts.body !== undefined) e.body = opts.body;
  return e;
}

const call = async (e: APIGatewayProxyEventV2) => (await handler(e, {} as Context)) as APIGatewayProxyStructuredResultV2;
const json = (r: APIGatewayProxyStructuredResultV2) => JSON.parse(r.body as string);
const JSON_CT = { 'content-type': 'application/json' };

describe('request bodies are decoded strictly as UTF-8', () => {
  it('refuses a base64 body holding ff fe c3 28 with 400 x_content_parse_exception', async () => {
    const bytes = Buffer.concat([Buffer.from('{"description":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('"}')]);
    const r = await call(event('GET /', '/', { auth: AUTH, headers: JSON_CT, body: bytes.toString('base64'), base64: true }));
    expect(r.statusCode).toBe(400);
    expect(json(r).error).toMatchObject({ type: 'x_content_parse_exception' });
    expect(json(r).error.reason).toMatch(/^\[1:18\] Invalid UTF-8 start byte 0xff/);
  });

  it('refuses a plain body with a lone surrogate', async () => {
    const r = await call(event('GET /', '/', { auth: AUTH, headers: JSON_CT, body: '{"a":"\uDC00"}' }));
    expect(r.statusCode).toBe(400);
    expect(json(r).error.type).toBe('x_content_parse_exception');
  });
});

describe('query strings are decoded as Elasticsearch does', () => {
  it('answers a malformed escape with 400 bad_parameter_exception, before authentication', async () => {
    const r = await call(event('GET /', '/', { rawQuery: 'pretty=%zz' }));
    expect(r.statusCode).toBe(400);
    expect(json(r).error).toMatchObject({
      type: 'bad_parameter_exception',
      reason: "java.lang.IllegalArgumentException: invalid escape sequence `%zz' at index 0 of: %zz",
      caused_by: { type: 'illegal_argument_exception' },
    });
  });
});

describe('Accept and Content-Type', () => {
  const vnd = (v: number) => `application/vnd.elasticsearch+json; compatible-with=${v}`;

  it('serves compatible-with=9 and =8', async () => {
    expect((await call(event('GET /', '/', { auth: AUTH, headers: { accept: vnd(9) } }))).statusCode).toBe(200);
    expect((await call(event('GET /', '/', { auth: AUTH, headers: { accept: vnd(8) } }))).statusCode).toBe(200);
  });

  it.each([7, 10])('answers Accept compatible-with=%i with 400 media_type_header_exception', async (v) => {
    const r = await call(event('GET /', '/', { headers: { accept: vnd(v) } }));
    expect(r.statusCode).toBe(400);
    expect(json(r)).toEqual({
      error: {
        root_cause: [{ type: 'media_type_header_exception', reason: 'Invalid media-type value on headers [Accept, Content-Type]' }],
        type: 'media_type_header_exception',
        reason: 'Invalid media-type value on headers [Accept, Content-Type]',
        caused_by: { type: 'status_exception', reason: `Accept version must be either version 9 or 8, but found ${v}. Accept=${vnd(v)}` },
      },
      status: 400,
    });
  });

  it('checks the Content-Type version of a body, and that it matches Accept', async () => {
    const bad = await call(event('GET /', '/', { headers: { accept: vnd(9), 'content-type': vnd(7) }, body: '{}' }));
    expect(json(bad).error.caused_by.reason).toBe(`Content-Type version must be either version 9 or 8, but found 7. Content-Type=${vnd(7)}`);
    const mismatch = await call(event('GET /', '/', { headers: { accept: vnd(9), 'content-type': vnd(8) }, body: '{}' }));
    expect(json(mismatch).error.caused_by.reason).toBe(
      'A compatible version is required on both Content-Type and Accept headers if either one has requested a compatible version ' +
        `and the compatible versions must match. Accept=${vnd(9)}, Content-Type=${vnd(8)}`,
    );
    const oneSided = await call(event('GET /', '/', { headers: { 'content-type': vnd(9) }, body: '{}' }));
    expect(json(oneSided).error.caused_by.reason).toBe(
      `A compatible version is required on both Content-Type and Accept headers if either one has requested a compatible version. Accept=null, Content-Type=${vnd(9)}`,
    );
  });

  it('answers an unparsable Accept with 400 naming the header', async () => {
    const r = await call(event('GET /', '/', { headers: { accept: 'nonsense' } }));
    expect(json(r).error).toMatchObject({
      type: 'media_type_header_exception',
      reason: 'Invalid media-type value on headers [Accept]',
      caused_by: { type: 'illegal_argument_exception', reason: 'invalid media-type [nonsense]' },
    });
  });

  it('answers a text/plain body with 406 and Elasticsearch simple error body, before authentication', async () => {
    const r = await call(event('GET /', '/', { headers: { 'content-type': 'text/plain;charset=UTF-8' }, body: '{}' }));
    expect(r.statusCode).toBe(406);
    expect(json(r)).toEqual({ error: 'Content-Type header [text/plain;charset=UTF-8] is not supported', status: 406 });
  });

  it('answers a body without Content-Type with 406', async () => {
    const r = await call(event('GET /', '/', { auth: AUTH, body: '{}' }));
    expect(json(r)).toEqual({ error: 'Content-Type header is missing', status: 406 });
  });

  it('says clearly that YAML, CBOR and Smile bodies cannot be read', async () => {
    const r = await call(event('GET /', '/', { auth: AUTH, headers: { 'content-type': 'application/yaml' }, body: 'a: 1' }));
    expect(r.statusCode).toBe(406);
    expect(json(r).error).toContain('mlplane reads JSON request bodies only');
  });

  it('accepts JSON, NDJSON and the vendor JSON types', async () => {
    for (const ct of ['application/json; charset=UTF-8', 'application/x-ndjson', 'application/vnd.elasticsearch+json; compatible-with=9']) {
      const accept: Record<string, string> = ct.includes('compatible-with') ? { accept: ct } : {};
      expect((await call(event('GET /', '/', { auth: AUTH, headers: { 'content-type': ct, ...accept }, body: '{}' }))).statusCode).toBe(200);
    }
  });
});

describe('the source parameter', () => {
  it('needs source_content_type, as Elasticsearch', async () => {
    const r = await call(event('GET /', '/', { auth: AUTH, rawQuery: 'source=%7B%7D' }));
    expect(r.statusCode).toBe(400);
    expect(json(r).error).toMatchObject({ type: 'validation_exception', reason: 'Validation Failed: 1: source and source_content_type parameters are required;' });
    const unknown = await call(event('GET /', '/', { auth: AUTH, rawQuery: 'source=%7B%7D&source_content_type=text/plain' }));
    expect(json(unknown).error.reason).toBe('Validation Failed: 1: Unknown value for source_content_type [text/plain];');
    const ok = await call(event('GET /', '/', { auth: AUTH, rawQuery: 'source=%7B%7D&source_content_type=application/json' }));
    expect(ok.statusCode).toBe(200);
  });
});

describe('filter_path', () => {
  it('filters a successful body', async () => {
    const r = await call(event('GET /', '/', { auth: AUTH, rawQuery: 'filter_path=version.number,cluster_name' }));
    expect(json(r)).toEqual({ cluster_name: 'mlplane', version: { number: '9.4.3' } });
  });

  it('leaves error bodies whole, as Elasticsearch builds them unfiltered', async () => {
    const r = await call(event('GET /', '/', { rawQuery: 'filter_path=status' }));
    expect(r.statusCode).toBe(401);
    expect(json(r).error.type).toBe('security_exception');
  });
});

describe('cluster_uuid', () => {
  it('is the one stored in the table', async () => {
    const r = await call(event('GET /', '/', { auth: AUTH }));
    expect(json(r).cluster_uuid).toBe('stored-uuid-0123456789');
  });
});

describe('malformed Basic credentials never echo a secret', () => {
  const reason = async (authorization: string) => {
    const r = await call(event('GET /', '/', { auth: authorization }));
    expect(r.statusCode).toBe(401);
    expect(r.body).not.toContain(PASSWORD);
    expect(r.headers?.['www-authenticate']).toContain('Basic realm="security"');
    return json(r).error;
  };

  it('refuses a token without a colon as an invalid header value', async () => {
    const e = await reason(`Basic ${Buffer.from(`elastic${PASSWORD}`).toString('base64')}`);
    expect(e.reason).toBe('invalid basic authentication header value');
  });

  it('refuses a token that is not base64 with Java decoder cause', async () => {
    expect(await reason('Basic !!!!')).toMatchObject({
      reason: 'invalid basic authentication header encoding',
      caused_by: { type: 'illegal_argument_exception', reason: 'Illegal base64 character 21' },
    });
    expect((await reason('Basic QQ')).reason).toBe('invalid basic authentication header value');
    expect((await reason('Basic Q')).caused_by.reason).toBe('Last unit does not have enough valid bits');
    expect((await reason('Basic QQ==x')).caused_by.reason).toBe('Input byte array has incorrect ending byte at 4');
  });

  it('treats Basic without a value, another scheme or an empty header as missing credentials', async () => {
    expect((await reason('Basic')).reason).toBe('missing authentication credentials for REST request [/]');
    expect((await reason('Bearer abc')).reason).toBe('missing authentication credentials for REST request [/]');
    expect((await reason('Basic ')).reason).toBe('invalid basic authentication header value');
  });

  it('echoes only the username of a very long header or one with control characters', async () => {
    const long = await reason(basic('u'.repeat(20_000), PASSWORD));
    expect(long.reason).toContain('unable to authenticate user [uuu');
    const ctl = await reason(basic('a\u0001b', PASSWORD));
    expect(ctl.reason).toBe('unable to authenticate user [a\u0001b] for REST request [/]');
  });
});

describe('access log', () => {
  const lines = () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    return out;
  };

  it('writes one info line per request with method, path, status, duration and user, never credentials or query values', async () => {
    process.env.LOG_LEVEL = 'info';
    const out = lines();
    await call(event('GET /', '/', { auth: AUTH, rawQuery: `pretty&source=${encodeURIComponent('{"password":"hunter2"}')}&source_content_type=application/json` }));
    expect(out).toHaveLength(1);
    const line = JSON.parse(out[0]!);
    expect(line).toMatchObject({
      level: 'info',
      message: expect.stringMatching(/^GET \/ 200 \d+ms$/),
      user: 'elastic',
      params: 'pretty,source,source_content_type',
      request_id: 'req-1',
    });
    expect(line.http).toMatchObject({ method: 'GET', path: '/', status: 200 });
    expect(out[0]).not.toContain('hunter2');
    expect(out[0]).not.toContain(AUTH.slice(6));
  });

  it('logs a 4xx reason at debug only, and never the password', async () => {
    process.env.LOG_LEVEL = 'debug';
    const out = lines();
    await call(event('GET /', '/', { auth: `Basic ${Buffer.from(`elastic${PASSWORD}`).toString('base64')}` }));
    expect(out).toHaveLength(2);
    expect(JSON.parse(out[0]!)).toMatchObject({ level: 'debug', status: 401, type: 'security_exception', reason: 'invalid basic authentication header value' });
    expect(JSON.parse(out[1]!)).toMatchObject({ level: 'info', http: { status: 401 } });
    expect(JSON.parse(out[1]!).user).toBeUndefined();
    expect(out.join('')).not.toContain(PASSWORD);
  });
});
