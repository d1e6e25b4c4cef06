import type { Context } from 'aws-lambda';
import { beforeEach, describe, expect, it, vi } from 'vitest';

process.env.TABLE_NAME = 'test-table';
process.env.COMMAND_QUEUE_URL = 'http://sqs.local/queue/commands.fifo';
process.env.LOG_LEVEL = 'silent';

// The task and audit writes are the store's business (integration tests); here they are recorded.
const tasks = vi.hoisted(() => ({
  started: [] as Array<{ esAction: string; method: string; path: string; origin: unknown }>,
  finished: [] as Array<{ status: number; body: unknown }>,
  audited: [] as Array<{ jobs: readonly string[]; status: number }>,
  named: [] as string[],
}));
vi.mock('../../../lib/app/command-events.ts', async (importActual) => {
  const actual = await importActual<typeof import('../../../lib/app/command-events.ts')>();
  return {
    ...actual,
    startCommandEventTask: async (input: (typeof tasks.started)[number]) => {
      tasks.started.push(input);
      return { command_id: '17', task_id: 'mlplane-0:17' };
    },
    finishCommandEventTask: async (_task: unknown, status: number, body: unknown) => {
      tasks.finished.push({ status, body });
    },
    jobsNamedBy: async () => tasks.named,
    auditCommandEvent: async (jobs: readonly string[], _input: unknown, status: number) => {
      tasks.audited.push({ jobs, status });
    },
  };
});
const rejected = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../../lib/runtime/metrics.ts', async (importActual) => ({
  ...(await importActual<typeof import('../../../lib/runtime/metrics.ts')>()),
  countRejectedCommandEvent: () => {
    rejected.count++;
  },
}));

const { readCommandDelivery, runCommandEvent, commandIngressFunction, CommandEventFailed, COMMAND_USER } = await import('../../../lib/http/command.ts');
const { routes, routeKey } = await import('../../../lib/runtime/topology.ts');
const { resetConfig } = await import('../../../lib/runtime/config.ts');
const { waitCapMs } = await import('../../../lib/runtime/wait-cap.ts');
const { ResourceNotFoundError } = await import('../../../lib/domain/errors.ts');
type HttpRequest = import('../../../lib/http/chain.ts').HttpRequest;
type RouteHandler = import('../../../lib/http/chain.ts').RouteHandler;

const CLOSE = 'POST /_ml/anomaly_detectors/{job_id}/_close';
const EXECUTE = 'POST /_watcher/watch/{id}/_execute';

/** A route table where every route answers `answer(req)` and records what it saw. */
function handlersAnswering(answer: (req: HttpRequest) => Promise<{ status: number; body?: unknown }>, params: readonly string[] = ['allow_no_match', 'force', 'timeout']) {
  const seen: HttpRequest[] = [];
  const handler: RouteHandler = {
    params,
    handle: async (req) => {
      seen.push(req);
      return answer(req);
    },
  };
  return { seen, handlers: Object.fromEntries(routes.map((r) => [routeKey(r), handler])) as Record<string, RouteHandler> };
}

const closed = () => handlersAnswering(async () => ({ status: 200, body: { closed: true } }));

beforeEach(() => {
  tasks.started.length = 0;
  tasks.finished.length = 0;
  tasks.audited.length = 0;
  tasks.named = [];
  rejected.count = 0;
  delete process.env.COMMAND_ROLES;
  resetConfig();
});

