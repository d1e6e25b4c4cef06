/**
 * One watch execution, evaluated as Elasticsearch's `ExecutionService.executeInner`,
 * `ManualExecutionContext`/`TriggeredExecutionContext`, `ActionWrapper.execute` and the
 * throttlers do (spec watcher-ack §2.3, §2.4, §2.6, §3, §4.3). Pure: the clock, the search
 * (search input/transform) and the actions themselves are injected, so the order of checks,
 * the status transitions and the record shapes are decided here and tested without I/O.
 */
import { IllegalStateError } from '../errors.ts';
import { TimeValue } from '../units.ts';
import { evalArrayCompare, evalCompare, evalPath, type CompareOp } from './compare.ts';
import { type ActionOutcome, onActionResult, onCheck, resetActionAck } from './status.ts';
import {
  DEFAULT_MAX_ITERATIONS,
  DEFAULT_THROTTLE_PERIOD_MS,
  type ExecutionState,
  isoTime,
  type TypedElement,
  type WatchAction,
  type WatchConfig,
  type WatchStatus,
} from './types.ts';

/** `ActionExecutionMode`, lower case on the wire. */
export type ActionMode = 'simulate' | 'force_simulate' | 'execute' | 'force_execute' | 'skip';

/** The action modes Elasticsearch accepts, for the request parser. */
export const ACTION_MODES: readonly ActionMode[] = ['simulate', 'force_simulate', 'execute', 'force_execute', 'skip'];

/** What triggers one execution. */
export interface ExecutionInput {
  watchId: string;
  watch: WatchConfig;
  /** The status read before executing (not mutated). */
  status: WatchStatus;
  /** `manual` for `_execute`, `schedule` for a triggered run. */
  trigger: 'manual' | 'schedule';
  triggeredTimeMs: number;
  scheduledTimeMs: number;
  /** `_execute` only: `{action id or "_all": mode}`; `_all` overrides every entry. */
  actionModes?: Record<string, ActionMode>;
  ignoreCondition?: boolean;
  /** Replaces the input: a `simple` input result with this payload. */
  alternativeInput?: Record<string, unknown>;
}

/** What an action runner returns for one run of one action. */
export type ActionRun =
  /** Ran (or simulated): the type-specific result object, e.g. `{logged_text}` for logging. */
  | { status: 'success' | 'simulated'; reason?: undefined; result: Record<string, unknown> }
  /** Ran and failed with a reason (e.g. a webhook's 500); `result` is shown too when there is one. */
  | { status: 'failure'; reason: string; result?: Record<string, unknown> }
  /** Some or all of a bulk failed (the index action's `_doc`): only the result, no reason (`last_execution.reason` ""). */
  | { status: 'failure' | 'partial_failure'; reason?: undefined; result: Record<string, unknown> };

/** The I/O an execution needs. */
export interface ExecutionPorts {
  /** Wall clock (ms): the throttlers and an action condition's ack reset use it, not the execution time. */
  now(): number;
  /** Runs a `search` input/transform request (`{indices, body, …}`); returns the search response. */
  search(request: Record<string, unknown>, model: Record<string, unknown>): Promise<Record<string, unknown>>;
  /**
   * Runs one action with a payload. `simulate` = build the request, do not send it.
   * Throws for an exception-type failure (recorded as `failure` with an `error` and
   * `last_execution.reason` "").
   */
  runAction(action: WatchAction, model: Record<string, unknown>, simulate: boolean): Promise<ActionRun>;
  /**
   * Runs an `http` input (`{request, extract?, response_content_type?}`): renders the request
   * templates with the model, sends it (bounded by a timeout) and builds the payload.
   * @returns the payload, the rendered request and the response status code
   * @throws HttpInputFailure for a request that could not be sent or answered (it carries the rendered request)
   */
  httpInput(body: Record<string, unknown>, model: Record<string, unknown>): Promise<{ payload: Record<string, unknown>; request: Record<string, unknown>; statusCode: number }>;
}

