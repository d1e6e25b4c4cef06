import { validateDatafeedForJob } from '../domain/datafeed/job-validator.ts';
import { randomUUID } from 'node:crypto';
import {
  ActionRequestValidationError,
  ConflictError,
  DatafeedMessages,
  IndexNotFoundError,
  Messages,
  ResourceNotFoundError,
  StaleStateError,
  StatusError,
  TooManyRequestsError,
} from '../domain/errors.ts';
import { transitionDatafeed } from '../domain/lifecycle/datafeed.ts';
import { config } from '../runtime/config.ts';
import { getDatafeed, putDatafeed } from '../store/datafeeds.ts';
import { TimeValue } from '../domain/units.ts';
import { getJobConfig, getJobRuntime } from '../store/jobs.ts';
import { submitCommand } from './commands.ts';
import { requireDatafeed } from './datafeed-lookup.ts';
import { refuseInUpgradeMode } from './job-lookup.ts';
import { persistentTaskAllocationDisabled } from './cluster.ts';
import type { applyDatafeedLookback } from './datafeed-lookback.ts';
import { checkDataExtractor, storeAggregations } from './datafeed-extractor.ts';
import { resolveIndices } from './documents.ts';
import type { DatafeedConfig, IndicesOptions } from '../domain/datafeed/types.ts';
import { parseSearchRequest } from '../domain/search/request.ts';
import { datafeedStateChanged } from './events-out.ts';

/** The start-datafeed action name (upgrade-mode errors). */
export const START_DATAFEED_ACTION = 'cluster:admin/xpack/ml/datafeed/start';

/** The parsed parameters of a start: `start` (default 0) and `end`, epoch ms; `timeout` (default 20s) bounds the wait for `started`. */
export interface StartParams {
  startMs: number;
  endMs?: number;
  timeout?: TimeValue;
}

/** `StartDatafeedAction.DEFAULT_TIMEOUT`: how long a start waits for its datafeed to be `started`. */
const DEFAULT_START_TIMEOUT = TimeValue.ofMillis(20_000);

/** Elasticsearch's `cluster.persistent_tasks.allocation.enable`: `none` assigns no persistent task (`EnableAssignmentDecider`). */
export const ALLOCATION_DISABLED_EXPLANATION = 'no persistent task assignments are allowed due to cluster settings';

/**
 * POST _ml/datafeeds/<id>/_start: every check Elasticsearch makes before it creates the
 * datafeed's task, in its order (`StartDatafeedAction.Request.validate`, the upgrade-mode
 * filter, `TransportStartDatafeedAction`): `end` after `start`, upgrade mode, the datafeed
 * (404), its job (404), `DatafeedJobValidator`, the job `opening` or `opened`, the datafeed
 * not already started. Then the task: the datafeed moves `stopped → starting` (one conditional
 * write, so of two concurrent starts one gets 409) and a `datafeed` command goes into the
 * job's FIFO group, where the runner ({@link applyDatafeedLookback}) reads `[start, end)` and
 * posts it to the job. Answers `{"started":true,"node":<node>}` at once, as Elasticsearch does
 * once the task is assigned.
 *
 * Before the task, Elasticsearch's checks of the data: the extractor can be built
 * (`DataExtractorFactory.create`: the indices and, without aggregations, the job's fields;
 * {@link checkDataExtractor}) and, as `DatafeedNodeSelector.checkDatafeedTaskCanBeCreated`, the
 * indices resolve to at least one index under the datafeed's `indices_options`
 * ({@link verifyIndicesActive}). A datafeed with `aggregations` has them parsed by the document
 * store first, so one the store does not compute is a 400 naming it before anything changes.
 *
 * Without `end` the datafeed runs in real time after its lookback (the runner, then the
 * scheduled tick in `datafeed-tick.ts`).
 * @throws ActionRequestValidationError 400 "Validation Failed: 1: start [<ms>] must be earlier than end [<ms>];";
 *   429 in upgrade mode; 404 "No datafeed with id [<id>] exists"; 404 "No known job with id '<job>'";
 *   409 "cannot start datafeed [<d>] because job [<j>] is <state>"; 409 "cannot start datafeed [<d>] because it has already been started";
 *   404 "datafeed [<d>] cannot retrieve data because index [<i>] does not exist" and the other errors of {@link checkDataExtractor};
 *   409 "No node found to start datafeed [<d>], allocation explanation [cannot start datafeed [<d>] because index [<i>] does not exist, is closed, or is still initializing.]"
 *   (or "… because it failed resolving indices given [<i>] and indices_options [IndicesOptions[…]] with exception [no such index [<i>]]]");
 *   400 "mlplane does not support the [<x>] aggregation yet"
 */
