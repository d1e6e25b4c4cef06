import { validateDatafeedForJob } from '../domain/datafeed/job-validator.ts';
import { buildDatafeedConfig, type BuildContext, type DatafeedBuilder, indicesOptionsFromParams, parseDatafeedConfigBody } from '../domain/datafeed/parser.ts';
import { type DatafeedConfig, newDatafeedRuntime } from '../domain/datafeed/types.ts';
import { datafeedView } from '../domain/datafeed/view.ts';
import { ConflictError, DatafeedMessages, Messages, ResourceAlreadyExistsError, ResourceNotFoundError } from '../domain/errors.ts';
import type { JobConfig } from '../domain/job/types.ts';
import { createDatafeed, getJobDatafeedId } from '../store/datafeeds.ts';
import { getJobConfig } from '../store/jobs.ts';
import { refuseInUpgradeMode } from './job-lookup.ts';

/** The put-datafeed action name (upgrade-mode errors). */
export const PUT_DATAFEED_ACTION = 'cluster:admin/xpack/ml/datafeeds/put';

/**
 * PUT _ml/datafeeds/<id> (spec A.5.8), in Elasticsearch's order: the body parsed and built
 * (`DatafeedConfig.STRICT_PARSER`, the path id wins over a body `datafeed_id`), upgrade mode,
 * the job (404), `DatafeedJobValidator`, then one transaction that creates the datafeed only
 * if the job still has none and the id is free.
 * @returns the datafeed as GET shows it
 * @throws the parse and build errors (400); 429 in upgrade mode; 404 "No known job with id '<job>'";
 *   409 "A datafeed [<d>] already exists for job [<job>]"; 400 resource_already_exists_exception "A datafeed with id [<id>] already exists"
 */
export async function putDatafeed(datafeedId: string, source: string, ctx: BuildContext): Promise<Record<string, unknown>> {
  const config = buildDatafeedConfig(datafeedId, parseDatafeedConfigBody(source), ctx);
  await refuseInUpgradeMode(PUT_DATAFEED_ACTION);
  const job = await getJobConfig(config.job_id);
  if (!job) throw new ResourceNotFoundError(Messages.unknownJob(config.job_id));
  validateDatafeedForJob(config, job.config);
  await storeNewDatafeed(config);
  return datafeedView(config);
}

/**
 * Builds and checks the `datafeed_config` of a put job against the job it comes with, before
 * the job is created (the caller then creates the job and {@link storeNewDatafeed}).
 * @throws the errors of a put datafeed's parse, build and job validation
 */
export function buildJobDatafeed(builder: DatafeedBuilder, job: JobConfig, ctx: BuildContext): DatafeedConfig {
  const config = buildDatafeedConfig(builder.datafeed_id ?? job.job_id, { ...builder, job_id: job.job_id }, ctx);
  validateDatafeedForJob(config, job);
  return config;
}

/**
 * Writes a new datafeed (conditional transaction: id free, the job has no datafeed, the job exists).
 * @throws ConflictError 409 "A datafeed [<d>] already exists for job [<job>]"; ResourceAlreadyExistsError 400
 *   "A datafeed with id [<id>] already exists"; ResourceNotFoundError 404 when the job went meanwhile
 */
export async function storeNewDatafeed(config: DatafeedConfig): Promise<void> {
  const refusal = await createDatafeed(config, newDatafeedRuntime(config.datafeed_id));
  if (refusal === undefined) return;
  if (refusal === 'job_missing') throw new ResourceNotFoundError(Messages.unknownJob(config.job_id));
  if (refusal === 'job_has_datafeed') {
    const existing = (await getJobDatafeedId(config.job_id)) ?? config.datafeed_id;
    throw new ConflictError(DatafeedMessages.jobHasDatafeed(existing, config.job_id));
  }
  throw new ResourceAlreadyExistsError(DatafeedMessages.idTaken(config.datafeed_id));
}

/**
 * The build context of a datafeed request: the caller's roles, and the indices options of
 * its query parameters (`IndicesOptions.fromRequest`; none present leaves the body's, the
 * stored or the default ones).
 */
export function datafeedRequestContext(roles: string[], query: Readonly<Record<string, string | undefined>>): BuildContext {
  const fromParams = indicesOptionsFromParams(query);
  return { roles, ...(fromParams ? { indicesOptionsFromParams: fromParams } : {}) };
}
