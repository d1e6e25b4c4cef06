import { validateDatafeedForJob } from '../domain/datafeed/job-validator.ts';
import { randomUUID } from 'node:crypto';
import { ActionRequestValidationError, ConflictError, DatafeedMessages, Messages, ResourceNotFoundError, StaleStateError, StatusError } from '../domain/errors.ts';
import { transitionDatafeed } from '../domain/lifecycle/datafeed.ts';
import { config } from '../runtime/config.ts';
import { putDatafeed } from '../store/datafeeds.ts';
import { getJobConfig, getJobRuntime } from '../store/jobs.ts';
import { submitCommand } from './commands.ts';
import { requireDatafeed } from './datafeed-lookup.ts';
import { refuseInUpgradeMode } from './job-lookup.ts';
import type { applyDatafeedLookback } from './datafeed-lookback.ts';

/** The start-datafeed action name (upgrade-mode errors). */
export const START_DATAFEED_ACTION = 'cluster:admin/xpack/ml/datafeed/start';

/** The parsed parameters of a start: `start` (default 0) and `end`, epoch ms. */
export interface StartParams {
  startMs: number;
  endMs?: number;
}

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
 * Without `end` the datafeed runs in real time after its lookback (the runner, then the
 * scheduled tick in `datafeed-tick.ts`). A datafeed with `aggregations` is refused with a
 * 400 naming what is unsupported, before anything changes.
 * @throws ActionRequestValidationError 400 "Validation Failed: 1: start [<ms>] must be earlier than end [<ms>];";
 *   429 in upgrade mode; 404 "No datafeed with id [<id>] exists"; 404 "No known job with id '<job>'";
 *   409 "cannot start datafeed [<d>] because job [<j>] is <state>"; 409 "cannot start datafeed [<d>] because it has already been started";
 *   StatusError 400 "mlplane does not run aggregation datafeeds yet: …"
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
  if (d.config.aggregations !== undefined) throw new StatusError(400, DatafeedMessages.noAggregations(datafeedId));
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
  await submitCommand({
    action: 'datafeed',
    es_action: START_DATAFEED_ACTION,
    description: `datafeed [${datafeedId}] ${params.endMs === undefined ? 'lookback and real time' : 'lookback'} for job [${d.config.job_id}]`,
    targets: [d.config.job_id],
    params: { datafeed_id: datafeedId, run_id: runId },
  });
  return { started: true, node };
}
