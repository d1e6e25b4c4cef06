import { validateDatafeedForJob } from '../domain/datafeed/job-validator.ts';
import { ActionRequestValidationError, ConflictError, DatafeedMessages, Messages, ResourceNotFoundError, StatusError } from '../domain/errors.ts';
import { transitionDatafeed } from '../domain/lifecycle/datafeed.ts';
import { getJobConfig, getJobRuntime } from '../store/jobs.ts';
import { requireDatafeed } from './datafeed-lookup.ts';
import { refuseInUpgradeMode } from './job-lookup.ts';

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
 * not already started. mlplane does not run datafeeds yet, so a start that passes them all is
 * refused with a 400 naming the API; running them replaces only that last step (the index
 * checks of `DataExtractorFactory.create` belong just before it).
 * @throws ActionRequestValidationError 400 "Validation Failed: 1: start [<ms>] must be earlier than end [<ms>];";
 *   429 in upgrade mode; 404 "No datafeed with id [<id>] exists"; 404 "No known job with id '<job>'";
 *   409 "cannot start datafeed [<d>] because job [<j>] is <state>"; 409 "cannot start datafeed [<d>] because it has already been started";
 *   StatusError 400 "mlplane does not run datafeeds yet: [_start] is not supported"
 */
export async function startDatafeed(datafeedId: string, params: StartParams): Promise<never> {
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
  throw new StatusError(400, DatafeedMessages.notRunYet('_start'));
}
