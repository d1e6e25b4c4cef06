import { applyJobUpdate, checkGroupsAreNotJobIds, jobUpdatedAuditMessage, parseJobUpdate, type JobUpdate } from '../domain/update.ts';
import type { JobConfig } from '../domain/job/types.ts';
import { jobConfigView } from '../domain/job/view.ts';
import { EsError, Messages, ResourceNotFoundError, StatusError, TooManyRequestsError } from '../domain/errors.ts';
import { getJobConfig, getJobRuntime, listJobConfigs, putJobConfig } from '../store/jobs.ts';
import { type ClusterSettings, getClusterSettings } from '../store/cluster.ts';
import { audit } from './audit.ts';
import { awaitWithoutTimeout, submitCommand, type Queued } from './commands.ts';
import { checkJobConfigSize, MAX_JOB_CONFIG_BYTES, refuseOversizedBody, storedJobPart } from '../domain/limits.ts';

/**
 * POST _ml/anomaly_detectors/<id>/_update (spec A.2), HTTP side: everything Elasticsearch
 * rejects before touching the job (`_all`, the strict body parse with rule validation,
 * upgrade mode, a group named like an existing job, an unknown job) is answered at once;
 * then an `update` command goes into the job's FIFO group, so an update posted before a
 * close is applied before it and never races it. Answers the whole updated job.
 *
 * A job that the update would make too large to store (over {@link MAX_JOB_CONFIG_BYTES}) is
 * refused before anything is queued: a body whose fields alone are too large before it is
 * even parsed in full (megabytes take the located reader seconds), otherwise the update is
 * merged into the current job to measure it. The worker merges and checks again on the job
 * as it is then.
 * @throws StoredSizeLimitError 400 `illegal_argument_exception` `[<field>] is too large: the job configuration would be [<n>] bytes, over the limit of [307200] bytes`
 */
export async function updateJob(jobId: string, source: string, startedMs = Date.now()): Promise<Queued<unknown>> {
  refuseOversizedBody(source, MAX_JOB_CONFIG_BYTES, 'the job configuration', storedJobPart);
  const update = parseJobUpdate(source);
  if (jobId === '_all') throw new StatusError(400, 'Cannot update more than 1 job at a time');
  const settings = await getClusterSettings();
  if (settings.upgrade_mode) throw new TooManyRequestsError(Messages.upgradeMode('cluster:admin/xpack/ml/job/update'));
  const jobIds = update.groups && update.groups.length > 0 ? (await listJobConfigs()).map((j) => j.job_id) : [];
  checkGroupsAreNotJobIds(update, jobIds);
  const stored = await getJobConfig(jobId);
  if (!stored) throw new ResourceNotFoundError(Messages.unknownJob(jobId));
  await refuseTooLargeMerge(jobId, stored.config, update, settings, jobIds);
  const cmd = await submitCommand({ action: 'update', es_action: 'cluster:admin/xpack/ml/job/update', description: `update job [${jobId}]`, targets: [jobId], payload: source });
  return awaitWithoutTimeout(cmd, startedMs, (r) => r[0]);
}

/**
 * Merges the update into the job as it is now and refuses the result if it cannot be
 * stored. Any other failure of the merge is left to the worker, which reports it in the
 * job's order (after the commands queued before this one). Group clashes were checked
 * already, so the other job ids are only known when the update sets groups.
 * @throws StoredSizeLimitError 400 when the merged job is over {@link MAX_JOB_CONFIG_BYTES}
 */
async function refuseTooLargeMerge(jobId: string, job: JobConfig, update: JobUpdate, settings: ClusterSettings, jobIds: string[]): Promise<void> {
  const rt = await getJobRuntime(jobId);
  if (!rt) return;
  let merged: JobConfig;
  try {
    merged = applyJobUpdate(job, update, {
      jobState: rt.state,
      modelBytes: rt.model ? rt.model_size_stats.model_bytes : undefined,
      maxModelMemoryLimitMiB: settings.max_model_memory_limit_mib,
      otherJobIds: jobIds.filter((id) => id !== jobId),
    });
  } catch (err) {
    if (err instanceof EsError) return;
    throw err;
  }
  checkJobConfigSize(merged);
}

/**
 * The worker side of an update: re-parses the body, runs every check that depends on the
 * job's current state (the analysis-limits gate, usage, merged validation), then writes
 * the new config with one conditional write, so a failed update changes nothing. Writes
 * the audit message "Job updated: [<sorted fields>]". A redelivery after success answers
 * the stored job (the conditional write is keyed on the config version it read).
 */
export async function applyUpdateCommand(jobId: string, source: string): Promise<unknown> {
  const update = parseJobUpdate(source);
  const stored = await getJobConfig(jobId);
  const rt = await getJobRuntime(jobId);
  if (!stored || !rt) throw new ResourceNotFoundError(Messages.unknownJob(jobId));
  const [settings, all] = await Promise.all([getClusterSettings(), listJobConfigs()]);
  const next = applyJobUpdate(stored.config, update, {
    jobState: rt.state,
    modelBytes: rt.model ? rt.model_size_stats.model_bytes : undefined,
    maxModelMemoryLimitMiB: settings.max_model_memory_limit_mib,
    otherJobIds: all.map((j) => j.job_id).filter((id) => id !== jobId),
  });
  // The merged job may be too large although the update alone was not (a long description added to long rules).
  checkJobConfigSize(next);
  await putJobConfig(next, stored.version);
  await audit(jobId, jobUpdatedAuditMessage(update));
  return jobConfigView(next, {});
}