/** An `http` input that failed after its request was rendered: the record shows the request with the error (`HttpInput.Result(request, e)`). */
export class HttpInputFailure extends Error {
  /** The failure's Elasticsearch error type (`exception` for a network error). */
  readonly type: string;
  constructor(
    readonly request: Record<string, unknown>,
    failure: unknown,
  ) {
    super(failure instanceof Error ? failure.message : String(failure), { cause: failure });
    this.type = failure && typeof failure === 'object' && 'type' in failure && typeof failure.type === 'string' ? failure.type : 'exception';
  }
}

/** The outcome: the record's body parts and the status to write back when recorded. */
export interface ExecutionOutcome {
  state: ExecutionState;
  /** The status after the execution (`execution_state` set). */
  status: WatchStatus;
  /** `watch_record.trigger_event`. */
  triggerEvent: Record<string, unknown>;
  /** `watch_record.result`, in Elasticsearch's key order. */
  result: Record<string, unknown>;
  /** `watch_record.messages`. */
  messages: string[];
  /** `ctx.vars` (debug): always `{}` here, there are no scripts to set them. */
  vars: Record<string, unknown>;
}

type Json = Record<string, unknown>;

/** The failure body Elasticsearch writes for an exception (`generateFailureXContent`). */
function errorBody(err: unknown): Json {
  const type = err && typeof err === 'object' && 'type' in err && typeof err.type === 'string' ? err.type : 'exception';
  const reason = err instanceof Error ? err.message : String(err);
  return { error: { root_cause: [{ type, reason }], type, reason } };
}

/**
 * A failed transform's result (`Transform.Result(type, Exception)`): unlike an input's failure
 * it carries `reason` (the exception message) before the `error` body.
 */
function transformFailure(type: string, err: unknown): Json {
  return { type, status: 'failure', reason: err instanceof Error ? err.message : String(err), ...errorBody(err) };
}

/** `Variables.createCtxParamsMap`: the `ctx` model templates, conditions and actions see. */
export function ctxModel(input: ExecutionInput, recordId: string, executionTimeMs: number, payload: Json): Json {
  return {
    ctx: {
      id: recordId,
      watch_id: input.watchId,
      execution_time: new Date(executionTimeMs),
      trigger: { triggered_time: new Date(input.triggeredTimeMs), scheduled_time: new Date(input.scheduledTimeMs) },
      metadata: input.watch.metadata ?? null,
      payload,
      vars: {},
    },
  };
}

/** The watch record's `trigger_event` (manual runs nest the schedule under `manual`). */
function triggerEvent(input: ExecutionInput): Json {
  const schedule = { scheduled_time: isoTime(input.scheduledTimeMs) };
  return input.trigger === 'manual'
    ? { type: 'manual', triggered_time: isoTime(input.triggeredTimeMs), manual: { schedule } }
    : { type: 'schedule', triggered_time: isoTime(input.triggeredTimeMs), schedule };
}

/** Reads a `compare` body `{"<path>": {"<op>": value}}` (validated at put). */
function compareOf(body: unknown): { path: string; op: CompareOp; value: unknown } {
  const [path, spec] = Object.entries(body as Json)[0] ?? ['', {}];
  const [op, value] = Object.entries(spec as Json)[0] ?? ['eq', null];
  return { path, op: op as CompareOp, value };
}

/** Reads an `array_compare` body `{"<array path>": {"path": p, "<op>": {"value": v, "quantifier": q}}}`. */
function arrayCompareOf(body: unknown) {
  const [arrayPath, spec] = Object.entries(body as Json)[0] ?? ['', {}];
  let path = '';
  let op: CompareOp = 'eq';
  let value: unknown = null;
  let quantifier: 'some' | 'all' = 'some';
  for (const [k, v] of Object.entries(spec as Json)) {
    if (k === 'path') path = String(v);
    else {
      op = k as CompareOp;
      value = (v as Json).value ?? null;
      quantifier = ((v as Json).quantifier as 'some' | 'all' | undefined) ?? 'some';
    }
  }
  return { arrayPath, path, op, value, quantifier };
}

/**
 * Evaluates a condition (`always`, `never`, `compare`, `array_compare`).
 * @returns the condition result as the record shows it
 * @throws IllegalStateError from `array_compare` on a non-list (the execution then fails)
 */
