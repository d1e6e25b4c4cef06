import { beforeEach, describe, expect, it, vi } from 'vitest';
import { IndexAlreadyExistsError } from '../../../lib/domain/errors.ts';

const docs = vi.hoisted(() => ({ indexDocument: vi.fn(), putIndex: vi.fn(), resolveIndices: vi.fn(), deleteIndices: vi.fn() }));
vi.mock('../../../lib/app/documents.ts', () => docs);

const { expireWatchHistory, historyIndexOf, writeHistory } = await import('../../../lib/app/watch-history.ts');

const NOW = Date.parse('2026-01-10T00:30:00.000Z');

beforeEach(() => vi.resetAllMocks());

describe('watch history', () => {
  it('names one index per UTC day', () => {
    expect(historyIndexOf(NOW)).toBe('.watcher-history-16-2026.01.10');
  });

  it('writes into an index that already exists', async () => {
    docs.putIndex.mockRejectedValue(new IndexAlreadyExistsError('.watcher-history-16-2026.01.10', 'u'));
    await writeHistory('rid', { watch_id: 'w' }, NOW);
    expect(docs.indexDocument).toHaveBeenCalledWith('.watcher-history-16-2026.01.10', 'rid', '{"watch_id":"w"}', true);
  });

  it('drops the indices of days more than 7 days old and keeps the rest', async () => {
    docs.resolveIndices.mockResolvedValue(['2026.01.02', '2026.01.03', '2026.01.09'].map((d) => ({ name: `.watcher-history-16-${d}` })));
    expect(await expireWatchHistory(NOW)).toEqual(['.watcher-history-16-2026.01.02']);
    expect(docs.resolveIndices).toHaveBeenCalledWith('.watcher-history-16-*', true);
    expect(docs.deleteIndices.mock.calls).toEqual([['.watcher-history-16-2026.01.02']]);
  });
});
