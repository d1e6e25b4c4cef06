/**
 * The watch status state machine (spec `watcher-ack.md` §2.3–2.4) as pure functions: each
 * takes a status and returns a new one, never mutating its argument, so a caller can compare
 * before and after and write only when something changed. Mirrors Elasticsearch's
 * `WatchStatus` and `ActionStatus` (`onAck`, `onCheck`, `update`, `resetAckStatus`).
 */
import type { ActionStatus, WatchStatus } from './types.ts';

/** The outcome of one action in an execution, as `ActionStatus.update` sees it. */
export type ActionOutcome =
  | { status: 'success' | 'simulated' }
  | { status: 'failure'; reason: string }
  | { status: 'throttled'; reason: string }
  | { status: 'acknowledged' | 'condition_failed' | 'partial_failure' };

/** The id that targets every action in an ack (`WatchStatus.onAck`). */
export const ALL_ACTIONS = '_all';

/**
 * The status of a freshly put watch (row 0 / 15): every action `awaits_successful_execution`
 * at `nowMs`, `state` = `{active, nowMs}`, no `last_*`, no `execution_state`.
 */
export function freshStatus(actionIds: readonly string[], nowMs: number, active: boolean): WatchStatus {
  return {
    state: { active, timestamp: nowMs },
    actions: Object.fromEntries(actionIds.map((id) => [id, { ack: { timestamp: nowMs, state: 'awaits_successful_execution' } } satisfies ActionStatus])),
  };
}

/**
 * Put with `version`/`if_seq_no` is a partial update of the stored document (spec §2.3): the
 * fresh status's `state` and each action's `ack` overwrite the old ones, while `last_checked`,
 * `last_met_condition`, `execution_state` and each surviving action's `last_*` stay. Actions
 * no longer in the watch are dropped (Elasticsearch's merge would keep their entries in the
 * document, where nothing reads them).
 */
export function mergeStatus(old: WatchStatus, fresh: WatchStatus): WatchStatus {
  const actions: Record<string, ActionStatus> = {};
  for (const [id, a] of Object.entries(fresh.actions)) actions[id] = { ...old.actions[id], ack: a.ack };
  return { ...old, state: fresh.state, actions };
}

/**
 * `ActionStatus.onAck`: only `ackable → acked` at `nowMs` (row 7); rows 4 and 14 change nothing.
 * With `expiresInMs` (the mlplane `expires_in` extension) the ack carries `expires` = `nowMs + expiresInMs`.
 */
function ackAction(a: ActionStatus, nowMs: number, expiresInMs: number | undefined): ActionStatus | undefined {
  if (a.ack.state !== 'ackable') return undefined;
  return { ...a, ack: { timestamp: nowMs, state: 'acked', ...(expiresInMs === undefined ? {} : { expires: nowMs + expiresInMs }) } };
}

/**
 * The ack API's transition (`WatchStatus.onAck`, spec §1.3 steps 5–6): `actionIds` empty or
 * containing `_all` targets every action; unknown ids are ignored.
 * @param nowMs wall-clock time of the ack request
 * @param expiresInMs mlplane extension (`?expires_in=`): how long the acks made now last (ms, > 0)
 * @returns the new status and whether any action changed (no change = no write, 200 as is)
 */
export function onAck(status: WatchStatus, actionIds: readonly string[], nowMs: number, expiresInMs?: number): { status: WatchStatus; changed: boolean } {
  const all = actionIds.length === 0 || actionIds.includes(ALL_ACTIONS);
  const targets = all ? Object.keys(status.actions) : actionIds;
  const actions = { ...status.actions };
  let changed = false;
  for (const id of targets) {
    const a = Object.hasOwn(actions, id) ? actions[id] : undefined;
    if (!a) continue;
    const next = ackAction(a, nowMs, expiresInMs);
    if (next) {
      actions[id] = next;
      changed = true;
    }
  }
  return { status: changed ? { ...status, actions } : status, changed };
}