export async function startDatafeed(datafeedId: string, params: StartParams): Promise<{ started: true; node: string }> {
  if (params.endMs !== undefined && params.endMs <= params.startMs) {
    throw new ActionRequestValidationError([`start [${params.startMs}] must be earlier than end [${params.endMs}]`]);
  }
  await refuseInUpgradeMode(START_DATAFEED_ACTION);
  const d = await requireDatafeed(datafeedId);
  const job = await getJobConfig(d.config.job_id);
  const rt = await getJobRuntime(d.config.job_id);
  if (!job || !rt) throw new ResourceNotFoundError(Messages.unknownJob(d.config.job_id));
  validateDatafeedForJob(d.config, job.config);
  if (rt.state !== 'opening' && rt.state !== 'opened') throw new ConflictError(DatafeedMessages.jobNotOpen(datafeedId, d.config.job_id, rt.state));
  transitionDatafeed(d.runtime, { type: 'start_requested' });
  await checkDataExtractor(datafeedId, d.config, job.config);
  await verifyIndicesActive(datafeedId, d.config);
  if (d.config.aggregations !== undefined) checkStoreAggregations(d.config.aggregations);
  if (await persistentTaskAllocationDisabled()) {
    // The task would be created unassigned, and the start's wait fails on its assignment (`TransportStartDatafeedAction.DatafeedPredicate`); the datafeed stays stopped.
    throw new TooManyRequestsError(`Could not start datafeed, allocation explanation [${ALLOCATION_DISABLED_EXPLANATION}]`);
  }
  const node = config().nodeName;
  const runId = randomUUID();
  const starting = transitionDatafeed(d.runtime, { type: 'start', node, startMs: params.startMs, endMs: params.endMs, runId });
  try {
    await putDatafeed(d.config, starting);
  } catch (err) {
    // Another start (or an update/delete) won the race: Elasticsearch's answer to the loser of two starts.
    if (err instanceof StaleStateError) throw new ConflictError(`cannot start datafeed [${datafeedId}] because it has already been started`);
    throw err;
  }
  await datafeedStateChanged(d.config, d.runtime, starting);
  await submitCommand({
    action: 'datafeed',
    es_action: START_DATAFEED_ACTION,
    description: `datafeed [${datafeedId}] ${params.endMs === undefined ? 'lookback and real time' : 'lookback'} for job [${d.config.job_id}]`,
    targets: [d.config.job_id],
    params: { datafeed_id: datafeedId, run_id: runId },
  });
  await waitForStarted(datafeedId, runId, params.timeout ?? DEFAULT_START_TIMEOUT);
  return { started: true, node };
}

/**
 * Waits, as Elasticsearch's start does (`waitForDatafeedStarted`), until the runner has moved
 * the run out of `starting` (it is `started`, or already stopped again: a short lookback that
 * closed its job, a stop that came first).
 * @throws StatusError 408 "Starting datafeed [<id>] timed out after [<timeout>]"; the datafeed still starts
 */
async function waitForStarted(datafeedId: string, runId: string, timeout: TimeValue): Promise<void> {
  const deadline = Date.now() + timeout.ms;
  let delay = 15;
  for (;;) {
    const d = await getDatafeed(datafeedId);
    if (!d || d.runtime.run_id !== runId || d.runtime.state !== 'starting') return;
    if (Date.now() >= deadline) throw new StatusError(408, `Starting datafeed [${datafeedId}] timed out after [${timeout.human()}]`);
    await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(0, deadline - Date.now()))));
    delay = Math.min(delay * 2, 250);
  }
}

/** Elasticsearch's `IndicesOptions.toString` (before failure stores), as its start errors print it. */
export function indicesOptionsString(o: IndicesOptions): string {
  const wildcards = new Set(o.expand_wildcards.includes('all') ? ['open', 'closed', 'hidden'] : o.expand_wildcards);
  return (
    `IndicesOptions[ignore_unavailable=${o.ignore_unavailable}, allow_no_indices=${o.allow_no_indices}, ` +
    `expand_wildcards_open=${wildcards.has('open')}, expand_wildcards_closed=${wildcards.has('closed')}, expand_wildcards_hidden=${wildcards.has('hidden')}, ` +
    `allow_aliases_to_multiple_indices=true, forbid_closed_indices=true, ignore_aliases=false, ignore_throttled=${o.ignore_throttled}]`
  );
}

/**
 * `DatafeedNodeSelector.verifyIndicesActive`, critical for task creation: the datafeed's local
 * indices (remote `cluster:index` ones cannot be checked and are skipped) resolved under its
 * `indices_options`. A missing index (unless `ignore_unavailable`) or a wildcard matching nothing
 * with `allow_no_indices: false` fails the resolution; resolving to no index at all (with no
 * remote index to hope for) fails too. Both are Elasticsearch's 409 "No node found to start datafeed".
 * PUT datafeed checks none of this, as Elasticsearch (a datafeed may be created before its index).
 * @throws ConflictError 409 with the allocation explanation
 */
export async function verifyIndicesActive(datafeedId: string, config: Pick<DatafeedConfig, 'indices' | 'indices_options'>): Promise<void> {
  const local = config.indices.filter((i) => !i.includes(':'));
  const hasRemote = local.length !== config.indices.length;
  const noNode = (explanation: string): ConflictError =>
    new ConflictError(`No node found to start datafeed [${datafeedId}], allocation explanation [cannot start datafeed [${datafeedId}] because ${explanation}]`);
  const opts = config.indices_options;
  let concrete = 0;
  for (const token of local) {
    try {
      const found = await resolveIndices(token, token.includes('*') || opts.ignore_unavailable);
      if (found.length === 0 && token.includes('*') && !opts.allow_no_indices) throw new IndexNotFoundError(token);
      concrete += found.length;
    } catch (err) {
      if (!(err instanceof IndexNotFoundError)) throw err;
      throw noNode(`it failed resolving indices given [${local.join(',')}] and indices_options [${indicesOptionsString(opts)}] with exception [${err.message}]`);
    }
  }
  if (!hasRemote && concrete === 0) throw noNode(`index [${local.join(',')}] does not exist, is closed, or is still initializing.`);
}

/** The datafeed's aggregations parsed as the document store will run them: one it does not compute is its 400 now, not an audit later. */
function checkStoreAggregations(aggs: Record<string, unknown>): void {
  parseSearchRequest(JSON.stringify({ size: 0, aggs: storeAggregations(aggs) }), {});
}
