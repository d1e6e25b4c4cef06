import { describe, expect, it } from 'vitest';
import { createRouter } from '../../../lib/local/http-server.ts';
import { routes } from '../../../lib/runtime/topology.ts';

const router = createRouter(routes);
const routeOf = (method: string, url: string) => {
  const m = router.match(method, url);
  return m.kind === 'route' ? m.route : undefined;
};

describe('watch execution and Watcher service routes', () => {
  it('send _execute, stats, _start and _stop to the watcher-execute function with Elasticsearch action names', () => {
    expect(routeOf('POST', '/_watcher/watch/w1/_execute')).toMatchObject({
      fn: 'watcher-execute',
      privilege: 'manage_watcher',
      action: 'cluster:admin/xpack/watcher/watch/execute',
    });
    expect(routeOf('PUT', '/_watcher/watch/w1/_execute')?.fn).toBe('watcher-execute');
    expect(routeOf('GET', '/_watcher/stats/current_watches')).toMatchObject({ fn: 'watcher-execute', privilege: 'monitor_watcher' });
    expect(routeOf('POST', '/_watcher/_stop')).toMatchObject({ fn: 'watcher-execute', action: 'cluster:admin/xpack/watcher/service' });
  });

  it('lets the static inline _execute win over put watch with the id "_execute"', () => {
    expect(routeOf('POST', '/_watcher/watch/_execute')?.fn).toBe('watcher-execute');
    expect(routeOf('PUT', '/_watcher/watch/_execute')?.fn).toBe('watcher-execute');
    expect(routeOf('PUT', '/_watcher/watch/other')?.fn).toBe('watcher');
  });

  it('serves _execute on the 5.x _xpack paths, the legacy ack form and query watches with their action names', () => {
    expect(routeOf('POST', '/_xpack/watcher/watch/w1/_execute')).toMatchObject({ fn: 'watcher-execute', action: 'cluster:admin/xpack/watcher/watch/execute' });
    expect(routeOf('PUT', '/_xpack/watcher/watch/_execute')?.fn).toBe('watcher-execute');
    expect(routeOf('POST', '/_watcher/watch/w1/a1,a2/_ack')).toMatchObject({ fn: 'watcher', privilege: 'manage_watcher', action: 'cluster:admin/xpack/watcher/watch/ack' });
    expect(routeOf('POST', '/_watcher/watch/w1/_ack/a1')?.path).toBe('/_watcher/watch/{id}/_ack/{actions}');
    expect(routeOf('GET', '/_watcher/_query/watches')).toMatchObject({ fn: 'watcher', privilege: 'monitor_watcher', action: 'cluster:monitor/xpack/watcher/watch/query' });
    expect(routeOf('POST', '/_watcher/_query/watches')?.fn).toBe('watcher');
  });
});
