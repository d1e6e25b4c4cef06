/**
 * `DatafeedJobValidator.validate(datafeed, job)`: what a datafeed requires of its job, checked
 * by put, update and start datafeed (spec A.5.8).
 */
import { StatusError } from '../errors.ts';
import type { JobConfig } from '../job/types.ts';
import { parseTimeValue, TimeValue } from '../units.ts';
import { histogramIntervalMs } from './aggregations.ts';
import type { DatafeedConfig } from './types.ts';

const bad = (reason: string): StatusError => new StatusError(400, reason);

/**
 * @throws StatusError 400, in Elasticsearch's order:
 *   `A job configured with datafeed cannot support latency`;
 *   with aggregations: `A job configured with a datafeed with aggregations must set summary_count_field_name; use doc_count or suitable alternative`,
 *   `Aggregation interval [<i>] must be less than or equal to the bucket_span [<bs>]`,
 *   `Aggregation interval [<i>] must be a divisor of the bucket_span [<bs>]`,
 *   `Datafeed frequency [<f>] must be a multiple of the aggregation interval [<i>]`;
 *   with a delayed data check window: `delayed_data_check_config: check_window [<w>] must be greater than the bucket_span [<bs>]`,
 *   `delayed_data_check_config: check_window [<w>] must be less than 10,000x the bucket_span [<bs>]`
 */
export function validateDatafeedForJob(datafeed: DatafeedConfig, job: JobConfig): void {
  const ac = job.analysis_config;
  if (ac.latency !== undefined && parseTimeValue(ac.latency, 'latency').ms >= 1000) throw bad('A job configured with datafeed cannot support latency');
  const bucketSpan = parseTimeValue(ac.bucket_span, 'bucket_span');
  if (datafeed.aggregations !== undefined && Object.keys(datafeed.aggregations).length > 0) {
    if (ac.summary_count_field_name === undefined || ac.summary_count_field_name === '') {
      throw bad('A job configured with a datafeed with aggregations must set summary_count_field_name; use doc_count or suitable alternative');
    }
    const interval = histogramIntervalMs(datafeed.aggregations);
    const intervalRep = TimeValue.ofMillis(interval).rep;
    if (interval > bucketSpan.ms) throw bad(`Aggregation interval [${intervalRep}] must be less than or equal to the bucket_span [${bucketSpan.rep}]`);
    if (bucketSpan.ms % interval !== 0) throw bad(`Aggregation interval [${intervalRep}] must be a divisor of the bucket_span [${bucketSpan.rep}]`);
    if (datafeed.frequency !== undefined) {
      const f = parseTimeValue(datafeed.frequency, 'frequency');
      if (f.ms % interval !== 0) throw bad(`Datafeed frequency [${f.rep}] must be a multiple of the aggregation interval [${intervalRep}]`);
    }
  }
  const dd = datafeed.delayed_data_check_config;
  if (dd.enabled && dd.check_window !== undefined) {
    const w = parseTimeValue(dd.check_window, 'check_window');
    if (w.ms < bucketSpan.ms) throw bad(`delayed_data_check_config: check_window [${w.rep}] must be greater than the bucket_span [${bucketSpan.rep}]`);
    if (w.ms > bucketSpan.ms * 10_000) throw bad(`delayed_data_check_config: check_window [${w.rep}] must be less than 10,000x the bucket_span [${bucketSpan.rep}]`);
  }
}
