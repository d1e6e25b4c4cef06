/**
 * Upgrade mode (spec A.4 and C, Elasticsearch's `TransportSetUpgradeModeAction` and
 * `MlUpgradeModeActionFilter`), on the command flow of DESIGN §2:
 *
 * - the request side ({@link setUpgradeMode}) takes the durable "request in progress" flag,
 *   turns the mode on at once (so every blocked action answers 429 from then on) and queues an
 *   `upgrade_mode` command in the `cluster` FIFO group;
 * - the worker side ({@link applyUpgradeMode}) isolates started datafeeds and waits until no
 *   command target is being carried out (leases, {@link holdLease}) when enabling; it re-queues
 *   the parked messages in their order and reassigns the datafeeds when disabling;
 * - the command runner asks {@link shouldPark} before it carries out a job or datafeed command:
 *   while upgrade mode is on the message is parked (kept in the table, in order, never counted
 *   as a failed delivery, never sent to the DLQ) and the record completes.
 *
 * Unlike Elasticsearch, nothing is killed: a job's model state is durable after every batch, so
 * upgrade mode lets a command finish its current step (a close step, a lookback chunk, a post)
 * and parks the rest, and disabling resumes exactly there, with no data lost and no results
 * deleted.
 */
import { CLUSTER_TARGET, messageGroupId, type Command, type CommandMessage, type CommandParams } from '../domain/command.ts';
import { EsError, IllegalStateError, Messages, TooManyRequestsError, WorkDeferred } from '../domain/errors.ts';
import { transitionDatafeed } from '../domain/lifecycle/datafeed.ts';
import { TimeValue } from '../domain/units.ts';
import { enqueueResumed } from '../queue/commands.ts';
import { logger } from '../runtime/log.ts';
import { type ClusterSettings, getClusterSettings, putClusterSettings } from '../store/cluster.ts';
import { listDatafeeds, putDatafeed } from '../store/datafeeds.ts';
import { deleteParked, listLeases, listParked, parkMessage, putLease, releaseLease, renewLease } from '../store/upgrade.ts';
import { StaleStateError } from '../domain/errors.ts';
import { awaitCommand, settle, submitCommand, type Queued } from './commands.ts';
import { isolateDatafeed } from './stop-datafeed.ts';
import { upgradeModeChanged } from './events-out.ts';

/** The set-upgrade-mode transport action (`SetUpgradeModeAction.NAME`). */
export const SET_UPGRADE_MODE_ACTION = 'cluster:admin/xpack/ml/upgrade_mode';

/** How long a lease lives without a heartbeat, ms: a crashed worker blocks the enable's acknowledgement at most this long. */
export const LEASE_MS = 30_000;
/** How often a worker renews the leases it holds, ms. */
export const HEARTBEAT_MS = 10_000;
/** Pause between two looks at the leases while enabling waits for in-flight work, ms. */
const DRAIN_POLL_MS = 200;
/** Time a wait step needs at most; with less left in the invocation the command hands itself on. */
const WAIT_MARGIN_MS = 5_000;
/** A request-in-progress flag older than its timeout plus this (a Lambda's longest life) belongs to a request that died. */
const STALE_CHANGE_GRACE_MS = 15 * 60_000;

/** The parsed parameters of `POST _ml/set_upgrade_mode`. */
export interface SetUpgradeModeParams {
  enabled: boolean;
  /** `timeout` (default 30s): the bound on waiting for in-flight work (enable) or for the resume (disable). */
  timeout: TimeValue;
  /** mlplane extension `expires_in`: upgrade mode switches itself off this long after it was enabled. */
  expiresIn?: TimeValue;
}

/** The Elasticsearch answer of a set_upgrade_mode request. */
export interface Acknowledged {
  acknowledged: true;
}

/** True while a set_upgrade_mode request holds the in-progress flag (one that outlived its timeout by {@link STALE_CHANGE_GRACE_MS} died and holds nothing). */
function changeInProgress(s: ClusterSettings, nowMs: number): boolean {
  const c = s.upgrade_mode_change;
  return c !== undefined && nowMs < c.started_ms + c.timeout_ms + STALE_CHANGE_GRACE_MS;
}

/**
 * Reads, changes and writes the cluster settings with their version as the condition,
 * retrying when another writer got in first.
 * @returns the settings as written, or undefined when `change` returned undefined (nothing to write)
 */
async function updateSettings(change: (s: ClusterSettings) => ClusterSettings | undefined): Promise<ClusterSettings | undefined> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const s = await getClusterSettings();
    const next = change(s);
    if (!next) return undefined;
    const written = { ...next, version: s.version + 1 };
    if (await putClusterSettings(written)) return written;
  }
  throw new StaleStateError('cluster settings changed concurrently');
}

