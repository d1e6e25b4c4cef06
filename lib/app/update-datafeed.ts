import { validateDatafeedForJob } from '../domain/datafeed/job-validator.ts';
import { applyDatafeedUpdate, type BuildContext, parseDatafeedUpdateBody } from '../domain/datafeed/parser.ts';
import { datafeedView } from '../domain/datafeed/view.ts';
import { Messages, ResourceNotFoundError, StaleStateError } from '../domain/errors.ts';
import { transitionDatafeed } from '../domain/lifecycle/datafeed.ts';
import { putDatafeed } from '../store/datafeeds.ts';
import { getJobConfig } from '../store/jobs.ts';
import { requireDatafeed } from './datafeed-lookup.ts';
import { refuseInUpgradeMode } from './job-lookup.ts';

/** The update-datafeed action name (upgrade-mode errors). */
export const UPDATE_DATAFEED_ACTION = 'cluster:admin/xpack/ml/datafeeds/update';

/**
 * POST _ml/datafeeds/<id>/_update (`DatafeedUpdate`, spec A.5.8): the body parsed strictly
 * (`[datafeed_update]`), upgrade mode, 404 unknown datafeed, 409 unless stopped ("Cannot
 * update datafeed [<id>] while its status is <state>"), the update applied and the result
 * built and checked against the job like a put; written with one conditional write on the
 * version read (a lost race re-reads).
 * @returns the updated datafeed as GET shows it
 * @throws 400 "Datafeed's job_id cannot be changed.", the parse/build/validation errors; 404; 409; 429
 */
export async function updateDatafeed(datafeedId: string, source: string, ctx: BuildContext): Promise<Record<string, unknown>> {
  const update = parseDatafeedUpdateBody(source);
  await refuseInUpgradeMode(UPDATE_DATAFEED_ACTION);
  for (let attempt = 0; attempt < 10; attempt++) {
    const stored = await requireDatafeed(datafeedId);
    const runtime = transitionDatafeed(stored.runtime, { type: 'update' });
    const next = applyDatafeedUpdate(stored.config, update, ctx);
    const job = await getJobConfig(next.job_id);
    if (!job) throw new ResourceNotFoundError(Messages.unknownJob(next.job_id));
    validateDatafeedForJob(next, job.config);
    try {
      await putDatafeed(next, runtime);
      return datafeedView(next);
    } catch (err) {
      if (err instanceof StaleStateError) continue;
      throw err;
    }
  }
  throw new StaleStateError(`datafeed [${datafeedId}] keeps changing`);
}
