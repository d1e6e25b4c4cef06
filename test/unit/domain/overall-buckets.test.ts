import { describe, expect, it } from 'vitest';
import { IllegalArgumentError, StatusError } from '../../../lib/domain/errors.ts';
import { checkTopN, MAX_OVERALL_BUCKETS, type OverallBucketsParams, type OverallJob, overallBuckets, overallBucketsPlan } from '../../../lib/domain/overall-buckets.ts';

/**
 * The buckets of Elasticsearch's YAML test ml/jobs_get_result_overall_buckets.yml:
 *   job-60: [ 30.0] [0.0] [       20.0     ]
 *   job-30: [     ] [0.0] [    10.0, 40.0  ]
 *   job-17: [     ] [0.0] [ 1.0, 0.0, 60.0 ]   (the last one interim)
 */
const H = Date.parse('2016-06-01T00:00:00Z');
const MIN = 60_000;
const J60 = 'jobs-get-result-overall-buckets-60';
const J30 = 'jobs-get-result-overall-buckets-30';
const J17 = 'jobs-get-result-overall-buckets-17';
const b = (minutes: number, anomaly_score: number, is_interim = false) => ({ timestamp: H + minutes * MIN, anomaly_score, is_interim });
const JOBS: OverallJob[] = [
  { jobId: J60, buckets: [b(0, 30), b(60, 0), b(120, 20)] },
  { jobId: J30, buckets: [b(60, 0), b(120, 10), b(150, 40)] },
  { jobId: J17, buckets: [b(60, 0), b(128, 1), b(145, 0), b(162, 60, true)] },
];
const MAX_SPAN = { ms: 60 * MIN, rep: '60m' };

function run(over: Partial<OverallBucketsParams> = {}) {
  const p: OverallBucketsParams = { topN: 1, overallScore: 0, excludeInterim: false, ...over };
  return overallBuckets(JOBS, overallBucketsPlan(MAX_SPAN, JOBS.length, p), p);
}

type Row = [time: string, span: number, score: number, jobs: [string, number][], interim: boolean];
const row = (o: ReturnType<typeof run>[number]): Row => [
  new Date(o.timestamp).toISOString().slice(11, 16),
  o.bucket_span,
  o.overall_score,
  o.jobs.map((j) => [j.job_id.slice(-2), j.max_anomaly_score]),
  o.is_interim,
];
const ALL0: [string, number][] = [
  ['17', 0],
  ['30', 0],
  ['60', 0],
];
const AT2: [string, number][] = [
  ['17', 60],
  ['30', 40],
  ['60', 20],
];