export function evalCondition(c: TypedElement, model: Json, nowMs: number): Json & { met: boolean } {
  switch (c.type) {
    case 'always':
      return { type: 'always', status: 'success', met: true };
    case 'never':
      return { type: 'never', status: 'success', met: false };
    case 'compare':
      return evalCompare(compareOf(c.body), model, nowMs) as unknown as Json & { met: boolean };
    case 'array_compare':
      return evalArrayCompare(arrayCompareOf(c.body), model, nowMs) as unknown as Json & { met: boolean };
    default:
      throw new IllegalStateError(`mlplane does not evaluate [${c.type}] conditions`);
  }
}

/**
 * Runs an input as its `ExecutableInput.execute` does and returns its result as the record
 * shows it: `{type, status: success, payload, <type>: …}`, or `{type, status: failure, error}`.
 * - `search`: `search: {request}`; `http`: `http: {request, status_code}` (a failure keeps the
 *   rendered request), the payload being the parsed body with `_status_code` and `_headers`.
 * - `chain` (`ExecutableChainInput`): the named inputs run in order, each with
 *   `ctx.payload` = `{<earlier name>: <its payload>, …}`; the payload is that map of all of
 *   them and `chain: {<name>: <its result>}`. As in Elasticsearch a failed step does not stop
 *   the chain nor fail it: its result shows the failure and its payload is `{}`.
 */
async function runInput(i: TypedElement, ports: ExecutionPorts, model: Json): Promise<Json> {
  switch (i.type) {
    case 'simple':
      return { type: 'simple', status: 'success', payload: (i.body ?? {}) as Json };
    case 'none':
      return { type: 'none', status: 'success', payload: {} };
    case 'search': {
      const request = ((i.body as Json).request ?? {}) as Json;
      try {
        return { type: 'search', status: 'success', payload: await ports.search(request, model), search: { request } };
      } catch (err) {
        return { type: 'search', status: 'failure', ...errorBody(err) };
      }
    }
    case 'http':
      try {
        const r = await ports.httpInput(i.body as Json, model);
        return { type: 'http', status: 'success', payload: r.payload, http: { request: r.request, status_code: r.statusCode } };
      } catch (err) {
        if (err instanceof HttpInputFailure) return { type: 'http', status: 'failure', ...errorBody(err), http: { request: err.request } };
        return { type: 'http', status: 'failure', ...errorBody(err) };
      }
    case 'chain': {
      const payloads: Json = {};
      const results: Json = {};
      for (const step of ((i.body as Json).inputs ?? []) as Json[]) {
        for (const [name, typed] of Object.entries(step)) {
          const [type, body] = Object.entries(typed as Json)[0] ?? ['none', {}];
          const r = await runInput({ type, body }, ports, { ctx: { ...(model.ctx as Json), payload: { ...payloads } } });
          results[name] = r;
          payloads[name] = r.status === 'success' ? r.payload : {};
        }
      }
      return { type: 'chain', status: 'success', payload: payloads, chain: results };
    }
    default:
      return { type: i.type, status: 'failure', ...errorBody(new IllegalStateError(`mlplane does not run [${i.type}] inputs`)) };
  }
}

/**
 * Runs a watch/action transform (`search`, or a `chain` of them) as `ExecutableTransform.execute`:
 * a failure is a result (`status: failure`, `reason`, `error`), not an exception. A search
 * failure keeps its request; a chain stops at the first failed step with Elasticsearch's
 * reason "failed to execute [chain] transform for [<ctx.id>]. failed to execute sub-transform
 * [<type>]", `error: "unknown"` (the result carries no exception) and the results so far.
 */
