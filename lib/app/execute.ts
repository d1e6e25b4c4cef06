import type { Command } from '../domain/command.ts';
import { ConflictError, Messages, ResourceNotFoundError } from '../domain/errors.ts';
import type { JobRuntime } from '../domain/state.ts';
import { config } from '../runtime/config.ts';
import { getCommandPayload } from '../store/commands.ts';
import { deleteJobData, getJobConfig, getJobRuntime, putJobRuntimeAndConfig } from '../store/jobs.ts';
import { evictModel } from './analysis.ts';
import { audit } from './audit.ts';
import { closeJob, persistSnapshot, type StepHook } from './close.ts';
import { processData, processFlush } from './ingest.ts';

/** Test seams for fault injection. */
export interface ExecuteOptions {
  closeStepHook?: StepHook;
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
    case 'close':
      return closeJob(target, cmd.command_id, opts.closeStepHook);
    case 'persist':
      return persistOpenJob(target, cmd.command_id);
    case 'delete':
      await deleteJobData(target);
      evictModel(target);
      return { acknowledged: true };
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
  if (rt.state !== 'closed') {
    if (rt.last_command?.id === commandId) return { opened: true, node: nodeName };
    throw new ConflictError(Messages.alreadyOpened(jobId));
  }
  const next: JobRuntime = {
    ...rt,
    state: 'opened',
    node: nodeName,
    assignment_explanation: '',
    open_time_ms: Date.now(),
    last_command: { id: commandId, response: { opened: true, node: nodeName } },
    version: rt.version + 1,
  };
  const { finished_time: _finished, ...reopened } = job;
  await putJobRuntimeAndConfig(next, reopened as typeof job, version);
  await audit(jobId, `Opening job on node [${nodeName}]`);
  return { opened: true, node: nodeName };
}

/** Background persist of an open job: a snapshot of its live model (no-op when it is no longer open). */
async function persistOpenJob(jobId: string, commandId: string): Promise<{ persisted: boolean }> {
  const { job, version, rt } = await load(jobId, false);
  if (rt.state !== 'opened' || !rt.model) return { persisted: false };
  const snapshotId = `${Math.floor(Number(commandId) / 1_000_000)}`;
  await persistSnapshot(job, version, rt, snapshotId, 'State persisted due to background persist', Date.now());
  return { persisted: true };
}