describe('reading a command event', () => {
  it('takes a bare event, command_version 1 by default', () => {
    const d = readCommandDelivery({ method: 'POST', path: '/_ml/anomaly_detectors/nightly-*/_close', origin: { kind: 'schedule', name: 'close-nightly' } });
    expect(d).toEqual({
      ok: true,
      event: { command_version: 1, method: 'POST', path: '/_ml/anomaly_detectors/nightly-*/_close', origin: { kind: 'schedule', name: 'close-nightly' } },
    });
  });

  it('takes an EventBridge envelope, the origin defaulting to the rule form with the source and event id', () => {
    const d = readCommandDelivery({
      version: '0',
      id: 'ev-1',
      'detail-type': 'mlplane command',
      source: 'ops',
      account: '123456789012',
      time: '2026-11-26T02:00:00Z',
      region: 'eu-central-1',
      resources: [],
      detail: { method: 'POST', path: '/_ml/set_upgrade_mode', query: { enabled: true } },
    });
    expect(d).toMatchObject({ ok: true, event: { method: 'POST', path: '/_ml/set_upgrade_mode', origin: { kind: 'rule', name: 'ops', id: 'ev-1' } } });
  });

  it('keeps the origin an envelope’s detail sets', () => {
    const d = readCommandDelivery({ 'detail-type': 'mlplane command', source: 'ops', id: 'x', detail: { method: 'GET', path: '/', origin: { kind: 'other', name: 'backup' } } });
    expect(d).toMatchObject({ ok: true, event: { origin: { kind: 'other', name: 'backup' } } });
  });

  it.each([
    ['a string', 'POST /_ml/set_upgrade_mode', '[command_event] must be a JSON object, got [string]'],
    ['an array', [], '[command_event] must be a JSON object, got [array]'],
    ['null', null, '[command_event] must be a JSON object, got [null]'],
    ['an unknown key', { method: 'GET', path: '/', foo: 1 }, '[command_event] unknown field [foo]'],
    ['an unknown key in the origin', { method: 'GET', path: '/', origin: { kind: 'cli', name: 'x', who: 'me' } }, '[command_event] unknown field [origin.who]'],
    ['a bad method', { method: 'PATCH', path: '/' }, '[command_event] failed to parse field [method]: must be one of [GET, HEAD, PUT, POST, DELETE], got [PATCH]'],
    ['no method', { path: '/' }, '[command_event] failed to parse field [method]: is required'],
    [
      'a path with a query string',
      { method: 'GET', path: '/_ml/info?pretty' },
      '[command_event] failed to parse field [path]: must not hold a query string or fragment: put parameters in [query]',
    ],
    ['a path without /', { method: 'GET', path: '_ml/info' }, '[command_event] failed to parse field [path]: must start with /'],
    ['version 2', { command_version: 2, method: 'GET', path: '/' }, '[command_event] failed to parse field [command_version]: must be one of [1], got [2]'],
    [
      'an object query value',
      { method: 'GET', path: '/', query: { a: {} } },
      '[command_event] failed to parse field [query.a]: expected a string, number or boolean, got [object]',
    ],
    [
      'an envelope without an object detail',
      { 'detail-type': 'x', source: 's', detail: 'close' },
      "[command_event] failed to parse field [detail]: an EventBridge event's detail must be a command event object, got [string]",
    ],
    ['an envelope whose detail has an unknown key', { 'detail-type': 'x', source: 's', detail: { method: 'GET', path: '/', x: 1 } }, '[command_event] unknown field [detail.x]'],
  ])('refuses %s with a 400 illegal_argument_exception naming it', (_what, input, reason) => {
    const d = readCommandDelivery(input);
    if (d.ok) throw new Error('expected a refusal');
    expect(d.error.status).toBe(400);
    expect(d.error.type).toBe('illegal_argument_exception');
    expect(d.error.message).toBe(reason);
  });
});