async function runTransform(t: TypedElement, ports: ExecutionPorts, model: Json): Promise<Json> {
  if (t.type === 'search') {
    const request = ((t.body as Json).request ?? {}) as Json;
    try {
      return { type: 'search', status: 'success', payload: await ports.search(request, model), search: { request } };
    } catch (err) {
      return { ...transformFailure('search', err), search: { request } };
    }
  }
  if (t.type === 'chain') {
    let payload = (model.ctx as Json).payload as Json;
    const results: Json[] = [];
    for (const step of t.body as Json[]) {
      const [type, body] = Object.entries(step)[0] ?? ['', {}];
      const r = await runTransform({ type, body }, ports, { ctx: { ...(model.ctx as Json), payload } });
      results.push({ [type]: r });
      if (r.status === 'failure') {
        const reason = `failed to execute [chain] transform for [${String((model.ctx as Json).id)}]. failed to execute sub-transform [${type}]`;
        return { type: 'chain', status: 'failure', reason, error: 'unknown', chain: results };
      }
      payload = r.payload as Json;
    }
    return { type: 'chain', status: 'success', payload, chain: results };
  }
  return transformFailure(t.type, new IllegalStateError(`mlplane does not run [${t.type}] transforms`));
}

/** The mode of one action in this execution (`_all` wins, as `ManualExecutionContext`). */
function modeOf(input: ExecutionInput, actionId: string): ActionMode | undefined {
  const modes = input.actionModes;
  if (!modes) return undefined;
  return modes._all ?? modes[actionId];
}

/**
 * `ActionThrottler`: the period throttler (the action's period, else the watch's, else
 * 5 s; inclusive; measured from `last_successful_execution` on the wall clock), then the
 * ack throttler. The period wins when both apply.
 */
export function throttle(action: WatchAction, watch: WatchConfig, status: WatchStatus, nowMs: number): { status: 'throttled' | 'acknowledged'; reason: string } | undefined {
  const a = status.actions[action.id];
  if (!a) return undefined;
  const period = action.throttle_period_in_millis ?? watch.throttle_period_in_millis ?? DEFAULT_THROTTLE_PERIOD_MS;
  const last = a.last_successful_execution;
  if (last) {
    const elapsed = nowMs - last.timestamp;
    if (elapsed <= period) {
      return {
        status: 'throttled',
        reason: `throttling interval is set to [${TimeValue.ofMillis(period).human()}] but time elapsed since last execution is [${TimeValue.ofMillis(elapsed).human()}]`,
      };
    }
  }
  if (a.ack.state === 'acked') return { status: 'acknowledged', reason: `action [${action.id}] was acked at [${isoTime(a.ack.timestamp)}]` };
  return undefined;
}

interface ActionResultOut {
  entry: Json;
  outcome: ActionOutcome;
  /** Set when the action condition was false: reset this action at this wall-clock time. */
  resetAtMs?: number;
}

/** Runs one action (or its `foreach`) for real or simulated; exceptions become `failure` entries with an `error`. */
async function runOne(action: WatchAction, model: Json, simulate: boolean, ports: ExecutionPorts): Promise<{ status: string; body: Json; reason?: string }> {
  try {
    const r = await ports.runAction(action, model, simulate);
    if (r.reason !== undefined) return { status: 'failure', reason: r.reason, body: { reason: r.reason, ...(r.result ? { [action.type]: r.result } : {}) } };
    return { status: r.status, ...(r.status === 'failure' ? { reason: '' } : {}), body: { [action.type]: r.result } };
  } catch (err) {
    return { status: 'failure', reason: '', body: errorBody(err) };
  }
}

