import { ConflictError, DatafeedMessages, EsError, StaleStateError } from '../domain/errors.ts';
import { transitionDatafeed } from '../domain/lifecycle/datafeed.ts';
import { deleteDatafeed as deleteStored, getDatafeed, getJobDatafeedId, putDatafeed, type StoredDatafeed } from '../store/datafeeds.ts';
import { requireDatafeed } from './datafeed-lookup.ts';
import { refuseInUpgradeMode } from './job-lookup.ts';
import { datafeedStateChanged } from './events-out.ts';

/** The delete-datafeed action name (upgrade-mode errors). */
export const DELETE_DATAFEED_ACTION = 'cluster:admin/xpack/ml/datafeeds/delete';

/**
 * DELETE _ml/datafeeds/<id>[?force] (spec A.5.8): 404 unknown; without force 409 "Cannot
 * delete datafeed [<id>] while its status is <state>" unless stopped; with force a running
 * datafeed is force-stopped first. The datafeed and its job's claim go in one transaction.
 * @throws 404, 409, 429 in upgrade mode
 */
export async function deleteDatafeed(datafeedId: string, force: boolean): Promise<{ acknowledged: true }> {
  await refuseInUpgradeMode(DELETE_DATAFEED_ACTION);
  await removeDatafeed(await requireDatafeed(datafeedId), force);
  return { acknowledged: true };
}

/**
 * Deletes the datafeed of a job being deleted, with the job delete's `force` (current
 * Elasticsearch deletes it rather than refusing the job delete, spec A.5.7). No datafeed: nothing to do.
 * @throws ConflictError 409 "failed to delete job [<job>] as its datafeed [<d>] could not be deleted", caused by the datafeed's error
 */
export async function deleteJobDatafeed(jobId: string, force: boolean): Promise<void> {
  const datafeedId = await getJobDatafeedId(jobId);
  if (datafeedId === undefined) return;
  const stored = await getDatafeed(datafeedId);
  if (!stored) return;
  try {
    await removeDatafeed(stored, force);
  } catch (err) {
    if (err instanceof EsError) throw new ConflictError(DatafeedMessages.deleteJobDatafeed(jobId, datafeedId), { cause: err });
    throw err;
  }
}

async function removeDatafeed(first: StoredDatafeed, force: boolean): Promise<void> {
  let d: StoredDatafeed | undefined = first;
  for (let attempt = 0; attempt < 10 && d; attempt++) {
    try {
      if (force) {
        const stopped = transitionDatafeed(d.runtime, { type: 'force_stop' });
        if (stopped !== d.runtime) {
          await putDatafeed(d.config, stopped);
          await datafeedStateChanged(d.config, d.runtime, stopped, 'datafeed_deleted');
          d = { config: d.config, runtime: stopped };
        }
      } else {
        transitionDatafeed(d.runtime, { type: 'delete_requested' });
      }
      await deleteStored(d);
      return;
    } catch (err) {
      if (!(err instanceof StaleStateError)) throw err;
      d = await getDatafeed(first.config.datafeed_id);
    }
  }
  if (d) throw new StaleStateError(`datafeed [${first.config.datafeed_id}] keeps changing`);
}
