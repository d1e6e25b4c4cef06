import { beforeEach, describe, expect, it, vi } from 'vitest';
import { WatchDocumentMissingError, WatchVersionConflictError, WatchWriteConflict } from '../../../lib/domain/errors.ts';
import type { StoredWatch } from '../../../lib/store/watches.ts';

const store = { getWatch: vi.fn(), putWatch: vi.fn(), putStatus: vi.fn(), deleteWatch: vi.fn() };
vi.mock('../../../lib/store/watches.ts', () => ({
  getWatch: (...a: unknown[]) => store.getWatch(...a),
  putWatch: (...a: unknown[]) => store.putWatch(...a),
  putStatus: (...a: unknown[]) => store.putStatus(...a),
  deleteWatch: (...a: unknown[]) => store.deleteWatch(...a),
  PRIMARY_TERM: 1,
}));
const { activateWatch, putWatch } = await import('../../../lib/app/watches.ts');

const body = JSON.stringify({ trigger: { schedule: { interval: '1m' } }, actions: { a: { logging: { text: 'x' } } } });
const stored = (over: Partial<StoredWatch> = {}): StoredWatch => ({
  id: 'w',
  watch: { trigger: { schedule: { type: 'interval', value: '1m' } }, input: { type: 'none', body: {} }, condition: { type: 'always', body: {} }, actions: [] },
  status: {
    state: { active: true, timestamp: 1 },
    last_checked: 50,
    actions: { a: { ack: { timestamp: 1, state: 'acked' }, last_execution: { timestamp: 50, successful: true } } },
  },
  version: 3,
  seqNo: 2,
  primaryTerm: 1,
  ...over,
});

beforeEach(() => {
  for (const f of Object.values(store)) f.mockReset();
});

describe('put watch', () => {
  it('without version replaces the status with a fresh one, unconditionally', async () => {
    store.putWatch.mockResolvedValue({ stored: stored({ version: 1, seqNo: 0 }), created: true });
    const out = await putWatch('w', body, { active: false }, 1000);
    expect(out).toEqual({ status: 201, body: { _id: 'w', _version: 1, _seq_no: 0, _primary_term: 1, created: true } });
    expect(store.putWatch).toHaveBeenCalledWith(
      'w',
      expect.anything(),
      { state: { active: false, timestamp: 1000 }, actions: { a: { ack: { timestamp: 1000, state: 'awaits_successful_execution' } } } },
      { kind: 'any' },
    );
    expect(store.getWatch).not.toHaveBeenCalled();
  });

  it('with if_seq_no merges into the stored status and writes on the seq_no read', async () => {
    store.getWatch.mockResolvedValue(stored());
    store.putWatch.mockResolvedValue({ stored: stored({ version: 4, seqNo: 3 }), created: false });
    const out = await putWatch('w', body, { active: true, ifSeqNo: 2, ifPrimaryTerm: 1 }, 1000);
    expect(out.status).toBe(200);
    const [, , status, expect_] = store.putWatch.mock.calls[0] as unknown[];
    expect(status).toMatchObject({ last_checked: 50, actions: { a: { ack: { timestamp: 1000, state: 'awaits_successful_execution' }, last_execution: { timestamp: 50 } } } });
    expect(expect_).toEqual({ kind: 'seq_no', seqNo: 2, primaryTerm: 1 });
  });

  it('with a stale version is 409 with Elasticsearch text, and on a missing watch 404 document missing', async () => {
    store.getWatch.mockResolvedValue(stored());
    await expect(putWatch('w', body, { active: true, version: 1 })).rejects.toThrow(
      new WatchVersionConflictError('[w]: version conflict, current version [3] is different than the one provided [1]'),
    );
    store.getWatch.mockResolvedValue(undefined);
    await expect(putWatch('w', body, { active: true, ifSeqNo: 0, ifPrimaryTerm: 1 })).rejects.toBeInstanceOf(WatchDocumentMissingError);
    expect(store.putWatch).not.toHaveBeenCalled();
  });
});

describe('activate', () => {
  it('retries a lost race twice (retry_on_conflict 2), then answers 409', async () => {
    store.getWatch.mockResolvedValue(stored());
    store.putStatus.mockRejectedValue(new WatchWriteConflict('w', { version: 9, seqNo: 8, primaryTerm: 1 }));
    await expect(activateWatch('w', false, 'current')).rejects.toBeInstanceOf(WatchVersionConflictError);
    expect(store.putStatus).toHaveBeenCalledTimes(3);
  });

  it('answers the version after its write', async () => {
    store.getWatch.mockResolvedValue(stored());
    store.putStatus.mockImplementation(async (_id: string, status: StoredWatch['status']) => stored({ status, version: 4, seqNo: 3 }));
    const out = (await activateWatch('w', false, 'xpack', () => 2000)) as { _status: { version: number; state: { active: boolean } } };
    expect(out._status).toMatchObject({ version: 4, state: { active: false, timestamp: '1970-01-01T00:00:02.000Z' } });
  });
});
