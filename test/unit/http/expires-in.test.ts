import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { AckOptions } from '../../../lib/app/ack-watch.ts';
import type { SetUpgradeModeParams } from '../../../lib/app/upgrade-mode.ts';
import { EsError } from '../../../lib/domain/errors.ts';
import type { HttpRequest, HttpResult } from '../../../lib/http/chain.ts';
import { expiresInParam, MAX_EXPIRES_IN } from '../../../lib/http/params.ts';

const upgradeCalls: SetUpgradeModeParams[] = [];
const ackCalls: AckOptions[] = [];
vi.mock('../../../lib/app/upgrade-mode.ts', () => ({
  setUpgradeMode: async (params: SetUpgradeModeParams) => {
    upgradeCalls.push(params);
    return { kind: 'done', response: { acknowledged: true } };
  },
}));
vi.mock('../../../lib/app/ack-watch.ts', () => ({
  ackWatch: async (_id: string, _actions: string[], options: AckOptions) => {
    ackCalls.push(options);
    return { status: {} };
  },
}));
const { rootRoutes } = await import('../../../lib/http/routes/root.ts');
const { watcherRoutes } = await import('../../../lib/http/routes/watcher.ts');

const DAY_MS = 86_400_000;

const request = (method: 'POST' | 'PUT', path: string, query: Record<string, string>, pathParams: Record<string, string> = {}): HttpRequest =>
  ({ route: { method, path }, path, pathParams, query, headers: {}, body: undefined, receivedMs: 0 }) as unknown as HttpRequest;

function errorOf(fn: () => unknown): EsError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EsError);
    return e as EsError;
  }
  throw new Error('expected an error');
}

/** The error a route answers: thrown (mapped by the chain), or already rendered (the `_xpack` routes render theirs to add a warning). */
async function refusalOf(p: Promise<HttpResult>): Promise<{ status: number; reason: string }> {
  const outcome = await p.then(
    (result) => result,
    (err: unknown) => err,
  );
  if (outcome instanceof EsError) return { status: outcome.status, reason: outcome.message };
  const result = outcome as HttpResult;
  return { status: result.status, reason: (result.body as { error: { reason: string } }).error.reason };
}

describe('expiresInParam', () => {
  it('is undefined when absent and the time value when within the maximum', () => {
    expect(expiresInParam(undefined)).toBeUndefined();
    expect(expiresInParam('1h')?.ms).toBe(3_600_000);
    expect(expiresInParam('36500d')?.ms).toBe(36_500 * DAY_MS);
    expect(expiresInParam('876000h')?.ms).toBe(36_500 * DAY_MS);
  });

  it('names 36500d as the maximum', () => {
    expect(MAX_EXPIRES_IN.rep).toBe('36500d');
  });

  it.each(['36501d', '876001h', '99999999d', '9223372036854775807nanos', '9000000000000000ms'])('refuses %s with a 400 naming the maximum', (v) => {
    const e = errorOf(() => expiresInParam(v));
    expect(e.status).toBe(400);
    expect(e.type).toBe('illegal_argument_exception');
    expect(e.message).toBe(`[expires_in] must be at most [36500d], got [${v}]; leave it out for no expiry`);
  });

  it('still refuses values that are not positive, and junk, as before', () => {
    expect(errorOf(() => expiresInParam('0s')).message).toBe('[expires_in] must be positive, got [0s]');
    expect(errorOf(() => expiresInParam('-1')).message).toBe('[expires_in] must be positive, got [-1]');
    expect(errorOf(() => expiresInParam('soon')).type).toBe('illegal_argument_exception');
  });
});

describe('expires_in on the routes that take it', () => {
  beforeEach(() => {
    upgradeCalls.length = 0;
    ackCalls.length = 0;
  });

  it('set_upgrade_mode refuses 99999999d before changing anything, and passes 36500d on exactly', async () => {
    const route = rootRoutes['POST /_ml/set_upgrade_mode'];
    if (!route) throw new Error('no set_upgrade_mode route');
    const path = '/_ml/set_upgrade_mode';
    expect(await refusalOf(route.handle(request('POST', path, { enabled: 'true', expires_in: '99999999d' })))).toEqual({
      status: 400,
      reason: '[expires_in] must be at most [36500d], got [99999999d]; leave it out for no expiry',
    });
    expect(upgradeCalls).toEqual([]);
    await route.handle(request('POST', path, { enabled: 'true', expires_in: '36500d' }));
    expect(upgradeCalls[0]?.expiresIn?.ms).toBe(36_500 * DAY_MS);
  });

  it.each([
    ['POST /_watcher/watch/{id}/_ack', 'POST'],
    ['PUT /_watcher/watch/{id}/_ack/{actions}', 'PUT'],
    ['POST /_xpack/watcher/watch/{id}/_ack', 'POST'],
  ] as const)('%s refuses 99999999d before acking, and passes 36500d on in ms', async (key, method) => {
    const route = watcherRoutes[key];
    if (!route) throw new Error(`no route ${key}`);
    const path = key.slice(method.length + 1);
    const params = { id: 'w', actions: 'log' };
    expect(await refusalOf(route.handle(request(method, path, { expires_in: '99999999d' }, params)))).toEqual({
      status: 400,
      reason: '[expires_in] must be at most [36500d], got [99999999d]; leave it out for no expiry',
    });
    expect(ackCalls).toEqual([]);
    await route.handle(request(method, path, { expires_in: '36500d' }, params));
    expect(ackCalls[0]?.expiresInMs).toBe(36_500 * DAY_MS);
  });
});