/**
 * POST _ml/set_upgrade_mode?enabled=<bool>&timeout=<time> (spec A.4, C).
 *
 * - A request while another runs: 429 `status_exception` "Cannot change [upgrade_mode].
 *   Previous request is still being processed." with `caused_by` `illegal_state_exception`
 *   "Attempted to set [upgrade_mode] to [<new>] from [<old>] while previous request was processing.".
 * - The value it already has: `{"acknowledged":true}` at once (with `expires_in`, the expiry is moved).
 * - Enabling: the mode is on from this moment (blocked actions answer 429), then the worker
 *   isolates the started datafeeds and the answer waits until no command is being carried out.
 *   Past `timeout`: 429 `timeout_exception` naming what still runs, and the mode stays on.
 * - Disabling: the worker re-queues the parked messages in their order, reassigns the datafeeds
 *   and turns the mode off. Past `timeout`: 500 `illegal_state_exception` "Timed out when waiting
 *   for persistent tasks after <timeout>".
 *
 * When the gateway cap comes before the answer, 202 with the task (DESIGN §2.2).
 */
export async function setUpgradeMode(params: SetUpgradeModeParams, nowMs = Date.now()): Promise<Queued<Acknowledged>> {
  const timeoutMs = params.timeout.ms;
  let noop = false;
  let busy: ClusterSettings | undefined;
  const written = await updateSettings((s) => {
    noop = false;
    busy = undefined;
    if (changeInProgress(s, nowMs)) {
      busy = s;
      return undefined;
    }
    const expires = params.expiresIn ? { upgrade_mode_expires_ms: nowMs + params.expiresIn.ms } : {};
    if (params.enabled === s.upgrade_mode) {
      noop = true;
      return params.enabled && params.expiresIn ? { ...s, ...expires } : undefined;
    }
    const change = { to: params.enabled, from: s.upgrade_mode, command_id: '', started_ms: nowMs, timeout_ms: timeoutMs };
    if (params.enabled) {
      const { upgrade_mode_expires_ms: _, ...rest } = s;
      return { ...rest, upgrade_mode: true, upgrade_mode_since_ms: nowMs, ...expires, upgrade_mode_change: change };
    }
    // Disabling keeps the mode on (blocked actions still answer 429) until the parked work is queued again in its order.
    return { ...s, upgrade_mode_change: change };
  });
  if (busy) {
    const from = (busy as ClusterSettings).upgrade_mode;
    throw new TooManyRequestsError(Messages.upgradeModeBusy, { cause: new IllegalStateError(Messages.upgradeModeBusyDetail(params.enabled, from)) });
  }
  if (noop) return { kind: 'done', response: { acknowledged: true } };
  // Enabling takes effect with this write (blocked actions answer 429 from now on); disabling only when the worker has resumed the parked work.
  if (params.enabled && written) {
    await upgradeModeChanged(
      { enabled: true, previous: false, version: written.version, ...(written.upgrade_mode_expires_ms !== undefined ? { expiresMs: written.upgrade_mode_expires_ms } : {}) },
      nowMs,
    );
  }
  let cmd: Command;
  try {
    cmd = await submitUpgradeModeCommand(params.enabled, timeoutMs, `set upgrade_mode [${params.enabled}]`);
  } catch (err) {
    // Never queued: the flag goes, so the next request is not refused for a request that never ran.
    await updateSettings((s) => (s.upgrade_mode_change?.started_ms === nowMs ? withoutChange(s) : undefined));
    throw err;
  }
  // The worker enforces `timeout` and answers with Elasticsearch's error; the HTTP wait allows it a moment more to say so.
  const outcome = await awaitCommand(cmd.command_id, timeoutMs + 5_000, nowMs);
  return settle(
    cmd.task_id,
    outcome,
    () => timeoutError(params.enabled, params.timeout, undefined),
    () => ({ acknowledged: true as const }),
  );
}

/** The settings without the request-in-progress flag. */
function withoutChange(s: ClusterSettings): ClusterSettings {
  const { upgrade_mode_change: _, ...rest } = s;
  return rest;
}

/** Elasticsearch's error for a set_upgrade_mode that ran out of `timeout`. */
function timeoutError(enabled: boolean, timeout: TimeValue, waitingFor: string | undefined): EsError {
  if (!enabled) return new IllegalStateError(Messages.persistentTasksTimeout(timeout.human()));
  // The list-tasks wait of TransportSetUpgradeModeAction times out with ElasticsearchTimeoutException (429 timeout_exception).
  return new EsError('timeout_exception', 429, `Timed out waiting for completion of [${waitingFor ?? 'in-flight machine learning work'}]`);
}

