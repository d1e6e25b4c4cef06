/**
 * Events out (DESIGN §5): the facts mlplane publishes to an EventBridge bus so users route
 * them with ordinary rules (to SNS, Slack, PagerDuty). Pure: the schemas, the detail of each
 * detail-type and the builders; `lib/queue/events.ts` sends them.
 *
 * Every event has source {@link EVENT_SOURCE} (`mlplane`, fixed: it is what rules match on)
 * and one detail-type per kind ({@link EVENT_DETAIL_TYPES}). Every detail carries
 * `cluster_name`, `node_name`, `timestamp` (epoch ms of the fact) and an `event_id` that is
 * derived from the fact itself (a hash of the entity, the transition and the stored version or
 * command id that made it), so the same fact published twice (a redelivered worker message, a
 * retried call) has the same `event_id` and consumers can drop the copy. EventBridge's own
 * envelope `id` is new on every `PutEvents` call, so it cannot serve for that.
 *
 * Elasticsearch has no such events (its nearest are the ML notifications, `.ml-notifications-*`);
 * the shapes use Elasticsearch's field names (job_id, datafeed_id, record_score, …).
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { IllegalArgumentError } from './errors.ts';

/** The `source` of every mlplane event. */
export const EVENT_SOURCE = 'mlplane';

/** The detail-types mlplane publishes, one per kind of fact. */
export const EVENT_DETAIL_TYPES = {
  jobState: 'ML Job State Change',
  datafeedState: 'ML Datafeed State Change',
  commandFailed: 'ML Command Failed',
  upgradeMode: 'ML Upgrade Mode Change',
  anomalyRecord: 'ML Anomaly Record',
} as const;
export type EventDetailType = (typeof EVENT_DETAIL_TYPES)[keyof typeof EVENT_DETAIL_TYPES];

/**
 * The `custom_settings` key that turns anomaly events on for a job: a number from 0 to 100;
 * each final anomaly record whose `record_score` is at or above it is published as an
 * `ML Anomaly Record` event when it is first written. Absent: no anomaly events for the job.
 */
export const RECORD_SCORE_THRESHOLD_SETTING = 'event_record_score_threshold';

const base = {
  /** Stable id of the fact (see the module comment): 32 hex digits in UUID form. */
  event_id: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
  cluster_name: z.string().min(1),
  node_name: z.string().min(1),
  /** When the fact happened (the anomaly record's: its bucket start), epoch ms. */
  timestamp: z.number().int().nonnegative(),
};

const jobStates = z.enum(['closed', 'opening', 'opened', 'closing', 'failed']);
const datafeedStates = z.enum(['stopped', 'starting', 'started', 'stopping']);

/**
 * `ML Job State Change`: a job moved from `previous_state` to `state`. `reason` when there is
 * one: the failure's text for `failed`, `force_close` for a forced close (also by delete),
 * `datafeed_<stop reason>` on `closing` and `closed` when its datafeed closed it
 * (`datafeed_end_reached`, `datafeed_max_empty_searches`, `datafeed_stop_requested`, `datafeed_extraction_error`).
 */
export const jobStateChangeSchema = z.strictObject({
  ...base,
  job_id: z.string().min(1),
  state: jobStates,
  previous_state: jobStates,
  reason: z.string().min(1).optional(),
});
export type JobStateChangeDetail = z.infer<typeof jobStateChangeSchema>;

/**
 * Why a datafeed stopped, as its runner or a request decided:
 * - `stop_requested`: `POST _ml/datafeeds/<id>/_stop` (or a close of its job that stopped it first);
 * - `force_stop_requested`: the same with `force`;
 * - `end_reached`: a datafeed started with an `end` finished its lookback there (its job closes);
 * - `extraction_error`: a lookback to an `end` ended on a search error (audited too; its job closes);
 * - `max_empty_searches`: a real-time datafeed whose job never saw data reached `max_empty_searches`;
 * - `job_closed`: its job was closed (or force-closed) under it;
 * - `job_failed`: its job failed under it;
 * - `datafeed_deleted`: `DELETE _ml/datafeeds/<id>?force=true` of a running datafeed.
 */