describe('running a command event', () => {
  it('runs the route’s handler as _command with the default role, query values as text, and records the 2xx body', async () => {
    const { seen, handlers } = closed();
    const r = await runCommandEvent(handlers, {
      method: 'POST',
      path: '/_ml/anomaly_detectors/nightly-*/_close',
      query: { allow_no_match: true, timeout: 30 },
      origin: { kind: 'schedule', name: 'close-nightly' },
    });
    expect(r).toEqual({ task: 'mlplane-0:17', status: 200, body: { closed: true } });
    expect(seen[0]).toMatchObject({
      path: '/_ml/anomaly_detectors/nightly-*/_close',
      pathParams: { job_id: 'nightly-*' },
      query: { allow_no_match: 'true', timeout: '30' },
      principal: { username: COMMAND_USER, roles: ['machine_learning_admin'] },
      body: undefined,
    });
    expect(tasks.started).toEqual([
      { esAction: 'cluster:admin/xpack/ml/job/close', method: 'POST', path: '/_ml/anomaly_detectors/nightly-*/_close', origin: { kind: 'schedule', name: 'close-nightly' } },
    ]);
    expect(tasks.finished).toEqual([{ status: 200, body: { closed: true } }]);
    expect(rejected.count).toBe(0);
  });

  it('records the task as running before the request runs, so GET _tasks lists a long close while it runs', async () => {
    const startedBeforeRun: number[] = [];
    const { handlers } = handlersAnswering(async () => {
      startedBeforeRun.push(tasks.started.length, tasks.finished.length);
      return { status: 200, body: { closed: true } };
    });
    await runCommandEvent(handlers, { method: 'POST', path: '/_ml/anomaly_detectors/a/_close' });
    expect(startedBeforeRun).toEqual([1, 0]);
    expect(tasks.finished).toHaveLength(1);
  });

  it('sends a JSON body as application/json text and a string body as NDJSON', async () => {
    const { seen, handlers } = closed();
    await runCommandEvent(handlers, { method: 'POST', path: '/_ml/anomaly_detectors/a/_close', body: { timeout: '10m' } });
    await runCommandEvent(handlers, { method: 'POST', path: '/_ml/anomaly_detectors/a/_data', body: '{"t":1}\n{"t":2}\n' });
    expect(seen[0]).toMatchObject({ body: '{"timeout":"10m"}', headers: { 'content-type': 'application/json' } });
    expect(seen[1]).toMatchObject({ body: '{"t":1}\n{"t":2}\n', headers: { 'content-type': 'application/x-ndjson' } });
  });

  it('applies filter_path to the recorded body, as HTTP renders it', async () => {
    const { handlers } = handlersAnswering(async () => ({ status: 200, body: { closed: true, other: 1 } }));
    const r = await runCommandEvent(handlers, { method: 'POST', path: '/_ml/anomaly_detectors/a/_close', query: { filter_path: 'closed' } });
    expect(r.body).toEqual({ closed: true });
  });

  it('answers an unknown path with HTTP’s 400 "no handler found", quoting the query, on a task of the no-route action', async () => {
    const { seen, handlers } = closed();
    const r = await runCommandEvent(handlers, { method: 'POST', path: '/_ml/nope', query: { a: 'b' } });
    expect(r).toEqual({ task: 'mlplane-0:17', status: 400, body: { error: 'no handler found for uri [/_ml/nope?a=b] and method [POST]', status: 400 } });
    expect(seen).toHaveLength(0);
    expect(tasks.started[0]?.esAction).toBe('cluster:admin/mlplane/command');
    expect(rejected.count).toBe(1);
  });

  it('answers a known path with another method with HTTP’s 405', async () => {
    const { handlers } = closed();
    const r = await runCommandEvent(handlers, { method: 'GET', path: '/_ml/anomaly_detectors/a/_close' });
    expect(r.status).toBe(405);
    expect(r.body).toEqual({ error: 'Incorrect HTTP method for uri [/_ml/anomaly_detectors/a/_close] and method [GET], allowed: [POST]', status: 405 });
  });

  it('records a malformed event as a 400 task, counted as rejected', async () => {
    const { handlers } = closed();
    const r = await runCommandEvent(handlers, { method: 'POST', path: '/x', extra: true });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: { type: 'illegal_argument_exception', reason: '[command_event] unknown field [extra]' }, status: 400 });
    expect(tasks.finished).toEqual([{ status: 400, body: r.body }]);
    expect(rejected.count).toBe(1);
  });

  it('refuses an unknown parameter as HTTP does', async () => {
    const { handlers } = closed();
    const r = await runCommandEvent(handlers, { method: 'POST', path: '/_ml/anomaly_detectors/a/_close', query: { nope: 1 } });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: { reason: 'request [/_ml/anomaly_detectors/a/_close] contains unrecognized parameter: [nope]' } });
  });

  it('refuses a Watcher command with the default roles: Elasticsearch’s 403 naming the action and _command', async () => {
    const { seen, handlers } = closed();
    const r = await runCommandEvent(handlers, { method: 'POST', path: '/_watcher/watch/w1/_execute' });
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({
      error: {
        type: 'security_exception',
        reason:
          'action [cluster:admin/xpack/watcher/watch/execute] is unauthorized for user [_command] with effective roles [machine_learning_admin], this action is granted by the cluster privileges [manage_watcher,manage,all]',
      },
    });
    expect(seen).toHaveLength(0);
    expect(rejected.count).toBe(1);
  });

  it('runs a Watcher command when COMMAND_ROLES adds watcher_admin', async () => {
    process.env.COMMAND_ROLES = 'machine_learning_admin, watcher_admin';
    resetConfig();
    const { seen, handlers } = closed();
    const r = await runCommandEvent(handlers, { method: 'POST', path: '/_watcher/watch/w1/_execute' });
    expect(r.status).toBe(200);
    expect(seen[0]?.principal).toEqual({ username: '_command', roles: ['machine_learning_admin', 'watcher_admin'] });
    expect(routes.some((route) => routeKey(route) === EXECUTE)).toBe(true);
  });

  it('records the Elasticsearch error a use case throws (404 for an unknown job) and audits the jobs the path names', async () => {
    const { handlers } = handlersAnswering(async () => {
      throw new ResourceNotFoundError("No known job with id 'nope'");
    });
    const r = await runCommandEvent(handlers, { method: 'POST', path: '/_ml/anomaly_detectors/nope/_close' });
    expect(r.status).toBe(404);
    expect(tasks.finished[0]?.body).toMatchObject({ error: { type: 'resource_not_found_exception', reason: "No known job with id 'nope'" }, status: 404 });
    expect(tasks.audited).toEqual([{ jobs: [], status: 404 }]);
    expect(rejected.count).toBe(1);
  });

  it('audits each job the path resolves to', async () => {
    tasks.named = ['nightly-a', 'nightly-b'];
    const { handlers } = closed();
    await runCommandEvent(handlers, { method: 'POST', path: '/_ml/anomaly_detectors/nightly-*/_close' });
    expect(tasks.audited).toEqual([{ jobs: ['nightly-a', 'nightly-b'], status: 200 }]);
  });

  it('records an internal failure as a 500 without counting it as rejected', async () => {
    const { handlers } = handlersAnswering(async () => {
      throw new Error('dynamodb is down');
    });
    const r = await runCommandEvent(handlers, { method: 'POST', path: '/_ml/anomaly_detectors/a/_close' });
    expect(r.status).toBe(500);
    expect(r.body).toMatchObject({ error: { type: 'exception', reason: 'internal error' } });
    expect(rejected.count).toBe(0);
  });
});

