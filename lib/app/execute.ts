import type { Command } from '../domain/command.ts';
import { ConflictError, IllegalStateError, Messages, ResourceNotFoundError, StaleStateError, TooManyRequestsError } from '../domain/errors.ts';
import type { JobRuntime } from '../domain/state.ts';
import { config } from '../runtime/config.ts';
import { getCommandPayload } from '../store/commands.ts';
import { deleteJobData, getJobConfig, getJobRuntime, getJobRuntimes, listJobConfigs, putJobRuntime, putJobRuntimeAndConfig } from '../store/jobs.ts';
import { getClusterSettings } from '../store/cluster.ts';
import { batchWrite, queryAll } from '../store/batch.ts';
import { keys } from '../store/keys.ts';
import { maxOpenJobs } from './cluster.ts';
import { evictModel, openTimeSettings } from './analysis.ts';
import { audit } from './audit.ts';
import { closeJob, persistSnapshot, type StepHook } from './close.ts';
import { processData, processFlush } from './ingest.ts';
import { applyUpdateCommand } from './update.ts';
import { forceClose } from './jobs.ts';

/** Test seams for fault injection. */
export interface ExecuteOptions {
  closeStepHook?: StepHook;
  /** Milliseconds left in this invocation (Lambda's getRemainingTimeInMillis). */
  remainingMs?: () => number;
}

/**
 * Carries out one command for one target (a job id) and returns that target's
 * Elasticsearch response. Domain failures are thrown as EsError (recorded as the target's
 * outcome); anything else is an infrastructure failure and makes the message redeliver.
 * Every action is idempotent under redelivery.
 */
export async function executeCommand(cmd: Command, target: string, opts: ExecuteOptions = {}): Promise<unknown> {
  switch (cmd.action) {
    case 'open':
      return openTask(target, cmd.command_id);
    case 'data': {
      const { job, rt } = await load(target, true);
      return processData(job, rt, cmd.command_id, await getCommandPayload(cmd));
    }
    case 'flush': {
      const { job, rt } = await load(target, true);
      return processFlush(job, rt, cmd.command_id, cmd.params as Parameters<typeof processFlush>[3]);
    }
    case 'close': {
      const out = await closeJob(target, cmd.command_id, opts.closeStepHook, Date.now(), opts.remainingMs);
      await promoteLazyJobs();
      return out;
    }
    case 'update':
      return applyUpdateCommand(target, await getCommandPayload(cmd));
    case 'persist':
      return persistOpenJob(target, cmd.command_id);
    case 'delete':
      return deleteTask(target, cmd.params as { force?: boolean; create_time?: number });
  }
}

async function load(jobId: string, requireOpen: boolean) {
  const stored = await getJobConfig(jobId);
  const rt = await getJobRuntime(jobId);
  if (!stored || !rt) throw requireOpen ? new ConflictError(Messages.jobNotOpen(jobId)) : new ResourceNotFoundError(Messages.unknownJob(jobId));
  return { job: stored.config, version: stored.version, rt };
}

/**
 * Opens a job: `closed` → `opened` on this deployment's node, clearing `finished_time`
 * (spec A.5.4). The live model state is kept across closes, so the job resumes where it
 * stopped. A redelivery after success answers the same; a job that another request opened
 * first is 409 "already been opened".
 */
async function openTask(jobId: string, commandId: string): Promise<{ opened: true; node: string }> {
  const nodeName = config().nodeName;
  const { job, version, rt } = await load(jobId, false);
  // A redelivery of an open that took effect answers the same, even if a force close came since.
  if (rt.last_command?.id === commandId) return rt.last_command.response as { opened: true; node: string };
  if (rt.state !== 'closed') throw new ConflictError(Messages.alreadyOpened(jobId));
  const capacity = await openCapacity();
  const { finished_time: _finished, ...reopened } = job;
  if (capacity.free <= 0) {
    const explanation = `Not opening job [${jobId}] because not enough ML capacity: number of opened jobs [${capacity.open}], xpack.ml.max_open_jobs [${capacity.max}]`;
    if (!job.allow_lazy_open) {
      throw new TooManyRequestsError('Could not open job because no ML nodes with sufficient capacity were found', {
        cause: new IllegalStateError(`Could not open job because no suitable nodes were found, allocation explanation [${explanation}]`),
      });
    }
    // A lazy job waits unassigned in `opening`; a close elsewhere assigns it (promoteLazyJobs).
    const waiting: JobRuntime = {
      ...rt,
      opened_with: openTimeSettings(job),
      state: 'opening',
      assignment_explanation: explanation,
      open_time_ms: Date.now(),
      last_command: { id: commandId, response: { opened: true, node: '' } },
      version: rt.version + 1,
    };
    delete waiting.node;
    // The marker goes first: a marker without a waiting job is dropped by promoteLazyJobs, never the reverse.
    await batchWrite([{ ...keys.lazyWaiting(jobId), since: Date.now() }]);
    await putJobRuntimeAndConfig(waiting, reopened as typeof job, version);
    await audit(jobId, `Job is waiting for ML capacity: ${explanation}`);
    return { opened: true, node: '' };
  }
  const next: JobRuntime = {
    ...rt,
    opened_with: openTimeSettings(job),
    state: 'opened',
    node: nodeName,
    assignment_explanation: '',
    open_time_ms: Date.now(),
    last_command: { id: commandId, response: { opened: true, node: nodeName } },
    version: rt.version + 1,
  };
  await putJobRuntimeAndConfig(next, reopened as typeof job, version);
  await audit(jobId, `Opening job on node [${nodeName}]`);
  return { opened: true, node: nodeName };
}

