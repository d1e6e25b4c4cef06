import { IllegalStateError, TooManyRequestsError } from '../domain/errors.ts';
import { transitionJob } from '../domain/lifecycle/job.ts';
import type { TimeValue } from '../domain/units.ts';
import { config } from '../runtime/config.ts';
import { putJobRuntimeAndConfig } from '../store/jobs.ts';
import { markLazyOpen } from '../store/lazy-open.ts';
import { audit } from './audit.ts';
import { capacityExplanation, jobMemoryMiB, openCapacity } from './capacity.ts';
import { awaitCommand, settle, submitCommand, type Queued } from './commands.ts';
import { loadJob, refuseInUpgradeMode, requireJob } from './job-lookup.ts';
import { checkModelSnapshotVersion, openTimeSettings } from './live-model.ts';
import { persistentTaskAllocationDisabled } from './cluster.ts';
import { jobStateChanged } from './events-out.ts';

/**
 * POST _ml/anomaly_detectors/<id>/_open (spec A.5.4): 404 unknown, 409 when a task exists
 * (opening, opened, closing or failed), 429 in upgrade mode; then an `open` command in the
 * job's FIFO group. Answers `{opened:true, node}`.
 */
export async function openJob(jobId: string, timeout: TimeValue | undefined, startedMs = Date.now()): Promise<Queued<unknown>> {
  // MlUpgradeModeActionFilter runs before the action: in upgrade mode even an unknown job is 429.
  await refuseInUpgradeMode('cluster:admin/xpack/ml/job/open');
  const { rt } = await requireJob(jobId);
  transitionJob(rt, { type: 'open_requested' });
  if (await persistentTaskAllocationDisabled()) {
    // TransportOpenJobAction refuses before it creates the task.
    throw new TooManyRequestsError('Cannot open jobs because persistent task assignment is disabled by the [cluster.persistent_tasks.allocation.enable] setting');
  }
  const cmd = await submitCommand({ action: 'open', es_action: 'cluster:admin/xpack/ml/job/open', description: `job-${jobId}`, targets: [jobId] });
  const ms = timeout?.ms ?? 30 * 60_000;
  const outcome = await awaitCommand(cmd.command_id, ms, startedMs);
  return settle(
    cmd.task_id,
    outcome,
    () => new IllegalStateError(`Opening job [${jobId}] timed out after [${timeout?.rep ?? '30m'}]`),
    (r) => r[0],
  );
}

/**
 * Opens a job: `closed` → `opened` on this deployment's node, clearing `finished_time`
 * (spec A.5.4). The live model state is kept across closes, so the job resumes where it
 * stopped. A redelivery after success answers the same; a job that another request opened
 * first is 409 "already been opened".
 */
export async function applyOpen(jobId: string, commandId: string): Promise<{ opened: true; node: string }> {
  const nodeName = config().nodeName;
  const { job, version, rt } = await loadJob(jobId, false);
  // A redelivery of an open that took effect answers the same, even if a force close came since.
  if (rt.last_command?.id === commandId) return rt.last_command.response as { opened: true; node: string };
  transitionJob(rt, { type: 'open_requested' });
  await checkModelSnapshotVersion(job, rt);
  const capacity = await openCapacity();
  const { finished_time: _finished, ...reopened } = job;
  const explanation = capacityExplanation(jobId, jobMemoryMiB(job), capacity);
  if (explanation !== undefined) {
    if (!job.allow_lazy_open) {
      throw new TooManyRequestsError('Could not open job because no ML nodes with sufficient capacity were found', {
        cause: new IllegalStateError(`Could not open job because no suitable nodes were found, allocation explanation [${explanation}]`),
      });
    }
    // A lazy job waits unassigned in `opening`; a close elsewhere assigns it (promoteLazyJobs).
    const waiting = transitionJob(rt, { type: 'wait_for_capacity', explanation, nowMs: Date.now(), openedWith: openTimeSettings(job), commandId });
    // The marker goes first: a marker without a waiting job is dropped by promoteLazyJobs, never the reverse.
    await markLazyOpen(jobId, Date.now());
    await putJobRuntimeAndConfig(waiting, reopened as typeof job, version);
    await audit(jobId, `Job is waiting for ML capacity: ${explanation}`);
    await jobStateChanged(rt, waiting);
    return { opened: true, node: '' };
  }
  const next = transitionJob(rt, { type: 'open', node: nodeName, nowMs: Date.now(), openedWith: openTimeSettings(job), commandId });
  await putJobRuntimeAndConfig(next, reopened as typeof job, version);
  await audit(jobId, `Opening job on node [${nodeName}]`);
  await jobStateChanged(rt, next);
  return { opened: true, node: nodeName };
}
