import { buildJobConfig } from '../domain/job/put-job.ts';
import type { JobConfig } from '../domain/job/types.ts';
import { jobConfigView } from '../domain/job/view.ts';
import { expandIds, unknownJobError } from '../domain/ids.ts';
import { checkJobConfigSize, MAX_JOB_CONFIG_BYTES, refuseOversizedBody, storedJobPart } from '../domain/limits.ts';
import {
  ConflictError,
  IllegalStateError,
  Messages,
  ResourceAlreadyExistsError,
  ResourceNotFoundError,
  TooManyRequestsError,
} from '../domain/errors.ts';
import { newJobRuntime, type JobRuntime } from '../domain/state.ts';
import type { TimeValue } from '../domain/units.ts';
import { createJob, getJobConfig, getJobRuntime, getJobRuntimes, listJobConfigs, putJobRuntimeAndConfig } from '../store/jobs.ts';
import { getClusterSettings } from '../store/cluster.ts';
import { listSnapshots } from '../store/snapshots.ts';
import { audit } from './audit.ts';
import { awaitCommand, StoredEsError, submitCommand, type WaitOutcome } from './commands.ts';
import { jobStatsView } from './views.ts';
import { assertModelled } from './analysis.ts';
import { promoteLazyJobs } from './execute.ts';

/** Result of an HTTP-side use case that went through the queue. */
export type Queued<T> = { kind: 'done'; response: T } | { kind: 'accepted'; taskId: string; requested?: boolean };

/**
 * Turns the outcome of waiting for a command into a response, Elasticsearch's timeout
 * error, or an "accepted" task (the gateway cap ran out first). A failed target rethrows
 * the worker's Elasticsearch error unchanged.
 */
export function settle<T>(taskId: string, outcome: WaitOutcome, onTimeout: () => Error, combine: (responses: unknown[]) => T): Queued<T> {
  if (outcome.kind === 'request_timeout') throw onTimeout();
  if (outcome.kind === 'gateway_cap') return { kind: 'accepted', taskId };
  const cmd = outcome.command;
  const outcomes = cmd.targets.map((t) => cmd.outcomes[t]);
  const failed = outcomes.find((o) => o?.status === 'failed');
  if (failed?.error) throw new StoredEsError(failed.error);
  return { kind: 'done', response: combine(outcomes.map((o) => o?.response)) };
}

async function refuseInUpgradeMode(action: string): Promise<void> {
  if ((await getClusterSettings()).upgrade_mode) throw new TooManyRequestsError(Messages.upgradeMode(action));
}

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

/**
 * Expands an id expression over job ids and group names (spec A.0).
 * @throws 404 resource_not_found_exception "No known job with id '<tokens>'"
 */
export async function resolveJobs(expression: string, allowNoMatch: boolean): Promise<JobConfig[]> {
  const all = await listJobConfigs();
  const { ids, missing } = expandIds(expression, all.map((j) => ({ id: j.job_id, groups: j.groups ?? [] })), { allowNoMatch });
  if (missing.length > 0) throw unknownJobError(missing);
  const byId = new Map(all.map((j) => [j.job_id, j]));
  return ids.map((id) => byId.get(id)).filter((j): j is JobConfig => j !== undefined);
}

/** GET _ml/anomaly_detectors[/<expr>]: `{count, jobs}` sorted by id. */
export async function getJobs(expression: string, allowNoMatch: boolean, excludeGenerated: boolean): Promise<{ count: number; jobs: unknown[] }> {
  const jobs = await resolveJobs(expression, allowNoMatch);
  return { count: jobs.length, jobs: jobs.map((j) => jobConfigView(j, { excludeGenerated })) };
}

/** GET _ml/anomaly_detectors[/<expr>]/_stats: `{count, jobs:[JobStats]}` sorted by id (spec A.5.3). */
export async function getJobStats(expression: string, allowNoMatch: boolean, nowMs = Date.now()): Promise<{ count: number; jobs: unknown[] }> {
  const jobs = await resolveJobs(expression, allowNoMatch);
  const runtimes = await getJobRuntimes(jobs.map((j) => j.job_id));
  const stats = jobs.map((j) => jobStatsView(runtimes.get(j.job_id) ?? newJobRuntime(j.job_id, nowMs), nowMs));
  return { count: stats.length, jobs: stats };
}

async function requireJob(jobId: string): Promise<{ job: JobConfig; version: number; rt: JobRuntime }> {
  const stored = await getJobConfig(jobId);
  const rt = stored && (await getJobRuntime(jobId));
  if (!stored || !rt) throw new ResourceNotFoundError(Messages.unknownJob(jobId));
  return { job: stored.config, version: stored.version, rt };
}

