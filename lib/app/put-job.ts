import { type BuildContext, type DatafeedBuilder, parseDatafeedConfigBody } from '../domain/datafeed/parser.ts';
import { datafeedView } from '../domain/datafeed/view.ts';
import { parsePutJobRequest } from '../domain/job/put-job.ts';
import { jobConfigView } from '../domain/job/view.ts';
import { checkJobConfigSize, MAX_JOB_CONFIG_BYTES, refuseOversizedBody, storedJobPart } from '../domain/limits.ts';
import { EsError, Messages, ResourceAlreadyExistsError, XContentParseLocatedError } from '../domain/errors.ts';
import { locate } from '../domain/json/plain-values.ts';
import { newJobRuntime } from '../domain/state.ts';
import { createJob, deleteJobData, listJobConfigs } from '../store/jobs.ts';
import { getClusterSettings } from '../store/cluster.ts';
import { audit } from './audit.ts';
import { assertModelled } from './live-model.ts';
import { refuseInUpgradeMode } from './job-lookup.ts';
import { buildJobDatafeed, storeNewDatafeed } from './put-datafeed.ts';

/**
 * `datafeed_config` read by the datafeed's strict parser, its errors wrapped as the job
 * parser wraps a nested object's (`[l:c] [job_details] failed to parse field [datafeed_config]`).
 */
function parseEmbeddedDatafeed(map: Record<string, unknown>, source: string): DatafeedBuilder {
  try {
    return parseDatafeedConfigBody(JSON.stringify(map));
  } catch (err) {
    if (err instanceof EsError) {
      throw new XContentParseLocatedError(locate(source, ['datafeed_config']) ?? null, '[job_details] failed to parse field [datafeed_config]', err);
    }
    throw err;
  }
}

/**
 * PUT _ml/anomaly_detectors/<id> with the raw body `source`: validates and normalises the config (all validation
 * first, as Elasticsearch does, so a bad body on a taken id reports the body error), then
 * checks job/group name clashes and creates config + closed runtime atomically.
 * A `datafeed_config` (spec A.5.1) is parsed, built and checked against the job with the
 * job, before anything is written; the datafeed (id defaulting to the job id) is created
 * right after the job, and if that fails the job is deleted again and the datafeed's error
 * returned, as `TransportPutJobAction` does. `datafeedCtx` carries the caller's roles and the
 * indices options of the query parameters (`ignore_unavailable`, …, spec A.5.1) for it.
 * @returns the created job as GET shows it (with `datafeed_config` when one was created)
 * A configuration that cannot be stored (over {@link MAX_JOB_CONFIG_BYTES} as JSON) is refused
 * after Elasticsearch's validation, and a body far over it before the body is even read in full.
 * @throws the validation errors of `parsePutJobRequest` and of the datafeed's parse, build and job checks;
 *   400 resource_already_exists_exception; StoredSizeLimitError 400 `illegal_argument_exception` `[<field>] is too large: …`;
 *   409 "A datafeed [<d>] already exists for job [<job>]"; 400 "A datafeed with id [<d>] already exists"
 */
export async function putJob(pathJobId: string, source: string, nowMs = Date.now(), datafeedCtx: BuildContext = { roles: ['superuser'] }): Promise<unknown> {
  refuseOversizedBody(source, MAX_JOB_CONFIG_BYTES, 'the job configuration', storedJobPart);
  const settings = await getClusterSettings();
  // Parsed from the located tree of `source` (not from plain values), so errors carry Jackson's positions and ObjectParser wrapping.
  const { job, datafeedConfig } = parsePutJobRequest(pathJobId, undefined, { nowMs, maxModelMemoryLimitMiB: settings.max_model_memory_limit_mib, source });
  const datafeed = datafeedConfig === undefined ? undefined : buildJobDatafeed(parseEmbeddedDatafeed(datafeedConfig, source), job, datafeedCtx);
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
  if (datafeed) {
    try {
      await storeNewDatafeed(datafeed);
    } catch (err) {
      await deleteJobData(job.job_id);
      throw err;
    }
  }
  await audit(job.job_id, 'Job created', 'info', nowMs);
  return jobConfigView(job, datafeed ? { datafeedConfig: datafeedView(datafeed) } : {});
}