/** `ActionWrapper.execute` for one action whose mode is not `skip` (spec §3). */
async function executeAction(action: WatchAction, input: ExecutionInput, status: WatchStatus, model: Json, ports: ExecutionPorts): Promise<ActionResultOut> {
  const head = { id: action.id, type: action.type };
  const mode = modeOf(input, action.id);
  if (mode !== 'force_execute' && mode !== 'force_simulate') {
    const t = throttle(action, input.watch, status, ports.now());
    if (t) {
      return { entry: { ...head, status: t.status, reason: t.reason }, outcome: t.status === 'throttled' ? { status: 'throttled', reason: t.reason } : { status: 'acknowledged' } };
    }
  }
  const out: Json = { ...head };
  let conditionResult: Json | undefined;
  if (action.condition) {
    try {
      conditionResult = evalCondition(action.condition, model, ports.now());
    } catch (err) {
      const reason = `condition failed. skipping: ${err instanceof Error ? err.message : String(err)}`;
      return { entry: { ...head, status: 'condition_failed', reason }, outcome: { status: 'condition_failed' } };
    }
    if (!conditionResult.met) {
      return {
        entry: { ...head, status: 'condition_failed', condition: conditionResult, reason: 'condition not met. skipping' },
        outcome: { status: 'condition_failed' },
        resetAtMs: ports.now(),
      };
    }
  }
  let payload = (model.ctx as Json).payload as Json;
  let transformResult: Json | undefined;
  if (action.transform) {
    transformResult = await runTransform(action.transform, ports, model);
    if (transformResult.status === 'failure') {
      // ActionWrapper: a transform whose result is a failure fails the action with a fixed
      // reason, and the entry keeps the failed transform result.
      const reason = 'Failed to transform payload';
      return { entry: { ...head, status: 'failure', transform: { [action.transform.type]: transformResult }, reason }, outcome: { status: 'failure', reason } };
    }
    payload = transformResult.payload as Json;
  }
  const simulate = mode === 'simulate' || mode === 'force_simulate';
  const actionModel = { ctx: { ...(model.ctx as Json), payload } };
  const extras: Json = {};
  if (conditionResult) extras.condition = conditionResult;
  if (transformResult) extras.transform = { [transformResult.type as string]: transformResult };
  if (action.foreach === undefined) {
    const r = await runOne(action, actionModel, simulate, ports);
    const outcome: ActionOutcome = r.status === 'failure' ? { status: 'failure', reason: r.reason ?? '' } : { status: r.status as 'success' | 'simulated' | 'partial_failure' };
    return { entry: { ...out, status: r.status, ...extras, ...r.body }, outcome };
  }
  // foreach (ActionWrapper): one run per element of a list (a map is the payload, anything
  // else `{_value: x}`), at most max_iterations; the status is the runs' common status, or
  // partial_failure when they differ. A missing, empty or non-list value, or a run that
  // throws, fails the whole action with the exception.
  const max = action.max_iterations ?? DEFAULT_MAX_ITERATIONS;
  try {
    const found = evalPath(action.foreach, actionModel);
    if (found === undefined || found === null) throw new IllegalStateError(`specified foreach object was null: [${action.foreach}]`);
    if (!Array.isArray(found)) throw new IllegalStateError(`specified foreach object was not a an array/collection: [${action.foreach}]`);
    if (found.length === 0) throw new IllegalStateError(`foreach object [${action.foreach}] was an empty list, could not run any action`);
    const runs: Json[] = [];
    const statuses = new Set<string>();
    for (const el of found.slice(0, max)) {
      const p = el && typeof el === 'object' && !Array.isArray(el) && !(el instanceof Date) ? (el as Json) : { _value: el };
      const r = await ports.runAction(action, { ctx: { ...(model.ctx as Json), payload: p } }, simulate);
      statuses.add(r.status);
      runs.push(r.reason !== undefined ? { reason: r.reason, ...(r.result ? { [action.type]: r.result } : {}) } : { [action.type]: r.result });
    }
    const status = statuses.size === 1 ? ([...statuses][0] as string) : 'partial_failure';
    const outcome: ActionOutcome = status === 'failure' ? { status: 'failure', reason: '' } : { status: status as 'success' | 'simulated' | 'partial_failure' };
    return { entry: { ...out, status, ...extras, number_of_actions_executed: runs.length, foreach: runs, max_iterations: max }, outcome };
  } catch (err) {
    return { entry: { ...head, status: 'failure', ...errorBody(err) }, outcome: { status: 'failure', reason: '' } };
  }
}

/**
 * `WatchRecord.getState`: no condition result → `failed`; not met → `execution_not_needed`;
 * else `acknowledged` if any action was acked, else `throttled` if any was throttled, else
 * `executed` (even with failed or no actions).
 */