/** Jobs holding capacity (assigned: opened, closing, or opening on a node) against `xpack.ml.max_open_jobs`. */
async function openCapacity(): Promise<{ open: number; max: number; free: number }> {
  const [configs, settings] = await Promise.all([listJobConfigs(), getClusterSettings()]);
  const max = maxOpenJobs(settings);
  // Fewer jobs than slots: capacity cannot be short, so the runtimes need not be read.
  if (configs.length < max) return { open: 0, max, free: max - configs.length };
  const runtimes = [...(await getJobRuntimes(configs.map((c) => c.job_id))).values()];
  const open = runtimes.filter((r) => r.state === 'opened' || r.state === 'closing' || (r.state === 'opening' && r.node)).length;
  return { open, max, free: max - open };
}

/**
 * Assigns lazily opening jobs (state `opening`, no node) while capacity allows, oldest
 * first, as Elasticsearch reassigns an unassigned persistent task when a node frees up.
 * A lost race (another writer moved the job) just skips that job.
 */
export async function promoteLazyJobs(): Promise<string[]> {
  const markers = await queryAll<{ sk: string; since: number }>({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.lazyPartition }, ConsistentRead: true });
  if (markers.length === 0) return [];
  const runtimes = await getJobRuntimes(markers.map((m) => m.sk));
  const stale = markers.filter((m) => { const r = runtimes.get(m.sk); return !r || r.state !== 'opening' || r.node; });
  const waiting = markers.filter((m) => !stale.includes(m)).sort((a, b) => a.since - b.since);
  const promoted: string[] = [];
  let free = waiting.length > 0 ? (await openCapacity()).free : 0;
  for (const m of waiting) {
    if (free <= 0) break;
    const rt = runtimes.get(m.sk) as JobRuntime;
    const next: JobRuntime = { ...rt, state: 'opened', node: config().nodeName, assignment_explanation: '', version: rt.version + 1 };
    try {
      await putJobRuntime(next);
      await audit(rt.job_id, `Opening job on node [${config().nodeName}]`);
      promoted.push(rt.job_id);
      stale.push(m);
      free--;
    } catch (err) {
      if (!(err instanceof StaleStateError)) throw err;
    }
  }
  await batchWrite([], stale.map((m) => keys.lazyWaiting(m.sk)));
  return promoted;
}

/** Background persist of an open job: a snapshot of its live model (no-op when it is no longer open). */
async function persistOpenJob(jobId: string, commandId: string): Promise<{ persisted: boolean }> {
  const { job, version, rt } = await load(jobId, false);
  if (rt.state !== 'opened' || !rt.model) return { persisted: false };
  const snapshotId = `${Math.floor(Number(commandId) / 1_000_000)}`;
  await persistSnapshot(job, version, rt, snapshotId, 'State persisted due to background persist', Date.now());
  return { persisted: true };
}

/**
 * Moves a job to `failed` with a reason (its "process" could not be closed). From there only
 * a force close or a force delete get it out, as in Elasticsearch. Best effort: a lost race
 * is retried a few times, a vanished job is ignored.
 */
export async function markJobFailed(jobId: string, reason: string): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const rt = await getJobRuntime(jobId);
    if (!rt || rt.state === 'closed' || rt.state === 'failed') return;
    try {
      await putJobRuntime({ ...rt, state: 'failed', reason, version: rt.version + 1 });
      await audit(jobId, `Job failed: ${reason}`, 'error');
      await promoteLazyJobs();
      return;
    } catch (err) {
      if (!(err instanceof StaleStateError)) throw err;
    }
  }
}

/**
 * Deletes a job in its FIFO group. The state is checked again here, because an open queued
 * before the delete may have run since the HTTP check: without force an open job is 409
 * "Cannot delete job [<id>] because the job is <state>", with force it is force-closed
 * first. A job recreated since (another `create_time`) is left alone, so a late redelivery
 * never deletes the new job; a job already gone is acknowledged.
 */
async function deleteTask(jobId: string, params: { force?: boolean; create_time?: number }): Promise<{ acknowledged: true }> {
  const stored = await getJobConfig(jobId);
  const rt = await getJobRuntime(jobId);
  if (!stored) return { acknowledged: true };
  if (params.create_time !== undefined && stored.config.create_time !== params.create_time) return { acknowledged: true };
  if (rt && rt.state !== 'closed') {
    if (!params.force) throw new ConflictError(Messages.deleteOpen(jobId, rt.state));
    await forceClose(jobId);
    await promoteLazyJobs();
  }
  await deleteJobData(jobId);
  evictModel(jobId);
  return { acknowledged: true };
}