export const DATAFEED_STOP_REASONS = [
  'stop_requested',
  'force_stop_requested',
  'end_reached',
  'extraction_error',
  'max_empty_searches',
  'job_closed',
  'job_failed',
  'datafeed_deleted',
] as const;
export type DatafeedStopReason = (typeof DATAFEED_STOP_REASONS)[number];

/** `ML Datafeed State Change`: a datafeed moved from `previous_state` to `state`; `reason` only (and always) for `stopped`. */
export const datafeedStateChangeSchema = z
  .strictObject({
    ...base,
    datafeed_id: z.string().min(1),
    job_id: z.string().min(1),
    state: datafeedStates,
    previous_state: datafeedStates,
    reason: z.enum(DATAFEED_STOP_REASONS).optional(),
  })
  .refine((d) => (d.state === 'stopped') === (d.reason !== undefined), 'reason is given for stopped, and only for stopped');
export type DatafeedStateChangeDetail = z.infer<typeof datafeedStateChangeSchema>;

/**
 * `ML Command Failed`: a queued command (close, update, open, post data, flush, datafeed, …)
 * failed for one of its targets. `action` is mlplane's command action (`close`, `update`, …),
 * `es_action` Elasticsearch's transport action name; `target` is the job id (or `_cluster`,
 * `watch:<id>`), `job_id` is set when the target is a job; `task_id` is the `GET _tasks/<id>`
 * id of the command; `error` is the Elasticsearch error its client got.
 */
export const commandFailedSchema = z.strictObject({
  ...base,
  action: z.string().min(1),
  es_action: z.string().min(1),
  target: z.string().min(1),
  job_id: z.string().min(1).optional(),
  task_id: z.string().min(1),
  command_id: z.string().min(1),
  description: z.string().optional(),
  error: z.strictObject({ type: z.string(), reason: z.string(), status: z.number().int() }),
});
export type CommandFailedDetail = z.infer<typeof commandFailedSchema>;

/** `ML Upgrade Mode Change`: upgrade mode turned `enabled` (was `previous`); `expires_at` (ISO-8601) when it was enabled with `expires_in`. */
export const upgradeModeChangeSchema = z.strictObject({
  ...base,
  enabled: z.boolean(),
  previous: z.boolean(),
  expires_at: z.string().optional(),
});
export type UpgradeModeChangeDetail = z.infer<typeof upgradeModeChangeSchema>;

/**
 * `ML Anomaly Record`: one final anomaly record (`result_type: record`) whose `record_score`
 * reached the job's `custom_settings.event_record_score_threshold`, published when it is first
 * written (not again when renormalization changes its score). `timestamp` is its bucket's
 * start, epoch ms; `bucket_span` in seconds; the field names and values are those of the record.
 */
export const anomalyRecordSchema = z.strictObject({
  ...base,
  job_id: z.string().min(1),
  result_type: z.literal('record'),
  detector_index: z.number().int().nonnegative(),
  record_score: z.number(),
  initial_record_score: z.number(),
  probability: z.number(),
  function: z.string(),
  field_name: z.string().optional(),
  by_field_name: z.string().optional(),
  by_field_value: z.string().optional(),
  partition_field_name: z.string().optional(),
  partition_field_value: z.string().optional(),
  over_field_name: z.string().optional(),
  over_field_value: z.string().optional(),
  actual: z.array(z.number()),
  typical: z.array(z.number()),
  bucket_span: z.number().int().positive(),
  record_score_threshold: z.number(),
});
export type AnomalyRecordDetail = z.infer<typeof anomalyRecordSchema>;

/** The detail schema of each detail-type. */
export const EVENT_DETAIL_SCHEMAS = {
  [EVENT_DETAIL_TYPES.jobState]: jobStateChangeSchema,
  [EVENT_DETAIL_TYPES.datafeedState]: datafeedStateChangeSchema,
  [EVENT_DETAIL_TYPES.commandFailed]: commandFailedSchema,
  [EVENT_DETAIL_TYPES.upgradeMode]: upgradeModeChangeSchema,
  [EVENT_DETAIL_TYPES.anomalyRecord]: anomalyRecordSchema,
} as const;