/**
 * The worker side of set_upgrade_mode (`upgrade_mode` command, target {@link CLUSTER_TARGET},
 * FIFO group `cluster`). Idempotent under redelivery: each step looks at the current state.
 * With less than a few seconds left in the invocation it hands itself on (WorkDeferred).
 * @returns `{acknowledged:true}`
 * @throws EsError on timeout (see {@link setUpgradeMode}); the flag is released either way
 */
export async function applyUpgradeMode(cmd: Command, params: CommandParams<'upgrade_mode'>, remainingMs?: () => number): Promise<Acknowledged> {
  const deadline = cmd.created_ms + params.timeout_ms;
  const timeout = TimeValue.ofMillis(params.timeout_ms);
  const s = await getClusterSettings();
  // A redelivery after the request finished (the flag is gone, the mode is as asked): nothing to do.
  if (s.upgrade_mode_change?.to !== params.enabled) return { acknowledged: true };
  try {
    if (params.enabled) await enable(cmd, deadline, timeout, remainingMs);
    else await disable(deadline, timeout, remainingMs);
  } catch (err) {
    if (!(err instanceof WorkDeferred)) await updateSettings((cur) => (cur.upgrade_mode_change ? withoutChange(cur) : undefined));
    throw err;
  }
  return { acknowledged: true };
}

async function enable(cmd: Command, deadline: number, timeout: TimeValue, remainingMs?: () => number): Promise<void> {
  // Spec C step 4: started datafeeds are isolated (they post nothing more and will not close their jobs). Failures are ignored, as in Elasticsearch.
  for (const d of await listDatafeeds()) {
    if (d.runtime.state === 'stopped') continue;
    try {
      await isolateDatafeed(d.config.datafeed_id);
    } catch (err) {
      logger.warn('datafeed could not be isolated for upgrade mode', { datafeedId: d.config.datafeed_id, err });
    }
  }
  // Spec C step 6: wait until nothing is being carried out (every running command finished its step and parked, or finished).
  for (;;) {
    const now = Date.now();
    const live = (await listLeases()).filter((l) => l.until_ms > now && l.command_id !== cmd.command_id);
    if (live.length === 0) break;
    if (now >= deadline) throw timeoutError(true, timeout, live.map((l) => `${l.command_id} on ${l.target}`).join(', '));
    if (remainingMs && remainingMs() < WAIT_MARGIN_MS) throw new WorkDeferred('upgrade mode waits for in-flight work in the next invocation');
    await new Promise((r) => setTimeout(r, Math.min(DRAIN_POLL_MS, deadline - now)));
  }
  await updateSettings((cur) => (cur.upgrade_mode_change?.to === true ? withoutChange(cur) : undefined));
}

async function disable(deadline: number, timeout: TimeValue, remainingMs?: () => number): Promise<void> {
  // Re-queue the parked messages in the order they were parked. A message of a group with parked
  // work that arrives meanwhile is parked behind it (shouldPark), so the loop runs until none is left.
  for (;;) {
    const parked = await listParked();
    if (parked.length === 0) break;
    for (const p of parked) {
      if (Date.now() >= deadline) throw timeoutError(false, timeout, undefined);
      if (remainingMs && remainingMs() < WAIT_MARGIN_MS) throw new WorkDeferred('upgrade mode resumes parked work in the next invocation');
      await enqueueResumed(p.command_id, p.target, p.sk);
      await deleteParked(p.sk);
    }
  }
  // The datafeeds' tasks are assigned again, no longer isolated: a lookback resumes with its parked message, a real-time datafeed on its next tick.
  for (const d of await listDatafeeds()) {
    const next = transitionDatafeed(d.runtime, { type: 'reassign' });
    if (next === d.runtime) continue;
    try {
      await putDatafeed(d.config, next);
    } catch (err) {
      if (!(err instanceof StaleStateError)) throw err;
    }
  }
  const off = await updateSettings((cur) => {
    if (cur.upgrade_mode_change?.to !== false) return undefined;
    const { upgrade_mode_since_ms: _a, upgrade_mode_expires_ms: _b, ...rest } = withoutChange(cur);
    return { ...rest, upgrade_mode: false };
  });
  if (off) await upgradeModeChanged({ enabled: false, previous: true, version: off.version });
}

/**
 * Whether the runner parks this message instead of carrying it out: job and datafeed commands
 * while upgrade mode is on; while it is being disabled, a message of a group that still has
 * parked messages (so it runs after them, in its original order) unless it is one of those
 * messages re-queued. Cluster commands (set_upgrade_mode itself) never park.
 */
