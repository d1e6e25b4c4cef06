/**
 * The Watcher model (spec `watcher-ack.md` §2, §4.1): a stored watch is its configuration
 * ({@link WatchConfig}, already re-serialized the way GET shows it) and its status
 * ({@link WatchStatus}). Times are epoch ms internally and rendered as ISO 8601 UTC with three
 * fraction digits (`2015-05-26T18:04:27.723Z`), as Elasticsearch's `strict_date_optional_time`.
 */

/** Ack state of one action (`ActionStatus.AckStatus.State`), lower case on the wire. */
export type AckState = 'awaits_successful_execution' | 'ackable' | 'acked';

/** Watch-level `execution_state` (`ExecutionState`), spec §2.6. */
export type ExecutionState =
  | 'execution_not_needed'
  | 'throttled'
  | 'acknowledged'
  | 'executed'
  | 'failed'
  | 'threadpool_rejection'
  | 'not_executed_watch_missing'
  | 'not_executed_already_queued'
  | 'executed_multiple_times';

/** Status of one action (spec §2.2). `ack` is always there; the rest only once it happened. */
export interface ActionStatus {
  /**
   * `timestamp` = time of the last ack-state transition (epoch ms). `expires` (epoch ms) is an
   * mlplane extension: set by an ack with `?expires_in=`, the time the ack lapses back to
   * `awaits_successful_execution`; never set by Elasticsearch's own requests.
   */
  ack: { timestamp: number; state: AckState; expires?: number };
  /** `reason` only when `successful` is false ("" for exception-type failures). */
  last_execution?: { timestamp: number; successful: boolean; reason?: string };
  last_successful_execution?: { timestamp: number; successful: true };
  last_throttle?: { timestamp: number; reason: string };
}

/**
 * Status of a watch (spec §2.1). `version` is not stored: every API response overwrites it
 * with the document's `_version` read at that moment (spec §2.5), so {@link renderStatus}
 * takes it as an argument. `headers` are never shown and mlplane keeps none.
 */
export interface WatchStatus {
  /** `timestamp` = when `active` last changed (or was written by activate/deactivate/put). */
  state: { active: boolean; timestamp: number };
  last_checked?: number;
  last_met_condition?: number;
  /** Every action of the watch has an entry, in the watch's action order. */
  actions: Record<string, ActionStatus>;
  execution_state?: ExecutionState;
}

/** Schedule types of the `schedule` trigger (spec §4.1 table). */
export type ScheduleType = 'hourly' | 'daily' | 'weekly' | 'monthly' | 'yearly' | 'interval' | 'cron';

/**
 * The `schedule` trigger, re-serialized: `value` is what GET shows under the type key
 * (e.g. `{"minute":[0,5]}` for hourly, `"5m"` for interval, a string or an array for cron);
 * `timezone` only for cron-able schedules and only when given.
 */
export interface ScheduleTrigger {
  type: ScheduleType;
  value: unknown;
  timezone?: string;
}

/** A typed element (`{"<type>": <body>}` on the wire): an input, condition or transform. */
export interface TypedElement<T extends string = string> {
  type: T;
  /** The element's body as given (after validation), shown back as is. */
  body: unknown;
}

/** Input types mlplane runs (others are refused at put, spec §4.1 "Inputs"). */
export type InputType = 'simple' | 'none' | 'search' | 'http' | 'chain';
/** Condition types mlplane evaluates (`script` is refused at put). */
export type ConditionType = 'always' | 'never' | 'compare' | 'array_compare';
/** Transform types mlplane accepts (`script` is refused at put). */
export type TransformType = 'search' | 'chain';
/** Action types mlplane runs. */
export type ActionType = 'index' | 'logging' | 'webhook';

/** One action of a watch (`ActionWrapper`), in declaration order. */
export interface WatchAction {
  id: string;
  type: ActionType;
  /** The action type's body (`{"index":"test"}` for `{"index":{"index":"test"}}`). */
  body: unknown;
  /** Action-level throttle period; absent = the watch's, else the 5 s default. */
  throttle_period_in_millis?: number;
  condition?: TypedElement<ConditionType>;
  transform?: TypedElement<TransformType>;
  /** `foreach` path (e.g. `ctx.payload.hits.hits`). */
  foreach?: string;
  /** Only meaningful with `foreach`; Elasticsearch's default is 100. */
  max_iterations?: number;
}