/**
 * POST _ml/anomaly_detectors/<id>/_open (spec A.5.4): 404 unknown, 409 when a task exists
 * (opening, opened, closing or failed), 429 in upgrade mode; then an `open` command in the
 * job's FIFO group. Answers `{opened:true, node}`.
 */
export async function openJob(jobId: string, timeout: TimeValue | undefined, startedMs = Date.now()): Promise<Queued<unknown>> {
  const { rt } = await requireJob(jobId);
  await refuseInUpgradeMode('cluster:admin/xpack/ml/job/open');
  if (rt.state !== 'closed') throw new ConflictError(Messages.alreadyOpened(jobId));
  const cmd = await submitCommand({ action: 'open', es_action: 'cluster:admin/xpack/ml/job/open', description: `job-${jobId}`, targets: [jobId] });
  const ms = timeout?.ms ?? 30 * 60_000;
  const outcome = await awaitCommand(cmd.command_id, ms, startedMs);
  return settle(cmd.task_id, outcome, () => new IllegalStateError(`Opening job [${jobId}] timed out after [${timeout?.rep ?? '30m'}]`), (r) => r[0]);
}

/**
 * POST _ml/anomaly_detectors/<id>/_data (spec A.5.5): a job without an open task, even an
 * unknown one, is 409 "Cannot perform requested action because job [<id>] is not open".
 * The body is carried to the worker beside the command; the answer is the job's running
 * `data_counts`.
 */
export async function postData(jobId: string, body: string, params: { reset_start?: string; reset_end?: string }, startedMs = Date.now()): Promise<Queued<unknown>> {
  await refuseInUpgradeMode('cluster:admin/xpack/ml/job/data/post');
  const rt = await getJobRuntime(jobId);
  if (!rt || rt.state !== 'opened') throw new ConflictError(Messages.jobNotOpen(jobId));
  const cmd = await submitCommand({
    action: 'data',
    es_action: 'cluster:admin/xpack/ml/job/data/post',
    description: `post data to job [${jobId}]`,
    targets: [jobId],
    params,
    payload: body,
  });
  const outcome = await awaitCommand(cmd.command_id, undefined, startedMs);
  return settle(cmd.task_id, outcome, () => new IllegalStateError('unreachable'), (r) => r[0]);
}

/** Parameters of a flush (epoch ms; Elasticsearch's `advance_time`, `skip_time`, `start`, `end`, `calc_interim`). */
export interface FlushParams {
  calc_interim?: boolean;
  start?: number;
  end?: number;
  advance_time?: number;
  skip_time?: number;
}

/** POST _ml/anomaly_detectors/<id>/_flush (spec A.5.6): `{flushed:true, last_finalized_bucket_end?}`; 409 when not open. */
export async function flushJob(jobId: string, validate: () => FlushParams, startedMs = Date.now()): Promise<Queued<unknown>> {
  await refuseInUpgradeMode('cluster:admin/xpack/ml/job/flush');
  const rt = await getJobRuntime(jobId);
  if (!rt || rt.state !== 'opened') throw new ConflictError(Messages.jobNotOpen(jobId));
  // Elasticsearch checks the time range and flush parameters in the job's task, so only once the job is found open.
  const params = validate();
  const cmd = await submitCommand({ action: 'flush', es_action: 'cluster:admin/xpack/ml/job/flush', description: `flush job [${jobId}]`, targets: [jobId], params: { ...params } });
  const outcome = await awaitCommand(cmd.command_id, undefined, startedMs);
  return settle(cmd.task_id, outcome, () => new IllegalStateError('unreachable'), (r) => r[0]);
}

/** Close request parameters after body-over-query precedence (spec A.0/A.1). */
export interface CloseParams {
  force: boolean;
  allowNoMatch: boolean;
  timeout: TimeValue | undefined;
}

/**
 * POST _ml/anomaly_detectors/<expr>/_close (spec A.1): expands ids and groups, refuses
 * failed jobs without force (409, nothing changed), force-closes at once (the persistent
 * task is removed: state `closed`, `finished_time` set, no final results or snapshot),
 * and otherwise sends a `close` command per open or closing job and waits up to `timeout`
 * (default 30m) for all of them: 500 "Timed out when waiting for persistent tasks after
 * <timeout>" when it runs out, 202 with a task when the gateway cap comes first.
 */
