import { transitionJob } from '../domain/lifecycle/job.ts';
import { awaitWithoutTimeout, submitCommand, type Queued } from './commands.ts';
import { deleteJobData, getJobConfig, getJobRuntime } from '../store/jobs.ts';
import { forceClose } from './close.ts';
import { promoteLazyJobs } from './capacity.ts';
import { refuseInUpgradeMode, requireJob } from './job-lookup.ts';
import { evictModel } from './live-model.ts';
import { deleteJobDatafeed } from './delete-datafeed.ts';

/**
 * DELETE _ml/anomaly_detectors/<id> (spec A.5.7): 404 unknown; 409 "Cannot delete job [<id>]
 * because the job is <state>" without force when a task exists; the job's datafeed is deleted
 * (with the same force; 409 "failed to delete job [<id>] as its datafeed [<d>] could not be
 * deleted" when it cannot be); with force the job is force-closed first. The deletion itself is a `delete` command in the job's group.
 */
export async function deleteJob(jobId: string, force: boolean, waitForCompletion: boolean, startedMs = Date.now()): Promise<Queued<{ acknowledged: true }>> {
  await refuseInUpgradeMode('cluster:admin/xpack/ml/job/delete');
  const { job, rt } = await requireJob(jobId);
  if (rt.state !== 'closed' && !force) transitionJob(rt, { type: 'delete_requested' });
  // Current Elasticsearch deletes the job's datafeed first, with the same force (spec A.5.7).
  await deleteJobDatafeed(jobId, force);
  if (rt.state !== 'closed') {
    await forceClose(jobId);
    await promoteLazyJobs();
  }
  const cmd = await submitCommand({
    action: 'delete',
    es_action: 'cluster:admin/xpack/ml/job/delete',
    description: `delete-job-${jobId}`,
    targets: [jobId],
    params: { force, create_time: job.create_time },
  });
  if (!waitForCompletion) return { kind: 'accepted', taskId: cmd.task_id, requested: true };
  return awaitWithoutTimeout(cmd, startedMs, () => ({ acknowledged: true as const }));
}

/**
 * Deletes a job in its FIFO group. The state is checked again here, because an open queued
 * before the delete may have run since the HTTP check: without force an open job is 409
 * "Cannot delete job [<id>] because the job is <state>", with force it is force-closed
 * first. A job recreated since (another `create_time`) is left alone, so a late redelivery
 * never deletes the new job; a job already gone is acknowledged.
 */
export async function applyDelete(jobId: string, params: { force?: boolean; create_time?: number }): Promise<{ acknowledged: true }> {
  const stored = await getJobConfig(jobId);
  const rt = await getJobRuntime(jobId);
  if (!stored) return { acknowledged: true };
  if (params.create_time !== undefined && stored.config.create_time !== params.create_time) return { acknowledged: true };
  if (rt && rt.state !== 'closed') {
    if (!params.force) transitionJob(rt, { type: 'delete_requested' });
    await forceClose(jobId);
    await promoteLazyJobs();
  }
  // A datafeed put between the request and this command goes with the job (a started one only with force).
  await deleteJobDatafeed(jobId, params.force ?? false);
  await deleteJobData(jobId);
  evictModel(jobId);
  return { acknowledged: true };
}
