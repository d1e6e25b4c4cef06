import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';

process.env.TABLE_NAME = 'test-table';
process.env.COMMAND_QUEUE_URL = 'http://sqs.local/queue/commands.fifo';
process.env.LOG_LEVEL = 'silent';
const ddb = mockClient(DynamoDBDocumentClient);
const { hashPassword } = await import('../../../lib/app/security.ts');
const { handler } = await import('../../../functions/http/root.ts');
const { config, DEFAULT_MAX_BODY_BYTES } = await import('../../../lib/runtime/config.ts');

let hash = '';
beforeAll(async () => {
  hash = await hashPassword('s3cret');
});
beforeEach(() => {
  ddb.reset();
  ddb.on(GetCommand, { Key: { pk: 'users', sk: 'user#elastic' } }).resolves({ Item: { user: { username: 'elastic', password_hash: hash, roles: ['superuser'], enabled: true } } });
  ddb.on(GetCommand, { Key: { pk: 'users', sk: 'user#nobody' } }).resolves({});
  ddb.on(GetCommand, { Key: { pk: 'cluster', sk: 'settings' } }).resolves({});
});

const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

function event(routeKey: string, path: string, opts: { auth?: string; query?: Record<string, string> } = {}): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  if (opts.auth) headers.authorization = opts.auth;
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: new URLSearchParams(opts.query ?? {}).toString(),
    queryStringParameters: opts.query,
    headers,
    isBase64Encoded: false,
    requestContext: { http: { method: routeKey.split(' ')[0], path } } as APIGatewayProxyEventV2['requestContext'],
  } as APIGatewayProxyEventV2;
}

const call = async (e: APIGatewayProxyEventV2) => (await handler(e, {} as Context)) as APIGatewayProxyStructuredResultV2;
const json = (r: APIGatewayProxyStructuredResultV2) => JSON.parse(r.body as string);

describe('the HTTP middy chain', () => {
  it('answers GET / with cluster info and the product header', async () => {
    const r = await call(event('GET /', '/', { auth: basic('elastic', 's3cret') }));
    expect(r.statusCode).toBe(200);
    expect(r.headers?.['x-elastic-product']).toBe('Elasticsearch');
    expect(json(r)).toMatchObject({ tagline: 'You Know, for Search', version: { number: '9.4.3' } });
  });

  it('is 401 security_exception without credentials, with the challenge header', async () => {
    const r = await call(event('GET /_ml/info', '/_ml/info'));
    expect(r.statusCode).toBe(401);
    expect(json(r).error).toMatchObject({ type: 'security_exception', reason: 'missing authentication credentials for REST request [/_ml/info]' });
    expect(r.headers?.['www-authenticate']).toContain('Basic realm="security"');
  });

  it('is 401 for a wrong password or an unknown user', async () => {
    const bad = await call(event('GET /', '/', { auth: basic('elastic', 'nope') }));
    expect(bad.statusCode).toBe(401);
    expect(json(bad).error.reason).toBe('unable to authenticate user [elastic] for REST request [/]');
    const unknown = await call(event('GET /', '/', { auth: basic('nobody', 'x') }));
    expect(json(unknown).error.reason).toBe('unable to authenticate user [nobody] for REST request [/]');
  });

  it('rejects unknown query parameters with Elasticsearch message', async () => {
    const r = await call(event('GET /_ml/info', '/_ml/info', { auth: basic('elastic', 's3cret'), query: { foo: '1', bar: '2' } }));
    expect(r.statusCode).toBe(400);
    expect(json(r).error).toMatchObject({ type: 'illegal_argument_exception', reason: 'request [/_ml/info] contains unrecognized parameters: [foo], [bar]' });
  });

  it('pretty-prints with ?pretty and shows upgrade_mode in _ml/info', async () => {
    const r = await call(event('GET /_ml/info', '/_ml/info', { auth: basic('elastic', 's3cret'), query: { pretty: '' } }));
    expect(r.body).toContain('\n  "defaults"');
    expect(json(r).upgrade_mode).toBe(false);
    expect(json(r).defaults.anomaly_detectors.model_memory_limit).toBe('1gb');
  });
});

