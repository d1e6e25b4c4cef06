import { describe, expect, it, vi } from 'vitest';

const cluster = vi.hoisted(() => ({ getClusterSettings: vi.fn() }));
vi.mock('../../../lib/store/cluster.ts', async (orig) => ({ ...(await orig<object>()), ...cluster }));

const { shouldPark } = await import('../../../lib/app/upgrade-mode.ts');

describe('upgrade mode and watch executions', () => {
  it('parks job work but never a watch execution: ML upgrade mode does not halt Watcher', async () => {
    cluster.getClusterSettings.mockResolvedValue({ upgrade_mode: true, persistent: {}, transient: {}, version: 1 });
    expect(await shouldPark({ action: 'watch' }, { command_id: '1', target: 'watch:w' })).toBe(false);
    expect(await shouldPark({ action: 'close' }, { command_id: '2', target: 'job-1' })).toBe(true);
  });
});