describe('overall buckets (the cases of ml/jobs_get_result_overall_buckets.yml)', () => {
  const cases: [name: string, params: Partial<OverallBucketsParams>, expected: Row[]][] = [
    [
      'default: top_n 1, the largest job span',
      {},
      [
        ['00:00', 3600, 30, [['60', 30]], false],
        ['01:00', 3600, 0, ALL0, false],
        ['02:00', 3600, 60, AT2, true],
      ],
    ],
    [
      'top_n 2',
      { topN: 2 },
      [
        ['00:00', 3600, 30, [['60', 30]], false],
        ['01:00', 3600, 0, ALL0, false],
        ['02:00', 3600, 50, AT2, true],
      ],
    ],
    [
      'top_n 3',
      { topN: 3 },
      [
        ['00:00', 3600, 30, [['60', 30]], false],
        ['01:00', 3600, 0, ALL0, false],
        ['02:00', 3600, 40, AT2, true],
      ],
    ],
    [
      'top_n greater than the job count',
      { topN: 333 },
      [
        ['00:00', 3600, 30, [['60', 30]], false],
        ['01:00', 3600, 0, ALL0, false],
        ['02:00', 3600, 40, AT2, true],
      ],
    ],
    ['overall_score filter', { topN: 2, overallScore: 50 }, [['02:00', 3600, 50, AT2, true]]],
    [
      'exclude_interim',
      { excludeInterim: true },
      [
        ['00:00', 3600, 30, [['60', 30]], false],
        ['01:00', 3600, 0, ALL0, false],
        [
          '02:00',
          3600,
          40,
          [
            ['17', 1],
            ['30', 40],
            ['60', 20],
          ],
          false,
        ],
      ],
    ],
    [
      'string start and end (rounded in to the span)',
      { topN: 2, start: Date.parse('2016-06-01T00:30:00Z'), end: Date.parse('2016-06-01T02:30:00Z') },
      [['01:00', 3600, 0, ALL0, false]],
    ],
    ['epoch start and end', { topN: 2, start: 1464744600000, end: 1464751800000 }, [['02:00', 3600, 50, AT2, true]]],
    [
      'bucket_span 2h',
      { bucketSpanMs: 120 * MIN },
      [
        [
          '00:00',
          7200,
          30,
          [
            ['17', 0],
            ['30', 0],
            ['60', 30],
          ],
          false,
        ],
        ['02:00', 7200, 60, AT2, true],
      ],
    ],
    [
      'bucket_span 2h and top_n 2 (the largest of the hourly overall scores)',
      { bucketSpanMs: 120 * MIN, topN: 2 },
      [
        [
          '00:00',
          7200,
          30,
          [
            ['17', 0],
            ['30', 0],
            ['60', 30],
          ],
          false,
        ],
        ['02:00', 7200, 50, AT2, true],
      ],
    ],
    ['bucket_span 2h and overall_score 41', { bucketSpanMs: 120 * MIN, overallScore: 41 }, [['02:00', 7200, 60, AT2, true]]],
  ];
  it.each(cases)('%s', (_name, params, expected) => {
    const out = run(params);
    expect(out.map(row)).toEqual(expected);
    expect(out.every((o) => o.result_type === 'overall_bucket')).toBe(true);
  });

  it('refuses a bucket_span smaller than the largest job span', () => {
    expect(() => run({ bucketSpanMs: 59 * MIN })).toThrow(StatusError);
    expect(() => run({ bucketSpanMs: 59 * MIN })).toThrow('Param [bucket_span] must be greater or equal to the max bucket_span [60m]');
  });

  it('refuses top_n 0 and -1', () => {
    expect(() => checkTopN(0)).toThrow(new IllegalArgumentError('[topN] parameter must be positive, found [0]'));
    expect(() => checkTopN(-1)).toThrow('[topN] parameter must be positive, found [-1]');
    expect(checkTopN(2)).toBe(2);
  });

  it('uses a requested span directly when top_n is 1 or there is one job, else merges the largest job span', () => {
    expect(overallBucketsPlan(MAX_SPAN, 3, { topN: 1, bucketSpanMs: 7_200_000, overallScore: 0, excludeInterim: false })).toEqual({ histogramSpanMs: 7_200_000 });
    expect(overallBucketsPlan(MAX_SPAN, 1, { topN: 2, bucketSpanMs: 7_200_000, overallScore: 0, excludeInterim: false })).toEqual({ histogramSpanMs: 7_200_000 });
    expect(overallBucketsPlan(MAX_SPAN, 3, { topN: 2, bucketSpanMs: 7_200_000, overallScore: 0, excludeInterim: false, start: 1, end: 7_199_999 })).toEqual({
      histogramSpanMs: 3_600_000,
      aggregateSpanMs: 7_200_000,
      startMs: 3_600_000,
      endMs: 3_600_000,
    });
  });

  it('gives nothing for no buckets, and refuses more than 10,000 overall buckets', () => {
    const p: OverallBucketsParams = { topN: 1, overallScore: 0, excludeInterim: false };
    expect(overallBuckets([], overallBucketsPlan(MAX_SPAN, 0, p), p)).toEqual([]);
    const many: OverallJob[] = [{ jobId: 'j', buckets: Array.from({ length: MAX_OVERALL_BUCKETS + 1 }, (_, i) => b(60 * i, 1)) }];
    expect(() => overallBuckets(many, overallBucketsPlan(MAX_SPAN, 1, p), p)).toThrow(
      'Unable to return more than [10000] results; please use parameters [start] and [end] to limit the time range',
    );
    many[0] = { jobId: 'j', buckets: many[0]?.buckets.slice(1) ?? [] };
    expect(overallBuckets(many, overallBucketsPlan(MAX_SPAN, 1, p), p)).toHaveLength(MAX_OVERALL_BUCKETS);
  });
});