describe('the body limit', () => {
  const withBody = (bytes: number): APIGatewayProxyEventV2 => {
    const e = event('GET /', '/');
    e.headers['content-type'] = 'application/json';
    e.body = ' '.repeat(bytes);
    return e;
  };

  it('is 5 MiB by default, under what API Gateway and a Lambda invocation take', () => {
    expect(DEFAULT_MAX_BODY_BYTES).toBe(5 * 1024 * 1024);
    expect(config().maxBodyBytes).toBe(DEFAULT_MAX_BODY_BYTES);
  });

  it('answers a body over it with Elasticsearch’s 413 content_too_long_exception, before authentication', async () => {
    const r = await call(withBody(DEFAULT_MAX_BODY_BYTES + 1));
    expect(r.statusCode).toBe(413);
    expect(json(r)).toMatchObject({ status: 413, error: { type: 'content_too_long_exception' } });
  });

  it('takes a body of exactly the limit (this one then fails authentication)', async () => {
    expect((await call(withBody(DEFAULT_MAX_BODY_BYTES))).statusCode).toBe(401);
  });
});

describe('authorization by cluster privilege', async () => {
  const { authorize } = await import('../../../lib/app/security.ts');
  it('grants monitor_ml to a machine_learning_admin and refuses manage_ml to a machine_learning_user', () => {
    expect(() => authorize({ username: 'a', roles: ['machine_learning_admin'] }, 'monitor_ml', 'x')).not.toThrow();
    expect(() => authorize({ username: 'u', roles: ['machine_learning_user'] }, 'manage_ml', 'cluster:admin/xpack/ml/job/close')).toThrow(
      'action [cluster:admin/xpack/ml/job/close] is unauthorized for user [u] with effective roles [machine_learning_user], this action is granted by the cluster privileges [manage_ml,manage,all]',
    );
  });

  it('grants monitor_watcher to a watcher_admin and refuses manage_watcher to a watcher_user', () => {
    expect(() => authorize({ username: 'a', roles: ['watcher_admin'] }, 'monitor_watcher', 'x')).not.toThrow();
    expect(() => authorize({ username: 'r', roles: ['watcher_user'] }, 'monitor_watcher', 'x')).not.toThrow();
    expect(() => authorize({ username: 's', roles: ['superuser'] }, 'manage_watcher', 'x')).not.toThrow();
    expect(() => authorize({ username: 'u', roles: ['watcher_user'] }, 'manage_watcher', 'cluster:admin/xpack/watcher/watch/ack')).toThrow(
      'action [cluster:admin/xpack/watcher/watch/ack] is unauthorized for user [u] with effective roles [watcher_user], this action is granted by the cluster privileges [manage_watcher,manage,all]',
    );
  });
});

describe('a pre-serialized JSON result', () => {
  const result = { status: 200, json: '{"count":2,"buckets":[{"timestamp":1,"anomaly_score":0.5},{"timestamp":2,"anomaly_score":3}]}' };

  it('is sent as is, with the JSON headers', async () => {
    const { render } = await import('../../../lib/http/chain.ts');
    const r = render(result, {}, false, true);
    expect(r).toMatchObject({ statusCode: 200, body: result.json, headers: { 'content-type': 'application/json; charset=UTF-8', 'x-elastic-product': 'Elasticsearch' } });
    expect(render(result, {}, true, true).body).toBe('');
  });

  it('is parsed for ?pretty and filter_path, over HTTP and as a command event’s body', async () => {
    const { render, resultBody } = await import('../../../lib/http/chain.ts');
    expect(render(result, { pretty: '' }, false, true).body).toBe(JSON.stringify(JSON.parse(result.json), null, 2));
    const filtered = { buckets: [{ timestamp: 1 }, { timestamp: 2 }] };
    expect(JSON.parse(render(result, { filter_path: 'buckets.timestamp' }, false, true).body as string)).toEqual(filtered);
    expect(resultBody(result, { filter_path: 'buckets.timestamp' })).toEqual(filtered);
    expect(resultBody(result, {})).toEqual(JSON.parse(result.json));
  });
});
