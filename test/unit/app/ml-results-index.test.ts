import { beforeEach, describe, expect, it, vi } from 'vitest';
import { IllegalArgumentError, IndexNotFoundError } from '../../../lib/domain/errors.ts';
import type { Query } from '../../../lib/domain/search/query.ts';

const listJobConfigs = vi.fn();
const getJobConfig = vi.fn();
const queryBuckets = vi.fn();
const queryRecords = vi.fn();
const queryInfluencers = vi.fn();
vi.mock('../../../lib/store/jobs.ts', () => ({ listJobConfigs: () => listJobConfigs(), getJobConfig: (id: string) => getJobConfig(id) }));
vi.mock('../../../lib/store/results.ts', () => ({
  queryBuckets: (...a: unknown[]) => queryBuckets(...a),
  queryRecords: (...a: unknown[]) => queryRecords(...a),
  queryInfluencers: (...a: unknown[]) => queryInfluencers(...a),
}));
const { splitMlResults, recordDocId, bucketDocId, influencerDocId, mlResultCandidates, MAX_ML_RESULTS_READ } = await import('../../../lib/app/ml-results-index.ts');

const H = 3_600_000;
const NOW = 100 * H;
const record = (job: string, t: number) => ({ job_id: job, result_type: 'record', timestamp: t, bucket_span: 3600, detector_index: 0, record_score: 80 });
const bool = (...filter: Query[]): Query => ({ kind: 'bool', filter, must: [], mustNot: [], should: [], minimumShouldMatch: undefined });

beforeEach(() => {
  for (const f of [listJobConfigs, getJobConfig, queryBuckets, queryRecords, queryInfluencers]) f.mockReset();
  queryInfluencers.mockResolvedValue([]);
  listJobConfigs.mockResolvedValue([{ job_id: 'a' }, { job_id: 'b' }]);
  getJobConfig.mockImplementation(async (id: string) => (id === 'a' ? { job_id: 'a' } : undefined));
  queryBuckets.mockResolvedValue({ buckets: [], runs: [] });
  queryRecords.mockImplementation(async (job: string) => [record(job, 90 * H)]);
});

describe('the .ml-anomalies-* index names', () => {
  it('splits the results names from the other indices; the shared index and wildcards mean every job', () => {
    const all = { all: true, jobs: [], patterns: [] };
    expect(splitMlResults('.ml-anomalies-*')).toEqual({ ml: all });
    expect(splitMlResults('.ml-*')).toEqual({ ml: all });
    expect(splitMlResults('logs,.ml-anomalies-shared')).toEqual({ ml: all, rest: 'logs' });
    expect(splitMlResults('.ml-anomalies-a,.ml-anomalies-b')).toEqual({ ml: { all: false, jobs: ['a', 'b'], patterns: [] } });
    expect(splitMlResults('.ml-anomalies-web-*')).toEqual({ ml: { all: false, jobs: [], patterns: ['web-*'] } });
    expect(splitMlResults('logs-*')).toEqual({ rest: 'logs-*' });
    expect(splitMlResults('_all')).toEqual({ rest: '_all' });
    expect(splitMlResults(undefined)).toEqual({});
    expect(() => splitMlResults('.ml-notifications-*')).toThrow('mlplane does not support the [.ml-notifications-*] index yet');
  });

  it("gives Elasticsearch's document ids: Objects.hash of the by/over/partition values and their total length", () => {
    // Objects.hash("a", null, null) = ((31 + 97) * 31) * 31 = 123008; Objects.hash(null, null, null) = 29791.
    expect(recordDocId({ ...record('j', 5), by_field_value: 'a' })).toBe('j_record_5_3600_0_123008_1');
    expect(recordDocId(record('j', 5))).toBe('j_record_5_3600_0_29791_0');
    // "hello".hashCode() = 99162322; Objects.hash(null, null, "hello") = 29791 + 99162322.
    expect(recordDocId({ ...record('j', 5), partition_field_value: 'hello' })).toBe(`j_record_5_3600_0_${29791 + 99162322}_5`);
    // Java int arithmetic wraps: "polygenelubricants".hashCode() = -2^31.
    expect(recordDocId({ ...record('j', 5), over_field_value: 'polygenelubricants' })).toBe(`j_record_5_3600_0_${29791 - 2 ** 31}_18`);
    expect(bucketDocId({ job_id: 'j', timestamp: 7, bucket_span: 60 })).toBe('j_bucket_7_60');
    // Influencer.getId: String.hashCode of the value ("hello" 99162322; one that overflows) and its length.
    expect(influencerDocId({ job_id: 'j', timestamp: 7, bucket_span: 60, influencer_field_name: 'host', influencer_field_value: 'hello' })).toBe(
      'j_influencer_7_60_host_99162322_5',
    );
    expect(influencerDocId({ job_id: 'j', timestamp: 7, bucket_span: 60, influencer_field_name: 'u', influencer_field_value: 'polygenelubricants' })).toBe(
      `j_influencer_7_60_u_${-(2 ** 31)}_18`,
    );
  });
});

