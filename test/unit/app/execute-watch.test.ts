import { beforeEach, describe, expect, it, vi } from 'vitest';
import { WatchWriteConflict } from '../../../lib/domain/errors.ts';
import type { ExecutionPorts } from '../../../lib/domain/watcher/execution.ts';
import { freshStatus } from '../../../lib/domain/watcher/status.ts';
import type { StoredWatch } from '../../../lib/store/watches.ts';

const store = vi.hoisted(() => ({ getWatch: vi.fn(), putStatus: vi.fn(), setWatchRunning: vi.fn() }));
const docs = vi.hoisted(() => ({ indexDocument: vi.fn(), putIndex: vi.fn(), bulk: vi.fn() }));
const service = vi.hoisted(() => ({ watcherStopped: vi.fn() }));
vi.mock('../../../lib/store/watches.ts', () => store);
vi.mock('../../../lib/app/documents.ts', () => docs);
vi.mock('../../../lib/app/watcher-service.ts', () => service);
vi.mock('../../../lib/runtime/config.ts', () => ({ config: () => ({ nodeName: 'node-0', clusterName: 'c' }) }));

const { applyWatchCommand } = await import('../../../lib/app/execute-watch.ts');

const T = Date.parse('2026-01-10T12:00:00.000Z');
const stored = (): StoredWatch => ({
  id: 'w',
  watch: {
    trigger: { schedule: { type: 'interval', value: '1m' } },
    input: { type: 'simple', body: { n: 1 } },
    condition: { type: 'always', body: {} },
    actions: [{ id: 'log', type: 'logging', body: { text: 'x' } }],
  },
  status: freshStatus(['log'], T - 60_000, true),
  version: 3,
  seqNo: 2,
  primaryTerm: 1,
});

const ports = (fail = false): ExecutionPorts => ({
  now: () => T,
  search: vi.fn(),
  httpInput: vi.fn(),
  runAction: async () => {
    if (fail) throw new Error('boom');
    return { status: 'success', result: { logged_text: 'x' } };
  },
});

const manual = { trigger: 'manual' as const, triggered_ms: T, scheduled_ms: T, record_execution: true };

beforeEach(() => {
  vi.resetAllMocks();
  store.getWatch.mockResolvedValue(stored());
  store.setWatchRunning.mockResolvedValue(true);
  service.watcherStopped.mockResolvedValue(false);
});

describe('applyWatchCommand', () => {
  it('marks the watch running for the execution and clears the mark after', async () => {
    await applyWatchCommand('watch:w', { ...manual, record_execution: false }, ports());
    expect(store.setWatchRunning.mock.calls).toEqual([
      ['w', T],
      ['w', undefined],
    ]);
  });

  it('writes the status (conditional on the seq_no read) and the history record when recorded', async () => {
    const r = await applyWatchCommand('watch:w', manual, ports());
    expect(store.putStatus).toHaveBeenCalledWith('w', expect.objectContaining({ execution_state: 'executed', last_checked: T }), 2);
    expect(docs.putIndex.mock.calls[0]?.[0]).toBe('.watcher-history-16-2026.01.10');
    expect(docs.indexDocument).toHaveBeenCalledWith('.watcher-history-16-2026.01.10', (r as { _id: string })._id, expect.any(String), true);
    expect((r as { watch_record: Record<string, unknown> }).watch_record).toMatchObject({
      watch_id: 'w',
      node: 'node-0',
      state: 'executed',
      '@timestamp': '2026-01-10T12:00:00.000Z',
      status: { version: 3, actions: { log: { ack: { state: 'ackable' } } } },
      messages: [],
    });
    expect(Object.keys((r as { watch_record: Record<string, unknown> }).watch_record)).toEqual([
      'watch_id',
      'node',
      'state',
      '@timestamp',
      'status',
      'trigger_event',
      'input',
      'condition',
      'result',
      'messages',
    ]);
  });

  it('writes nothing back when not recorded', async () => {
    await applyWatchCommand('watch:w', { ...manual, record_execution: false }, ports());
    expect(store.putStatus).not.toHaveBeenCalled();
    expect(docs.indexDocument).not.toHaveBeenCalled();
  });

  it('drops the status write when the watch changed meanwhile, and still answers', async () => {
    store.putStatus.mockRejectedValue(new WatchWriteConflict('w', { version: 4, seqNo: 3, primaryTerm: 1 }));
    const r = await applyWatchCommand('watch:w', manual, ports());
    expect((r as unknown as { watch_record: { state: string } }).watch_record.state).toBe('executed');
  });

  it('clears the running mark when the execution throws', async () => {
    store.putStatus.mockRejectedValue(new Error('dynamodb down'));
    await expect(applyWatchCommand('watch:w', manual, ports())).rejects.toThrow('dynamodb down');
    expect(store.setWatchRunning).toHaveBeenLastCalledWith('w', undefined);
  });

  it('answers 404 for a manual run of a deleted watch and drops a scheduled one', async () => {
    store.getWatch.mockResolvedValue(undefined);
    await expect(applyWatchCommand('watch:w', manual, ports())).rejects.toThrow('Watch with id [w] does not exist');
    expect(await applyWatchCommand('watch:w', { ...manual, trigger: 'schedule' }, ports())).toEqual({ state: 'not_executed_watch_missing' });
  });

  it('skips scheduled runs while Watcher is stopped', async () => {
    service.watcherStopped.mockResolvedValue(true);
    expect(await applyWatchCommand('watch:w', { ...manual, trigger: 'schedule' }, ports())).toEqual({ skipped: 'watcher is stopped' });
    expect(store.setWatchRunning).not.toHaveBeenCalled();
  });
});