/** The stored configuration of a watch: what GET shows under `watch` (never `status`). */
export interface WatchConfig {
  trigger: { schedule: ScheduleTrigger };
  input: TypedElement<InputType>;
  condition: TypedElement<ConditionType>;
  transform?: TypedElement<TransformType>;
  /** Actions in declaration order (an array: object keys that look like integers would reorder). */
  actions: WatchAction[];
  /** Watch-level throttle period, when given. */
  throttle_period_in_millis?: number;
  metadata?: Record<string, unknown>;
}

/** Elasticsearch's default throttle period of every action (`xpack.watcher.execution.default_throttle_period`): 5 s. */
export const DEFAULT_THROTTLE_PERIOD_MS = 5000;

/** Elasticsearch's default `max_iterations` of a `foreach` action. */
export const DEFAULT_MAX_ITERATIONS = 100;

/** Epoch ms → `2015-05-26T18:04:27.723Z` (UTC, three fraction digits). */
export const isoTime = (ms: number): string => new Date(ms).toISOString();

/** The wire form of a typed element: `{"<type>": <body>}`. */
export const renderTyped = (e: TypedElement): Record<string, unknown> => ({ [e.type]: e.body });

/** The wire form of one action status (optional members omitted, never null). */
export function renderActionStatus(a: ActionStatus): Record<string, unknown> {
  const ack: Record<string, unknown> = { timestamp: isoTime(a.ack.timestamp), state: a.ack.state };
  // Only an ack that used the `expires_in` extension shows it; every other status stays Elasticsearch's shape.
  if (a.ack.expires !== undefined) ack.expires = isoTime(a.ack.expires);
  const out: Record<string, unknown> = { ack };
  if (a.last_execution) {
    const e = a.last_execution;
    out.last_execution = e.successful ? { timestamp: isoTime(e.timestamp), successful: true } : { timestamp: isoTime(e.timestamp), successful: false, reason: e.reason ?? '' };
  }
  if (a.last_successful_execution) out.last_successful_execution = { timestamp: isoTime(a.last_successful_execution.timestamp), successful: true };
  if (a.last_throttle) out.last_throttle = { timestamp: isoTime(a.last_throttle.timestamp), reason: a.last_throttle.reason };
  return out;
}

/**
 * The wire form of a watch status in Elasticsearch's serialization order (`state`,
 * `last_checked`, `last_met_condition`, `actions`, `execution_state`, `version`); absent
 * members are omitted. `version` is the document `_version` the response reports (spec §2.5).
 */
export function renderStatus(s: WatchStatus, version: number): Record<string, unknown> {
  const out: Record<string, unknown> = { state: { active: s.state.active, timestamp: isoTime(s.state.timestamp) } };
  if (s.last_checked !== undefined) out.last_checked = isoTime(s.last_checked);
  if (s.last_met_condition !== undefined) out.last_met_condition = isoTime(s.last_met_condition);
  out.actions = Object.fromEntries(Object.entries(s.actions).map(([id, a]) => [id, renderActionStatus(a)]));
  if (s.execution_state !== undefined) out.execution_state = s.execution_state;
  out.version = version;
  return out;
}

/** The wire form of a schedule trigger: `{"schedule":{"<type>": value, "timezone"?: zone}}` (ScheduleTrigger.toXContent). */
export function renderTrigger(t: ScheduleTrigger): Record<string, unknown> {
  const schedule: Record<string, unknown> = { [t.type]: t.value };
  if (t.timezone !== undefined) schedule.timezone = t.timezone;
  return { schedule };
}

/** The wire form of one action (ActionWrapper.toXContent order: throttle, condition, transform, foreach, max_iterations, type). */
export function renderAction(a: WatchAction): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (a.throttle_period_in_millis !== undefined) out.throttle_period_in_millis = a.throttle_period_in_millis;
  if (a.condition) out.condition = renderTyped(a.condition);
  if (a.transform) out.transform = renderTyped(a.transform);
  if (a.foreach !== undefined) {
    out.foreach = a.foreach;
    out.max_iterations = a.max_iterations ?? DEFAULT_MAX_ITERATIONS;
  }
  out[a.type] = a.body;
  return out;
}

/** The watch as GET shows it under `watch` (Watch.toXContent order; never `status`). */
export function renderWatch(w: WatchConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { trigger: { schedule: renderTrigger(w.trigger.schedule).schedule }, input: renderTyped(w.input), condition: renderTyped(w.condition) };
  if (w.transform) out.transform = renderTyped(w.transform);
  if (w.throttle_period_in_millis !== undefined) out.throttle_period_in_millis = w.throttle_period_in_millis;
  out.actions = Object.fromEntries(w.actions.map((a) => [a.id, renderAction(a)]));
  if (w.metadata !== undefined) out.metadata = w.metadata;
  return out;
}