/** One event to publish: its detail-type, its detail and the ARNs-or-ids it concerns (EventBridge `resources`, empty here). */
export type MlEvent =
  | { detailType: typeof EVENT_DETAIL_TYPES.jobState; detail: JobStateChangeDetail }
  | { detailType: typeof EVENT_DETAIL_TYPES.datafeedState; detail: DatafeedStateChangeDetail }
  | { detailType: typeof EVENT_DETAIL_TYPES.commandFailed; detail: CommandFailedDetail }
  | { detailType: typeof EVENT_DETAIL_TYPES.upgradeMode; detail: UpgradeModeChangeDetail }
  | { detailType: typeof EVENT_DETAIL_TYPES.anomalyRecord; detail: AnomalyRecordDetail };

/**
 * The stable id of a fact: SHA-256 of its parts (joined with NUL, which no id contains),
 * shown as a UUID (the first 128 bits, version nibble 8, RFC 9562's custom UUID). The same
 * parts give the same id in every process, so a republished fact is recognisable.
 */
export function factId(...parts: (string | number)[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  const variant = ((Number.parseInt(h[16] as string, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Who publishes: the cluster and node names of `GET /` (config). */
export interface EventOrigin {
  clusterName: string;
  nodeName: string;
}

/** The fields every event's detail starts with (`base`): its fact id, the publisher, and when the fact happened (epoch ms). */
function baseFields(origin: EventOrigin, eventId: string, timestampMs: number) {
  return { event_id: eventId, cluster_name: origin.clusterName, node_name: origin.nodeName, timestamp: timestampMs };
}

/**
 * `ML Job State Change` for one committed job runtime write. The id derives from the job, the
 * new state and the runtime item's version after the write (one write makes one version).
 * @returns undefined when the state did not change
 */
export function jobStateChangeEvent(
  origin: EventOrigin,
  move: { jobId: string; previous: z.infer<typeof jobStates>; state: z.infer<typeof jobStates>; version: number; nowMs: number; reason?: string },
): MlEvent | undefined {
  if (move.previous === move.state) return undefined;
  return {
    detailType: EVENT_DETAIL_TYPES.jobState,
    detail: jobStateChangeSchema.parse({
      ...baseFields(origin, factId('job', move.jobId, move.state, move.version), move.nowMs),
      job_id: move.jobId,
      state: move.state,
      previous_state: move.previous,
      ...(move.reason ? { reason: move.reason } : {}),
    }),
  };
}

/**
 * `ML Datafeed State Change` for one committed datafeed write (id: datafeed, new state, the
 * item's version after the write).
 * @returns undefined when the state did not change
 */
export function datafeedStateChangeEvent(
  origin: EventOrigin,
  move: {
    datafeedId: string;
    jobId: string;
    previous: z.infer<typeof datafeedStates>;
    state: z.infer<typeof datafeedStates>;
    version: number;
    nowMs: number;
    reason?: DatafeedStopReason;
  },
): MlEvent | undefined {
  if (move.previous === move.state) return undefined;
  return {
    detailType: EVENT_DETAIL_TYPES.datafeedState,
    detail: datafeedStateChangeSchema.parse({
      ...baseFields(origin, factId('datafeed', move.datafeedId, move.state, move.version), move.nowMs),
      datafeed_id: move.datafeedId,
      job_id: move.jobId,
      state: move.state,
      previous_state: move.previous,
      ...(move.state === 'stopped' ? { reason: move.reason ?? 'stop_requested' } : {}),
    }),
  };
}

/** `ML Command Failed` for one target's failed outcome (id: command and target: one outcome per target). */
export function commandFailedEvent(
  origin: EventOrigin,
  failure: {
    commandId: string;
    taskId: string;
    action: string;
    esAction: string;
    target: string;
    jobId?: string;
    description?: string;
    error: { type: string; reason: string; status: number };
    nowMs: number;
  },
): MlEvent {
  return {
    detailType: EVENT_DETAIL_TYPES.commandFailed,
    detail: commandFailedSchema.parse({
      ...baseFields(origin, factId('command_failed', failure.commandId, failure.target), failure.nowMs),
      action: failure.action,
      es_action: failure.esAction,
      target: failure.target,
      ...(failure.jobId ? { job_id: failure.jobId } : {}),
      task_id: failure.taskId,
      command_id: failure.commandId,
      ...(failure.description !== undefined ? { description: failure.description } : {}),
      error: failure.error,
    }),
  };
}

/** `ML Upgrade Mode Change` for one committed settings write (id: the settings version written). */
export function upgradeModeChangeEvent(origin: EventOrigin, change: { enabled: boolean; previous: boolean; expiresMs?: number; version: number; nowMs: number }): MlEvent {
  return {
    detailType: EVENT_DETAIL_TYPES.upgradeMode,
    detail: upgradeModeChangeSchema.parse({
      ...baseFields(origin, factId('upgrade_mode', change.enabled ? 'enabled' : 'disabled', change.version), change.nowMs),
      enabled: change.enabled,
      previous: change.previous,
      ...(change.expiresMs !== undefined ? { expires_at: new Date(change.expiresMs).toISOString() } : {}),
    }),
  };
}

/**
 * The job's anomaly event threshold from `custom_settings` (see {@link RECORD_SCORE_THRESHOLD_SETTING}).
 * @returns the threshold, or undefined when the key is absent (no anomaly events)
 * @throws IllegalArgumentError 400 `[custom_settings.event_record_score_threshold] must be a number between 0 and 100, found [<value>]`:
 *   custom_settings is free-form in Elasticsearch, so this check is mlplane's own, run by put and update job.
 */
export function recordScoreThreshold(customSettings: Record<string, unknown> | undefined): number | undefined {
  if (!customSettings || !(RECORD_SCORE_THRESHOLD_SETTING in customSettings)) return undefined;
  const v = customSettings[RECORD_SCORE_THRESHOLD_SETTING];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 100) {
    throw new IllegalArgumentError(`[custom_settings.${RECORD_SCORE_THRESHOLD_SETTING}] must be a number between 0 and 100, found [${JSON.stringify(v) ?? String(v)}]`);
  }
  return v;
}

/** The parts of a model record an anomaly event shows (`lib/detect`'s RecordResult fits it). */
export interface RecordLike {
  job_id: string;
  timestamp: number;
  detector_index: number;
  is_interim: boolean;
  record_score: number;
  initial_record_score: number;
  probability: number;
  function: string;
  bucket_span: number;
  actual: number[];
  typical: number[];
  field_name?: string;
  by_field_name?: string;
  by_field_value?: string;
  partition_field_name?: string;
  partition_field_value?: string;
  over_field_name?: string;
  over_field_value?: string;
}

/**
 * `ML Anomaly Record` events for the final records of newly written buckets whose
 * `record_score` is at or above `threshold` (interim records are left out: their final
 * version comes later). The id derives from the record's identity (job, bucket, detector,
 * series), so rewriting the same bucket on a redelivery gives the same ids.
 */
export function anomalyRecordEvents(origin: EventOrigin, records: Iterable<RecordLike>, threshold: number): MlEvent[] {
  const out: MlEvent[] = [];
  for (const r of records) {
    if (r.is_interim || r.record_score < threshold) continue;
    const series = [r.by_field_value ?? '', r.partition_field_value ?? '', r.over_field_value ?? '', r.field_name ?? ''];
    const optional = (k: keyof RecordLike) => (r[k] !== undefined ? { [k]: r[k] } : {});
    out.push({
      detailType: EVENT_DETAIL_TYPES.anomalyRecord,
      detail: anomalyRecordSchema.parse({
        ...baseFields(origin, factId('record', r.job_id, r.timestamp, r.detector_index, ...series), r.timestamp),
        job_id: r.job_id,
        result_type: 'record',
        detector_index: r.detector_index,
        record_score: r.record_score,
        initial_record_score: r.initial_record_score,
        probability: r.probability,
        function: r.function,
        ...optional('field_name'),
        ...optional('by_field_name'),
        ...optional('by_field_value'),
        ...optional('partition_field_name'),
        ...optional('partition_field_value'),
        ...optional('over_field_name'),
        ...optional('over_field_value'),
        actual: r.actual,
        typical: r.typical,
        bucket_span: r.bucket_span,
        record_score_threshold: threshold,
      }),
    });
  }
  return out;
}