export function recordState(condition: { met: boolean } | undefined, actions: readonly Json[]): ExecutionState {
  if (!condition) return 'failed';
  if (!condition.met) return 'execution_not_needed';
  if (actions.some((a) => a.status === 'acknowledged')) return 'acknowledged';
  if (actions.some((a) => a.status === 'throttled')) return 'throttled';
  return 'executed';
}

/**
 * Runs one execution (spec §4.3 order): `skip` pre-results, input (or
 * `alternative_input`), condition (or `always` with `ignore_condition`) → `onCheck`, the
 * watch transform (only with actions), then each action in declaration order →
 * `onActionResult`. A scheduled run of an inactive watch is not executed
 * (`execution_not_needed`, "Watch is not active"); manual runs ignore the active flag.
 * @param recordId the watch record id (`ctx.id`)
 * @param executionTimeMs the execution time: the clock when the run began
 */
export async function executeWatch(input: ExecutionInput, recordId: string, executionTimeMs: number, ports: ExecutionPorts): Promise<ExecutionOutcome> {
  let status = input.status;
  const actionResults: Json[] = [];
  const event = triggerEvent(input);
  const vars = {};
  const result: Json = { execution_time: isoTime(executionTimeMs), execution_duration: 0 };
  const finish = (state: ExecutionState, messages: string[]): ExecutionOutcome => {
    result.execution_duration = Math.max(0, ports.now() - executionTimeMs);
    result.actions = actionResults;
    status = { ...status, execution_state: state };
    return { state, status, triggerEvent: event, result, messages, vars };
  };

  if (input.trigger === 'schedule' && !status.state.active) {
    return { state: 'execution_not_needed', status, triggerEvent: event, result: {}, messages: ['Watch is not active'], vars };
  }

  // skip: a `throttled` pre-result ("manually skipped") that also writes last_throttle.
  const skipped = new Set<string>();
  for (const a of input.watch.actions) {
    if (modeOf(input, a.id) !== 'skip') continue;
    skipped.add(a.id);
    actionResults.push({ id: a.id, type: a.type, status: 'throttled', reason: 'manually skipped' });
    status = onActionResult(status, a.id, executionTimeMs, { status: 'throttled', reason: 'manually skipped' });
  }

  let payload: Json;
  if (input.alternativeInput) {
    payload = input.alternativeInput;
    result.input = { type: 'simple', status: 'success', payload };
  } else {
    const r = await runInput(input.watch.input, ports, ctxModel(input, recordId, executionTimeMs, {}));
    result.input = r;
    if (r.status === 'failure') return finish('failed', ['failed to execute watch input']);
    payload = r.payload as Json;
  }

  let model = ctxModel(input, recordId, executionTimeMs, payload);
  let condition: Json & { met: boolean };
  try {
    condition = input.ignoreCondition ? { type: 'always', status: 'success', met: true } : evalCondition(input.watch.condition, model, ports.now());
  } catch (err) {
    result.condition = { type: input.watch.condition.type, status: 'failure', ...errorBody(err) };
    return finish('failed', ['failed to execute watch condition']);
  }
  result.condition = condition;
  status = onCheck(status, condition.met, executionTimeMs);

  if (condition.met) {
    if (input.watch.transform && input.watch.actions.length > 0) {
      const t = await runTransform(input.watch.transform, ports, model);
      result.transform = t;
      if (t.status === 'failure') {
        // abortFailedExecution: the run stops here, but the record state is
        // WatchRecord.getState of what ran — the condition was met, so `executed` (or
        // `throttled` after skip pre-results), not `failed` (execute_watch/20_transform.yml).
        return finish(recordState(condition, actionResults), ['failed to execute watch transform']);
      }
      payload = t.payload as Json;
      model = ctxModel(input, recordId, executionTimeMs, payload);
    }
    for (const a of input.watch.actions) {
      if (skipped.has(a.id)) continue;
      const r = await executeAction(a, input, status, model, ports);
      if (r.resetAtMs !== undefined) status = resetActionAck(status, a.id, r.resetAtMs);
      actionResults.push(r.entry);
      status = onActionResult(status, a.id, executionTimeMs, r.outcome);
    }
  }
  return finish(recordState(condition, actionResults), []);
}