/**
 * The mlplane `expires_in` extension: every `acked` action whose `ack.expires` is at or before
 * `nowMs` goes back to `awaits_successful_execution`, timestamped at its expiry (when it
 * lapsed, not when it was noticed). Other actions are untouched.
 * @returns the new status (the same object when nothing expired) and the expired action ids
 */
export function expireAcks(status: WatchStatus, nowMs: number): { status: WatchStatus; expired: string[] } {
  const expired = Object.entries(status.actions)
    .filter(([, a]) => a.ack.state === 'acked' && a.ack.expires !== undefined && a.ack.expires <= nowMs)
    .map(([id]) => id);
  if (expired.length === 0) return { status, expired };
  const actions = { ...status.actions };
  for (const id of expired) {
    const a = actions[id] as ActionStatus;
    actions[id] = { ...a, ack: { timestamp: a.ack.expires as number, state: 'awaits_successful_execution' } };
  }
  return { status: { ...status, actions }, expired };
}

/** `ActionStatus.resetAckStatus`: any state but `awaits_successful_execution` goes back to it at `tsMs` (rows 8, 9, 11, 13). */
export function resetAck(a: ActionStatus, tsMs: number): ActionStatus {
  return a.ack.state === 'awaits_successful_execution' ? a : { ...a, ack: { timestamp: tsMs, state: 'awaits_successful_execution' } };
}

/** Resets one action of a watch (an action-level condition was false: rows 9, 13; `tsMs` = wall-clock now). */
export function resetActionAck(status: WatchStatus, actionId: string, tsMs: number): WatchStatus {
  const a = status.actions[actionId];
  if (!a) return status;
  return { ...status, actions: { ...status.actions, [actionId]: resetAck(a, tsMs) } };
}

/**
 * `WatchStatus.onCheck`: the watch condition was evaluated at execution time `tsMs`. Always
 * sets `last_checked`; met sets `last_met_condition`; not met resets every action's ack
 * (rows 5, 8, 11).
 */
export function onCheck(status: WatchStatus, met: boolean, tsMs: number): WatchStatus {
  if (met) return { ...status, last_checked: tsMs, last_met_condition: tsMs };
  const actions = Object.fromEntries(Object.entries(status.actions).map(([id, a]) => [id, resetAck(a, tsMs)]));
  return { ...status, last_checked: tsMs, actions };
}

/**
 * `ActionStatus.update`: one action's result at execution time `tsMs` (rows 1, 2, 3, 6, 10, 12).
 * - success/simulated: `last_execution` and `last_successful_execution`; awaits → ackable (ack ts = `tsMs`);
 * - failure: `last_execution` with the reason; nothing else;
 * - throttled (period, licence, `skip`): `last_throttle`; nothing else;
 * - acknowledged, condition_failed, partial_failure: no change at all.
 */
export function actionUpdate(a: ActionStatus, tsMs: number, outcome: ActionOutcome): ActionStatus {
  switch (outcome.status) {
    case 'success':
    case 'simulated': {
      const ack = a.ack.state === 'awaits_successful_execution' ? { timestamp: tsMs, state: 'ackable' as const } : a.ack;
      return { ...a, ack, last_execution: { timestamp: tsMs, successful: true }, last_successful_execution: { timestamp: tsMs, successful: true } };
    }
    case 'failure':
      return { ...a, last_execution: { timestamp: tsMs, successful: false, reason: outcome.reason } };
    case 'throttled':
      return { ...a, last_throttle: { timestamp: tsMs, reason: outcome.reason } };
    default:
      return a;
  }
}

/** {@link actionUpdate} applied to one action of a watch status (`WatchStatus.onActionResult`); unknown ids change nothing. */
export function onActionResult(status: WatchStatus, actionId: string, tsMs: number, outcome: ActionOutcome): WatchStatus {
  const a = status.actions[actionId];
  if (!a) return status;
  return { ...status, actions: { ...status.actions, [actionId]: actionUpdate(a, tsMs, outcome) } };
}

/** Activate/deactivate (spec §2.7): always writes `{active, timestamp: nowMs}`, even when unchanged. */
export function setActive(status: WatchStatus, active: boolean, nowMs: number): WatchStatus {
  return { ...status, state: { active, timestamp: nowMs } };
}
