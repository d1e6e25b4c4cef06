import { describe, expect, it } from 'vitest';
import { createRouter } from '../../../lib/local/http-server.ts';
import { routes } from '../../../lib/runtime/topology.ts';

const router = createRouter(routes);
const fnOf = (method: string, url: string): string | undefined => {
  const m = router.match(method, url);
  return m.kind === 'route' ? m.route.fn : undefined;
};

describe('document store routes beside the static ones', () => {
  it('static _ml, _cluster and _tasks routes win over /{index} routes', () => {
    expect(fnOf('PUT', '/_cluster/settings')).toBe('cluster');
    expect(fnOf('GET', '/_cluster/settings')).toBe('cluster');
    expect(fnOf('GET', '/_cluster/health')).toBe('documents');
    expect(fnOf('GET', '/_tasks/n:1')).toBe('tasks');
    expect(fnOf('GET', '/_ml/anomaly_detectors/j')).toBe('jobs');
    expect(fnOf('GET', '/_ml/info')).toBe('root');
    expect(fnOf('PUT', '/_ml/filters/f')).toBe('filters');
    expect(fnOf('POST', '/_bulk')).toBe('documents');
  });

  it('index paths reach the documents function', () => {
    expect(fnOf('PUT', '/server-metrics')).toBe('documents');
    expect(fnOf('GET', '/server-metrics/_doc/1')).toBe('documents');
    expect(fnOf('POST', '/server-*/_search')).toBe('documents');
    expect(fnOf('POST', '/server-metrics/_bulk')).toBe('documents');
  });
});