export async function shouldPark(cmd: Pick<Command, 'action'>, message: CommandMessage): Promise<boolean> {
  // ML upgrade mode halts ML work only: watch executions go on, as Elasticsearch's Watcher does.
  if (cmd.action === 'upgrade_mode' || cmd.action === 'watch') return false;
  const s = await getClusterSettings();
  if (!s.upgrade_mode) return false;
  if (s.upgrade_mode_change?.to !== false) return true;
  if (message.resumed) return false;
  const group = messageGroupId(message.target);
  return (await listParked()).some((p) => messageGroupId(p.target) === group);
}

/** Parks a command message (see {@link shouldPark}); it runs again, in order, when upgrade mode is disabled. */
export async function park(message: CommandMessage, why: string): Promise<void> {
  await parkMessage(message.command_id, message.target);
  logger.info('command parked while upgrade mode is on', { commandId: message.command_id, target: message.target, why });
}

/**
 * Takes the lease of a command target for as long as the worker carries it out, renewed every
 * {@link HEARTBEAT_MS}: enabling upgrade mode waits until no live lease is left.
 * @returns the release, to call when the work ends (however it ends)
 */
export async function holdLease(commandId: string, target: string): Promise<() => Promise<void>> {
  await putLease(commandId, target, Date.now() + LEASE_MS);
  const timer = setInterval(() => {
    renewLease(commandId, target, Date.now() + LEASE_MS).catch((err) => logger.warn('lease renewal failed', { commandId, target, err }));
  }, HEARTBEAT_MS);
  timer.unref?.();
  return async () => {
    clearInterval(timer);
    await releaseLease(commandId, target);
  };
}

/**
 * What `GET _ml/info` adds while upgrade mode is on (mlplane extension, next to
 * `upgrade_mode`): since when (ISO-8601), when it expires if `expires_in` was given, and how
 * many command messages are parked.
 */
export async function upgradeModeDetails(s: ClusterSettings): Promise<Record<string, unknown>> {
  if (!s.upgrade_mode) return {};
  const out: Record<string, unknown> = {};
  if (s.upgrade_mode_since_ms !== undefined) out.upgrade_mode_since = new Date(s.upgrade_mode_since_ms).toISOString();
  if (s.upgrade_mode_expires_ms !== undefined) out.upgrade_mode_expires = new Date(s.upgrade_mode_expires_ms).toISOString();
  out.parked_commands = (await listParked()).length;
  return out;
}

/**
 * The schedule's look at upgrade mode (every minute): when it was enabled with `expires_in`
 * and the time has come, it is disabled (a set_upgrade_mode command, not waited for) and the
 * fact is logged. Also reports how long it has been on, for the CloudWatch alarm.
 * @returns seconds upgrade mode has been on (0 when off), and whether it was expired now
 */
export async function checkUpgradeModeExpiry(nowMs = Date.now()): Promise<{ onSeconds: number; expired: boolean }> {
  const s = await getClusterSettings();
  if (!s.upgrade_mode) return { onSeconds: 0, expired: false };
  const onSeconds = Math.floor((nowMs - (s.upgrade_mode_since_ms ?? nowMs)) / 1000);
  if (s.upgrade_mode_expires_ms === undefined || nowMs < s.upgrade_mode_expires_ms || changeInProgress(s, nowMs)) return { onSeconds, expired: false };
  logger.warn('upgrade mode expired; disabling it', { since: s.upgrade_mode_since_ms, expires: s.upgrade_mode_expires_ms });
  try {
    await startDisable(nowMs);
  } catch (err) {
    if (!(err instanceof TooManyRequestsError)) throw err;
  }
  return { onSeconds, expired: true };
}

/** Starts a disable without waiting for it (the expiry's path). */
async function startDisable(nowMs: number): Promise<void> {
  const timeout = TimeValue.ofMillis(10 * 60_000);
  const changed = await updateSettings((s) =>
    !s.upgrade_mode || changeInProgress(s, nowMs) ? undefined : { ...s, upgrade_mode_change: { to: false, from: true, command_id: '', started_ms: nowMs, timeout_ms: timeout.ms } },
  );
  if (!changed) return;
  await submitUpgradeModeCommand(false, timeout.ms, 'set upgrade_mode [false] (expired)');
}

/** Queues the `upgrade_mode` command (worker side: {@link applyUpgradeMode}) in the `cluster` FIFO group. */
function submitUpgradeModeCommand(enabled: boolean, timeoutMs: number, description: string): Promise<Command> {
  return submitCommand({
    action: 'upgrade_mode',
    es_action: SET_UPGRADE_MODE_ACTION,
    description,
    targets: [CLUSTER_TARGET],
    params: { enabled, timeout_ms: timeoutMs },
  });
}
