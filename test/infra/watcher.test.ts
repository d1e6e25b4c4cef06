import { describe, expect, it } from 'vitest';
import { allEntries } from '../../infra/entries.ts';
import { routes } from '../../lib/runtime/topology.ts';
import { cfnId, defaultStack } from './synth.ts';

type Props = Record<string, unknown>;

/** The Watcher core routes (spec watcher-ack.md §1.1, §4), on the current and the 5.x path families. */
const WATCHER_ROUTES = ['/_watcher', '/_xpack/watcher'].flatMap((prefix) => {
  const w = `${prefix}/watch/{id}`;
  return [`PUT ${w}`, `POST ${w}`, `GET ${w}`, `DELETE ${w}`, ...['_ack', '_ack/{actions}', '_activate', '_deactivate'].flatMap((s) => [`PUT ${w}/${s}`, `POST ${w}/${s}`])];
});

describe('the watcher HTTP function', () => {
  const { stack, template } = defaultStack();
  const fn = stack.httpFunctions.watcher;

  it('is its own Lambda function built from functions/http/watcher.ts', () => {
    const entry = allEntries.find((e) => e.kind === 'http' && e.name === 'watcher');
    expect(entry).toMatchObject({ relativePath: 'functions/http/watcher.ts', constructId: 'HttpWatcher' });
    expect(template.findResources('AWS::Lambda::Function')[cfnId(stack, fn)]).toBeDefined();
  });

  it('receives the watcher core routes of both path families, each through API Gateway', () => {
    const own = routes.filter((r) => r.fn === 'watcher').map((r) => `${r.method} ${r.path}`);
    for (const key of WATCHER_ROUTES) expect(own, key).toContain(key);
    const routeResources = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties as Props);
    for (const key of WATCHER_ROUTES)
      expect(
        routeResources.some((r) => r.RouteKey === key),
        key,
      ).toBe(true);
  });

  it('declares Elasticsearch privileges: monitor_watcher to read, manage_watcher to change', () => {
    for (const r of routes.filter((x) => x.fn === 'watcher' && WATCHER_ROUTES.includes(`${x.method} ${x.path}`))) {
      expect(r.privilege, `${r.method} ${r.path}`).toBe(r.method === 'GET' ? 'monitor_watcher' : 'manage_watcher');
    }
  });

  it('receives query watches, the legacy ack form and the 5.x _execute routes through API Gateway', () => {
    const keys = [
      'GET /_watcher/_query/watches',
      'POST /_watcher/_query/watches',
      'PUT /_watcher/watch/{id}/{actions}/_ack',
      'POST /_watcher/watch/{id}/{actions}/_ack',
      'POST /_xpack/watcher/watch/{id}/_execute',
      'PUT /_xpack/watcher/watch/_execute',
    ];
    const routeResources = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties as Props);
    for (const key of keys)
      expect(
        routeResources.some((r) => r.RouteKey === key),
        key,
      ).toBe(true);
  });
});