describe('reading the results a search needs', () => {
  it('a term on job_id, a term on result_type and a range on timestamp narrow the reads', async () => {
    const q = bool(
      { kind: 'term', field: 'job_id', value: 'b' },
      { kind: 'term', field: 'result_type', value: 'record' },
      { kind: 'range', field: 'timestamp', gte: 'now-1h', lt: NOW },
    );
    const got = await mlResultCandidates({ all: true, jobs: [], patterns: [] }, q, NOW, false);
    expect(queryBuckets).not.toHaveBeenCalled();
    expect(queryRecords).toHaveBeenCalledTimes(1);
    expect(queryRecords).toHaveBeenCalledWith('b', { startMs: NOW - H, endMs: NOW });
    expect(got.map((c) => c.doc.index)).toEqual(['.ml-anomalies-shared']);
  });

  it('serves influencer results, with their id, when the query asks for them', async () => {
    const infl = {
      job_id: 'a',
      result_type: 'influencer',
      timestamp: 90 * H,
      bucket_span: 3600,
      influencer_field_name: 'host',
      influencer_field_value: 'hello',
      influencer_score: 60,
    };
    queryInfluencers.mockResolvedValue([infl]);
    const got = await mlResultCandidates({ all: false, jobs: ['a'], patterns: [] }, { kind: 'term', field: 'result_type', value: 'influencer' }, NOW, false);
    expect(queryBuckets).not.toHaveBeenCalled();
    expect(queryRecords).not.toHaveBeenCalled();
    expect(got.map((c) => [c.doc.id, c.doc.source])).toEqual([[`a_influencer_${90 * H}_3600_host_99162322_5`, infl]]);
  });

  it('.ml-anomalies-<pattern> reads the jobs whose id matches it', async () => {
    await mlResultCandidates({ all: false, jobs: [], patterns: ['b*'] }, { kind: 'term', field: 'result_type', value: 'record' }, NOW, false);
    expect(queryRecords.mock.calls.map((c) => c[0])).toEqual(['b']);
  });

  it('the buckets of an empty run are served one by one inside the window', async () => {
    queryBuckets.mockResolvedValue({ buckets: [], runs: [{ job_id: 'a', timestamp: 0, end: 10 * H, bucket_span: 3600 }] });
    const got = await mlResultCandidates(
      { all: false, jobs: ['a'], patterns: [] },
      bool({ kind: 'term', field: 'result_type', value: 'bucket' }, { kind: 'range', field: 'timestamp', gte: 3 * H, lt: 5 * H }),
      NOW,
      false,
    );
    expect(got.map((c) => c.doc.id)).toEqual([`a_bucket_${3 * H}_3600`, `a_bucket_${4 * H}_3600`]);
    expect(got[0]?.doc.source).toMatchObject({ result_type: 'bucket', anomaly_score: 0, event_count: 0 });
  });

  it('.ml-anomalies-<job> of an unknown job is index_not_found, unless ignore_unavailable', async () => {
    await expect(mlResultCandidates({ all: false, jobs: ['zz'], patterns: [] }, { kind: 'match_all' }, NOW, false)).rejects.toThrow(IndexNotFoundError);
    expect(await mlResultCandidates({ all: false, jobs: ['zz'], patterns: [] }, { kind: 'match_all' }, NOW, true)).toEqual([]);
  });

  it('refuses with a 400, never a truncated answer, when more than the bound of results would be read', async () => {
    queryRecords.mockImplementation(async (job: string) => Array.from({ length: MAX_ML_RESULTS_READ / 2 + 1 }, (_, i) => record(job, i)));
    const err = await mlResultCandidates({ all: true, jobs: [], patterns: [] }, { kind: 'match_all' }, NOW, false).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IllegalArgumentError);
    expect((err as IllegalArgumentError).message).toContain(`at most [${MAX_ML_RESULTS_READ}] results`);
  });
});
