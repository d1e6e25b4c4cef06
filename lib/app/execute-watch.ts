/**
 * Watch executions (spec watcher-ack §4.3): `POST|PUT _watcher/watch/{id}/_execute` and
 * `_watcher/watch/_execute` with an inline watch, and the scheduled executions the watch
 * trigger submits ({@link submitScheduledExecution}).
 *
 * A stored watch runs as a `watch` command in its own FIFO group (`watch/<id>`), so an ack
 * or another execution of the same watch never overlaps it; while it runs the watch item
 * carries `running_since_ms` (the ack's 409 reads it). An inline watch is never stored nor
 * recorded, so it runs at once in the request.
 */
import { randomUUID } from 'node:crypto';
import { type CommandParams, watchIdOf, watchTarget } from '../domain/command.ts';
import { InternalError, ResourceNotFoundError, WatchWriteConflict } from '../domain/errors.ts';
import { parseJsonBody } from '../domain/json/plain-values.ts';
import { type ExecuteRequest, parseExecuteRequest } from '../domain/watcher/execute-request.ts';
import { parseWatch } from '../domain/watcher/parse.ts';
import { freshStatus } from '../domain/watcher/status.ts';
import { type ExecutionInput, type ExecutionOutcome, type ExecutionPorts, executeWatch } from '../domain/watcher/execution.ts';
import { type WatchConfig, type WatchStatus, renderStatus, renderTyped } from '../domain/watcher/types.ts';
import { config } from '../runtime/config.ts';
import { logger } from '../runtime/log.ts';
import { getWatch, putStatus, setWatchRunning } from '../store/watches.ts';
import { awaitWithoutTimeout, type Queued, submitCommand } from './commands.ts';
import { writeHistory } from './watch-history.ts';
import { executionPorts } from './watch-actions.ts';
import { watcherStopped } from './watcher-service.ts';
import { getWatchWithAckExpiry } from './ack-expiry.ts';

/** Watch id of inline executions (Elasticsearch's `_inlined_`). */
export const INLINE_WATCH_ID = '_inlined_';

/** `<watch id>_<uuid4>-<execution time>` (Elasticsearch's `Wid`). */
const recordIdOf = (watchId: string, executionTimeMs: number): string => `${watchId}_${randomUUID()}-${new Date(executionTimeMs).toISOString()}`;

/** The watch record in Elasticsearch's key order (`WatchRecord.toXContent`). */
function watchRecord(watchId: string, watch: WatchConfig, out: ExecutionOutcome, version: number, debug: boolean): Record<string, unknown> {
  const record: Record<string, unknown> = {
    watch_id: watchId,
    node: config().nodeName,
    state: out.state,
    '@timestamp': out.triggerEvent.triggered_time,
    status: renderStatus(out.status, version),
    trigger_event: out.triggerEvent,
  };
  if (debug) record.vars = out.vars;
  record.input = renderTyped(watch.input);
  record.condition = renderTyped(watch.condition);
  if (watch.metadata !== undefined) record.metadata = watch.metadata;
  record.result = out.result;
  record.messages = out.messages;
  return record;
}

/** The answer of `_execute`: `{_id, watch_record}`. */
export interface ExecuteResponse {
  _id: string;
  watch_record: Record<string, unknown>;
}

/**
 * `_execute` (HTTP side). An id: the watch must exist (404 otherwise), then a `watch`
 * command runs it in its group and this answers its record. No id: the inline `watch` is
 * parsed by the put-watch parser and run here, with a fresh status.
 * @param source the body as sent, or undefined
 * @param params the query parameters (`debug`, `record_execution`, `ignore_condition`)
 * @throws ResourceNotFoundError 404 "Watch with id [<id>] does not exist", and the 400s of parseExecuteRequest
 */
export async function executeWatchRequest(
  id: string | undefined,
  source: string | undefined,
  params: Record<string, string | undefined>,
  startedMs = Date.now(),
  ports: ExecutionPorts = executionPorts(),
): Promise<Queued<ExecuteResponse>> {
  const nowMs = Date.now();
  const req = parseExecuteRequest(id, source === undefined ? undefined : parseJsonBody(source), params, nowMs);
  if (id === undefined) {
    const watch = parseWatch(INLINE_WATCH_ID, JSON.stringify(req.watch ?? {}));
    const status = freshStatus(
      watch.actions.map((a) => a.id),
      nowMs,
      true,
    );
    return { kind: 'done', response: await runInline(watch, status, req, ports) };
  }
  if (!(await getWatch(id))) throw new ResourceNotFoundError(`Watch with id [${id}] does not exist`);
  const watchParams: CommandParams<'watch'> = {
    trigger: 'manual',
    triggered_ms: req.triggeredTimeMs,
    scheduled_ms: req.scheduledTimeMs,
    record_execution: req.recordExecution,
    ...(req.ignoreCondition ? { ignore_condition: true } : {}),
    ...(req.alternativeInput ? { alternative_input: req.alternativeInput } : {}),
    ...(req.actionModes ? { action_modes: req.actionModes } : {}),
    ...(req.debug ? { debug: true } : {}),
  };
  const cmd = await submitCommand({
    action: 'watch',
    es_action: 'cluster:admin/xpack/watcher/watch/execute',
    description: `execute watch [${id}]`,
    targets: [watchTarget(id)],
    params: watchParams,
  });
  return awaitWithoutTimeout(cmd, startedMs, (r) => r[0] as ExecuteResponse);
}

