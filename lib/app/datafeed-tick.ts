/**
 * The real-time datafeed tick (the EventBridge schedule `datafeeds-realtime`, rate 1 minute):
 * the stand-in for the timer Elasticsearch's `DatafeedRunner` keeps per running datafeed.
 */
import { isRealtimeSearchDue, realtimeSearchEndMs } from '../domain/datafeed/realtime.ts';
import { listDatafeeds } from '../store/datafeeds.ts';
import { getJobConfig } from '../store/jobs.ts';
import { submitCommand } from './commands.ts';
import { upgradeModeHalts } from './job-lookup.ts';
import { datafeedTimings } from './datafeed-lookback.ts';
import { analysisSpec } from './live-model.ts';
import { START_DATAFEED_ACTION } from './start-datafeed.ts';

/** One real-time search the tick submitted. */
export interface SubmittedSearch {
  datafeed_id: string;
  job_id: string;
  /** The due time it was submitted for, epoch ms. */
  due_ms: number;
  /** The exclusive end of the window it searches, epoch ms. */
  search_to_ms: number;
  /** The `datafeed` command carrying it (its task id is `<node>:<command_id>`). */
  command_id: string;
}

/**
 * Submits a real-time search for every datafeed whose next search is due at `nowMs`
 * ({@link isRealtimeSearchDue}): a `datafeed` command in its job's FIFO group, so the search
 * and its post stay ordered with the job's data, flush, update and close. The command carries
 * the due time and the window's end (`now - query_delay`, floored to `frequency`), so a tick
 * that runs twice, or a redelivery, searches once: the runner only searches for the due time
 * the datafeed still has, and the window of a command never changes.
 *
 * While upgrade mode halts job and datafeed work nothing is submitted: the datafeeds are
 * isolated, and once it is disabled the next tick searches from where each one stopped.
 *
 * A datafeed that fails to submit does not keep the others from theirs; the failures are
 * thrown together afterwards (the invocation fails and EventBridge retries it, harmlessly).
 * @returns the searches submitted
 * @throws AggregateError of the failures, after every datafeed was tried
 */
export async function runDatafeedTick(nowMs = Date.now()): Promise<SubmittedSearch[]> {
  const submitted: SubmittedSearch[] = [];
  const failures: unknown[] = [];
  if (await upgradeModeHalts()) return submitted;
  for (const d of await listDatafeeds()) {
    if (!isRealtimeSearchDue(d.runtime, nowMs)) continue;
    try {
      const job = await getJobConfig(d.config.job_id);
      if (!job) continue;
      const { frequencyMs, queryDelayMs } = datafeedTimings(d.config, analysisSpec(job.config).bucketSpanMs);
      const search = {
        datafeed_id: d.config.datafeed_id,
        job_id: d.config.job_id,
        due_ms: d.runtime.next_search_ms as number,
        search_to_ms: realtimeSearchEndMs(nowMs, queryDelayMs, frequencyMs),
      };
      const cmd = await submitCommand({
        action: 'datafeed',
        es_action: START_DATAFEED_ACTION,
        description: `datafeed [${search.datafeed_id}] real-time search for job [${search.job_id}]`,
        targets: [search.job_id],
        params: { datafeed_id: search.datafeed_id, run_id: d.runtime.run_id, due_ms: search.due_ms, search_to_ms: search.search_to_ms },
      });
      submitted.push({ ...search, command_id: cmd.command_id });
    } catch (err) {
      failures.push(err);
    }
  }
  if (failures.length > 0) throw new AggregateError(failures, `${failures.length} real-time datafeed searches could not be submitted`);
  return submitted;
}