export async function closeJobs(expression: string, params: CloseParams, nowMs = Date.now(), startedMs = nowMs): Promise<Queued<{ closed: true }>> {
  await refuseInUpgradeMode('cluster:admin/xpack/ml/job/close');
  const jobs = await resolveJobs(expression, params.allowNoMatch);
  const runtimes = await getJobRuntimes(jobs.map((j) => j.job_id));
  const open: string[] = [];
  const closing: string[] = [];
  const failed: string[] = [];
  for (const j of jobs) {
    const state = runtimes.get(j.job_id)?.state ?? 'closed';
    if (state === 'opening' || state === 'opened') open.push(j.job_id);
    else if (state === 'closing') closing.push(j.job_id);
    else if (state === 'failed') failed.push(j.job_id);
  }
  if (failed.length > 0 && !params.force) {
    throw new ConflictError(jobs.length === 1 ? Messages.closeFailedOne(failed[0] as string) : Messages.closeFailedMany);
  }
  if (params.force) {
    for (const id of [...open, ...closing, ...failed]) await forceClose(id, nowMs);
    await promoteLazyJobs();
    return { kind: 'done', response: { closed: true } };
  }
  const targets = [...open, ...closing].sort();
  if (targets.length === 0) return { kind: 'done', response: { closed: true } };
  const cmd = await submitCommand({ action: 'close', es_action: 'cluster:admin/xpack/ml/job/close', description: `close job [${expression}]`, targets });
  const timeoutMs = params.timeout?.ms ?? 30 * 60_000;
  const outcome = await awaitCommand(cmd.command_id, timeoutMs, startedMs);
  return settle(cmd.task_id, outcome, () => new IllegalStateError(Messages.persistentTasksTimeout(params.timeout?.human() ?? '30m')), () => ({ closed: true as const }));
}

/**
 * Force close of one job: removes the "task" at once with a conditional write (so it works
 * even while the job's queue group is busy or stuck), sets `finished_time`, and leaves any
 * queued data to fail with "not open". A close in progress notices the version change and
 * stops. Retries when it loses a race with a worker.
 */
export async function forceClose(jobId: string, nowMs = Date.now()): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const stored = await getJobConfig(jobId);
    const rt = await getJobRuntime(jobId);
    if (!stored || !rt || rt.state === 'closed') return;
    const next: JobRuntime = { ...rt, state: 'closed', version: rt.version + 1 };
    delete next.node;
    delete next.open_time_ms;
    delete next.assignment_explanation;
    delete next.close;
    delete next.reason;
    delete next.opened_with;
    try {
      await putJobRuntimeAndConfig(next, { ...stored.config, finished_time: nowMs }, stored.version);
      await audit(jobId, 'Job is closing (forced)', 'info', nowMs);
      return;
    } catch (err) {
      if (!(err instanceof Error) || err.name !== 'StaleStateError') throw err;
    }
  }
  throw new ConflictError(`Failed to force close job [${jobId}] with [1] failures, rethrowing first. All Exceptions: [concurrent updates]`);
}

/**
 * DELETE _ml/anomaly_detectors/<id> (spec A.5.7): 404 unknown; 409 "Cannot delete job [<id>]
 * because the job is <state>" without force when a task exists; with force the job is
 * force-closed first. The deletion itself is a `delete` command in the job's group.
 */
export async function deleteJob(jobId: string, force: boolean, waitForCompletion: boolean, startedMs = Date.now()): Promise<Queued<{ acknowledged: true }>> {
  const { job, rt } = await requireJob(jobId);
  await refuseInUpgradeMode('cluster:admin/xpack/ml/job/delete');
  if (rt.state !== 'closed') {
    if (!force) throw new ConflictError(Messages.deleteOpen(jobId, rt.state));
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
  const outcome = await awaitCommand(cmd.command_id, undefined, startedMs);
  return settle(cmd.task_id, outcome, () => new IllegalStateError('unreachable'), () => ({ acknowledged: true as const }));
}

/** Snapshot query of GET model_snapshots (spec A.5.9); times epoch ms. */
export interface SnapshotQuery {
  snapshotId?: string;
  start?: number;
  end?: number;
  sort: string;
  desc: boolean;
  from: number;
  size: number;
}

/** GET _ml/anomaly_detectors/<id>/model_snapshots[/<snapshot_id>]: `{count, model_snapshots}`, newest first by default. */
export async function getModelSnapshots(jobId: string, q: SnapshotQuery): Promise<{ count: number; model_snapshots: unknown[] }> {
  await requireJob(jobId);
  let snaps = await listSnapshots(jobId);
  if (q.snapshotId && q.snapshotId !== '_all' && q.snapshotId !== '*') snaps = snaps.filter((s) => s.snapshot_id === q.snapshotId);
  if (q.start !== undefined) snaps = snaps.filter((s) => s.timestamp >= (q.start as number));
  if (q.end !== undefined) snaps = snaps.filter((s) => s.timestamp < (q.end as number));
  const key = q.sort as keyof (typeof snaps)[number];
  snaps.sort((a, b) => {
    const x = a[key] as number | string;
    const y = b[key] as number | string;
    const c = x < y ? -1 : x > y ? 1 : a.snapshot_id.localeCompare(b.snapshot_id);
    return q.desc ? -c : c;
  });
  return { count: snaps.length, model_snapshots: snaps.slice(q.from, q.from + q.size) };
}

