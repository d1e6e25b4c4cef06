import { buildJobConfig } from '../domain/job/put-job.ts';
import { jobConfigView } from '../domain/job/view.ts';
import { checkJobConfigSize, MAX_JOB_CONFIG_BYTES, refuseOversizedBody, storedJobPart } from '../domain/limits.ts';
import { Messages, ResourceAlreadyExistsError } from '../domain/errors.ts';
import { newJobRuntime } from '../domain/state.ts';
import { createJob, listJobConfigs } from '../store/jobs.ts';
import { getClusterSettings } from '../store/cluster.ts';
import { audit } from './audit.ts';
import { assertModelled } from './live-model.ts';
import { refuseInUpgradeMode } from './job-lookup.ts';

/**
 * PUT _ml/anomaly_detectors/<id> with the raw body `source`: validates and normalises the config (all validation
 * first, as Elasticsearch does, so a bad body on a taken id reports the body error), then
 * checks job/group name clashes and creates config + closed runtime atomically.
 * @returns the created job as GET shows it
 * A configuration that cannot be stored (over {@link MAX_JOB_CONFIG_BYTES} as JSON) is refused
 * after Elasticsearch's validation, and a body far over it before the body is even read in full.
 * @throws the validation errors of `buildJobConfig`; 400 resource_already_exists_exception;
 *   StoredSizeLimitError 400 `illegal_argument_exception` `[<field>] is too large: …`
 */
export async function putJob(pathJobId: string, source: string, nowMs = Date.now()): Promise<unknown> {
  refuseOversizedBody(source, MAX_JOB_CONFIG_BYTES, 'the job configuration', storedJobPart);
  const settings = await getClusterSettings();
  // Parsed from the located tree of `source` (not from plain values), so errors carry Jackson's positions and ObjectParser wrapping.
  const job = buildJobConfig(pathJobId, undefined, { nowMs, maxModelMemoryLimitMiB: settings.max_model_memory_limit_mib, source });
  checkJobConfigSize(job);
  assertModelled(job);
  await refuseInUpgradeMode('cluster:admin/xpack/ml/job/put');
  const existing = await listJobConfigs();
  if (existing.some((j) => j.job_id === job.job_id)) throw new ResourceAlreadyExistsError(Messages.jobExists(job.job_id));
  const ids = new Set(existing.map((j) => j.job_id));
  for (const g of job.groups ?? []) {
    if (ids.has(g)) throw new ResourceAlreadyExistsError(`job and group names must be unique but job [${g}] and group [${g}] have the same name`);
  }
  if (existing.some((j) => (j.groups ?? []).includes(job.job_id))) {
    throw new ResourceAlreadyExistsError(`job and group names must be unique but job [${job.job_id}] and group [${job.job_id}] have the same name`);
  }
  if (!(await createJob(job, newJobRuntime(job.job_id, nowMs)))) throw new ResourceAlreadyExistsError(Messages.jobExists(job.job_id));
  await audit(job.job_id, 'Job created', 'info', nowMs);
  return jobConfigView(job, {});
}