describe('naming the origin', () => {
  it('shortens an ARN to its last segment and says when no origin is given', async () => {
    const { originText } = await import('../../../lib/app/command-events.ts');
    expect(originText({ kind: 'schedule', name: 'arn:aws:scheduler:eu-central-1:123456789012:schedule/default/close-nightly' })).toBe('schedule [close-nightly]');
    expect(originText({ kind: 'rule', name: 'arn:aws:events:eu-central-1:123456789012:rule/ops-bus/forward' })).toBe('rule [forward]');
    expect(originText({ kind: 'cli', name: 'npm run command' })).toBe('cli [npm run command]');
    expect(originText(undefined)).toBe('unnamed sender');
  });
});

describe('the ingress handler', () => {
  const context = (remainingMs: number) => ({ getRemainingTimeInMillis: () => remainingMs }) as Context;

  it('returns {task, status, body} for a 2xx and for a 4xx (a 4xx is final: never retried)', async () => {
    const handler = commandIngressFunction(closed().handlers);
    await expect(handler({ method: 'POST', path: '/_ml/anomaly_detectors/a/_close' }, context(900_000))).resolves.toEqual({
      task: 'mlplane-0:17',
      status: 200,
      body: { closed: true },
    });
    await expect(handler({ method: 'PATCH', path: '/' }, context(900_000))).resolves.toMatchObject({ task: 'mlplane-0:17', status: 400 });
  });

  it('throws on a 5xx, so Lambda retries the event and then sends it to the DLQ', async () => {
    const handler = commandIngressFunction(
      handlersAnswering(async () => {
        throw new Error('boom');
      }).handlers,
    );
    const err = await handler({ method: 'POST', path: '/_ml/anomaly_detectors/a/_close' }, context(900_000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandEventFailed);
    expect((err as Error).message).toBe('command event failed with status 500 (task mlplane-0:17): internal error');
  });

  it('waits for queued commands until a minute before its timeout, not the HTTP cap', async () => {
    const caps: number[] = [];
    const handler = commandIngressFunction(
      handlersAnswering(async () => {
        caps.push(waitCapMs());
        return { status: 200, body: {} };
      }).handlers,
    );
    await handler({ method: 'POST', path: '/_ml/anomaly_detectors/a/_close' }, context(900_000));
    expect(caps).toEqual([840_000]);
    // Outside the invocation the HTTP functions' cap holds.
    expect(waitCapMs()).toBe(28_000);
  });

  it('refuses to build without a handler for every route', () => {
    const { handlers } = closed();
    delete handlers[CLOSE];
    expect(() => commandIngressFunction(handlers)).toThrow(`the command ingress has no handler for route ${CLOSE}`);
  });
});