async function runInline(watch: WatchConfig, status: WatchStatus, req: ExecuteRequest, ports: ExecutionPorts): Promise<ExecuteResponse> {
  const executionTimeMs = ports.now();
  const recordId = recordIdOf(INLINE_WATCH_ID, executionTimeMs);
  const input: ExecutionInput = {
    watchId: INLINE_WATCH_ID,
    watch,
    status,
    trigger: 'manual',
    triggeredTimeMs: req.triggeredTimeMs,
    scheduledTimeMs: req.scheduledTimeMs,
    ignoreCondition: req.ignoreCondition,
    ...(req.alternativeInput ? { alternativeInput: req.alternativeInput } : {}),
    ...(req.actionModes ? { actionModes: req.actionModes } : {}),
  };
  const out = await executeWatch(input, recordId, executionTimeMs, ports);
  return { _id: recordId, watch_record: watchRecord(INLINE_WATCH_ID, watch, out, -1, req.debug) };
}

/**
 * Submits a scheduled execution of a watch (for the schedule trigger's tick): a `watch`
 * command in the watch's group, always recorded, `trigger_event.type: schedule`. Does not
 * wait for it.
 * @returns the command id
 */
export async function submitScheduledExecution(watchId: string, trigger: { triggeredMs: number; scheduledMs: number }): Promise<string> {
  const params: CommandParams<'watch'> = { trigger: 'schedule', triggered_ms: trigger.triggeredMs, scheduled_ms: trigger.scheduledMs, record_execution: true };
  const cmd = await submitCommand({
    action: 'watch',
    es_action: 'cluster:admin/xpack/watcher/watch/execute',
    description: `scheduled execution of watch [${watchId}]`,
    targets: [watchTarget(watchId)],
    params,
  });
  return cmd.command_id;
}

/**
 * The worker side of a `watch` command: reads the watch, marks it running, executes it
 * and, when recorded (`record_execution` or a scheduled run), writes the status back
 * (conditional on the `_seq_no` read, as Elasticsearch's `updateWatchStatus`) and the record
 * into the history. A watch deleted meanwhile: a manual run answers 404, a scheduled one is
 * dropped (`not_executed_watch_missing`), as is a scheduled run while Watcher is stopped
 * (`_stop`). A status write that loses to a concurrent put is
 * dropped as Elasticsearch drops it (the put's fresh status wins).
 * @returns `{_id, watch_record}`
 */
export async function applyWatchCommand(
  target: string,
  params: CommandParams<'watch'>,
  ports: ExecutionPorts = executionPorts(),
): Promise<ExecuteResponse | { state: 'not_executed_watch_missing' } | { skipped: 'watcher is stopped' }> {
  const watchId = watchIdOf(target);
  if (watchId === undefined) throw new InternalError(`not a watch target [${target}]`);
  if (params.trigger === 'schedule' && (await watcherStopped())) return { skipped: 'watcher is stopped' };
  // The mlplane ack expiry lapses before the throttlers look at the ack.
  const stored = await getWatchWithAckExpiry(watchId, ports.now());
  if (!stored) {
    if (params.trigger === 'schedule') return { state: 'not_executed_watch_missing' };
    throw new ResourceNotFoundError(`Watch with id [${watchId}] does not exist`);
  }
  const executionTimeMs = ports.now();
  const recordId = recordIdOf(watchId, executionTimeMs);
  await setWatchRunning(watchId, executionTimeMs);
  try {
    const input: ExecutionInput = {
      watchId,
      watch: stored.watch,
      status: stored.status,
      trigger: params.trigger,
      triggeredTimeMs: params.triggered_ms,
      scheduledTimeMs: params.scheduled_ms,
      ignoreCondition: params.ignore_condition ?? false,
      ...(params.alternative_input ? { alternativeInput: params.alternative_input } : {}),
      ...(params.action_modes ? { actionModes: params.action_modes } : {}),
    };
    const out = await executeWatch(input, recordId, executionTimeMs, ports);
    const record = watchRecord(watchId, stored.watch, out, stored.version, params.debug ?? false);
    if (params.record_execution) {
      try {
        await putStatus(watchId, out.status, stored.seqNo);
      } catch (err) {
        if (!(err instanceof WatchWriteConflict)) throw err;
        logger.warn('watch changed during its execution; its status write is dropped', { watchId, recordId });
      }
      await writeHistory(recordId, record, executionTimeMs);
    }
    return { _id: recordId, watch_record: record };
  } finally {
    await setWatchRunning(watchId, undefined);
  }
}
