/** The running bucket counters of data_counts (bucket, empty and sparse bucket counts). */
import type { BucketCounts } from '../types.ts';
import type { OpenBucket } from './series.ts';
import type { ModelState } from './state.ts';

export function countBucket(model: ModelState, T: number, ob: OpenBucket | undefined): void {
  const recs = ob?.records ?? 0;
  model.bucketCount++;
  model.latestBucket = T;
  if (recs === 0) {
    model.emptyCount++;
    model.latestEmpty = T;
  } else if (model.bucketCount > 10 && lnOf(model.lnRecords, recs) < lnOf(model.lnAverage, model.avgRecords) - 2) {
    // Elasticsearch's DataStreamDiagnostics: log count more than 2 below the log average.
    model.sparseCount++;
    model.latestSparse = T;
  }
  model.avgRecords += (recs - model.avgRecords) / Math.min(model.bucketCount, 10);
}

/**
 * `Math.log(x)`, remembered in `memo` for the last `x`: the record count of a bucket and the
 * running average repeat from bucket to bucket (one record per bucket: both are 1), and the
 * two logarithms cost more than the rest of the bucket's counting.
 */
function lnOf(memo: Float64Array, x: number): number {
  if (x !== memo[0]) {
    memo[0] = x;
    memo[1] = Math.log(x);
  }
  return memo[1] as number;
}

/** The work of {@link AnomalyModel.bucketCounts} (documented there). */
export function bucketCounts(model: ModelState): BucketCounts {
  const out: BucketCounts = {
    bucket_count: model.bucketCount,
    empty_bucket_count: model.emptyCount,
    sparse_bucket_count: model.sparseCount,
  };
  if (!Number.isNaN(model.latestBucket)) out.latest_bucket_timestamp = model.latestBucket;
  if (!Number.isNaN(model.latestEmpty)) out.latest_empty_bucket_timestamp = model.latestEmpty;
  if (!Number.isNaN(model.latestSparse)) out.latest_sparse_bucket_timestamp = model.latestSparse;
  return out;
}

/** The work of {@link AnomalyModel.seriesCounts} (documented there). */
export function seriesCounts(model: ModelState): number[] {
  return model.detectors.map((d) => d.series.size);
}
