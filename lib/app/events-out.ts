import type { BucketResult } from '../detect/index.ts';
import type { Command } from '../domain/command.ts';
import { CLUSTER_TARGET, WATCH_TARGET_PREFIX } from '../domain/command.ts';
import type { DatafeedConfig, DatafeedRuntime } from '../domain/datafeed/types.ts';
import type { EsErrorBody } from '../domain/errors.ts';
import {
  anomalyRecordEvents,
  commandFailedEvent,
  datafeedStateChangeEvent,
  type DatafeedStopReason,
  type EventOrigin,
  jobStateChangeEvent,
  type MlEvent,
  recordScoreThreshold,
  upgradeModeChangeEvent,
} from '../domain/events.ts';
import type { JobConfig } from '../domain/job/types.ts';
import type { JobRuntime } from '../domain/state.ts';
import { publishEvents } from '../queue/events.ts';
import { config } from '../runtime/config.ts';
import { logger } from '../runtime/log.ts';

/*
 * The emission points of events out (DESIGN §5): each use case calls one of these right after
 * the write that commits the fact. They never throw: the fact is committed, and a lost event
 * is logged and counted (`EventsPublishFailed`) by the adapter.
 *
 * Delivery is at least once for a fact whose publication is retried, and each event's
 * `event_id` is derived from the fact, so a copy can be dropped by its consumer; a crash of
 * the process between the commit and the publish loses that one event (there is no outbox).
 */

function origin(): EventOrigin {
  const c = config();
  return { clusterName: c.clusterName, nodeName: c.nodeName };
}

/** Builds and publishes; a builder that throws (a programming error) is logged, never rethrown. */
async function emit(build: () => MlEvent | MlEvent[] | undefined): Promise<void> {
  let events: MlEvent[];
  try {
    const built = build();
    events = built === undefined ? [] : Array.isArray(built) ? built : [built];
  } catch (err) {
    logger.error('event could not be built; not published', { err });
    return;
  }
  await publishEvents(events);
}

/**
 * `ML Job State Change` after a job runtime write from `before` to `after` (nothing when the
 * state is the same). `reason`: the failure's text for `failed` (default `after.reason`),
 * `force_close`, `datafeed_<stop reason>`.
 */
export function jobStateChanged(before: Pick<JobRuntime, 'state'>, after: JobRuntime, reason?: string, nowMs = Date.now()): Promise<void> {
  return emit(() =>
    jobStateChangeEvent(origin(), {
      jobId: after.job_id,
      previous: before.state,
      state: after.state,
      version: after.version,
      nowMs,
      reason: reason ?? (after.state === 'failed' ? after.reason : undefined),
    }),
  );
}

/** `ML Datafeed State Change` after a datafeed write from `before` to `after`; `reason` for a move to `stopped`. */
export function datafeedStateChanged(
  datafeed: Pick<DatafeedConfig, 'datafeed_id' | 'job_id'>,
  before: Pick<DatafeedRuntime, 'state'>,
  after: DatafeedRuntime,
  reason?: DatafeedStopReason,
  nowMs = Date.now(),
): Promise<void> {
  return emit(() =>
    datafeedStateChangeEvent(origin(), {
      datafeedId: datafeed.datafeed_id,
      jobId: datafeed.job_id,
      previous: before.state,
      state: after.state,
      version: after.version,
      nowMs,
      ...(reason ? { reason } : {}),
    }),
  );
}

/** `ML Command Failed` after a command target's failed outcome was recorded. */
export function commandFailed(cmd: Command, target: string, error: EsErrorBody, nowMs = Date.now()): Promise<void> {
  const isJob = target !== CLUSTER_TARGET && !target.startsWith(WATCH_TARGET_PREFIX);
  return emit(() =>
    commandFailedEvent(origin(), {
      commandId: cmd.command_id,
      taskId: cmd.task_id,
      action: cmd.action,
      esAction: cmd.es_action,
      target,
      ...(isJob ? { jobId: target } : {}),
      description: cmd.description,
      error: { type: error.error.type, reason: error.error.reason, status: error.status },
      nowMs,
    }),
  );
}

/** `ML Upgrade Mode Change` after the settings write (of version `version`) that turned upgrade mode on or off. */
export function upgradeModeChanged(change: { enabled: boolean; previous: boolean; expiresMs?: number; version: number }, nowMs = Date.now()): Promise<void> {
  return emit(() => upgradeModeChangeEvent(origin(), { ...change, nowMs }));
}

/**
 * `ML Anomaly Record` for each final record of `buckets` (just written for the first time) whose
 * score reaches the job's `custom_settings.event_record_score_threshold`; nothing without one.
 */
export function anomalyRecordsWritten(job: Pick<JobConfig, 'custom_settings'>, buckets: readonly BucketResult[]): Promise<void> {
  return emit(() => {
    const threshold = recordScoreThreshold(job.custom_settings);
    if (threshold === undefined) return undefined;
    return anomalyRecordEvents(
      origin(),
      buckets.flatMap((b) => (b.is_interim ? [] : b.records)),
      threshold,
    );
  });
}
