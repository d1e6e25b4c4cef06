/**
 * The body of `POST _watcher/watch/{id}/_execute` and `POST _watcher/watch/_execute`
 * (spec watcher-ack §4.3), read as Elasticsearch's `RestExecuteWatchAction` and
 * `ExecuteWatchRequest.validate` read it, with their error texts.
 */
import { ActionRequestValidationError, EsError, IllegalArgumentError, ParseError } from '../errors.ts';
import { parseDateMath } from '../documents/dates.ts';
import { ACTION_MODES, type ActionMode } from './execution.ts';

/** A parsed execute request. `watch` is the inline watch's source, parsed later by the put-watch parser. */
export interface ExecuteRequest {
  triggeredTimeMs: number;
  scheduledTimeMs: number;
  ignoreCondition: boolean;
  recordExecution: boolean;
  alternativeInput?: Record<string, unknown>;
  actionModes?: Record<string, ActionMode>;
  watch?: Record<string, unknown>;
  debug: boolean;
}

/** Top-level keys of a watch: sent outside `watch`, Elasticsearch asks to wrap them. */
const WATCH_KEYS = new Set(['trigger', 'input', 'condition', 'actions', 'transform', 'throttle_period', 'throttle_period_in_millis', 'metadata', 'status']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A `trigger_data` time: epoch millis, a date, or date math (`now-1h`). */
function triggerTime(v: unknown, field: string, nowMs: number): number {
  if (typeof v === 'number') return Math.trunc(v);
  if (typeof v === 'string') {
    try {
      return parseDateMath(v, 'strict_date_optional_time||epoch_millis', nowMs);
    } catch (err) {
      if (err instanceof EsError)
        throw new ParseError(`could not parse date/time. expected date field [${field}] to be either a number or a DateMath string but found [${v}] instead`);
      throw err;
    }
  }
  throw new ParseError(`could not parse date/time. expected date field [${field}] to be either a number or a string but found [${JSON.stringify(v)}] instead`);
}

/**
 * Parses the request.
 * @param id the watch id of the path, or undefined for `_watcher/watch/_execute`
 * @param body the JSON body (already parsed), or undefined when none was sent
 * @param params query parameters; `record_execution`/`ignore_condition` are read only when a
 *   body is present (Elasticsearch's quirk), `debug` always
 * @throws ParseError 400 `parse_exception`: `please wrap watch including field [<k>] inside a "watch" field`,
 *   `could not parse watch execution request. unexpected boolean field [<k>]`,
 *   `could not parse watch execution request. unexpected object field [<k>]`,
 *   `could not parse watch execution request. unexpected field [<k>]`, and
 *   `could not parse watch execution request` caused by `unknown action execution mode [<m>]`
 * @throws ActionRequestValidationError 400: neither id nor watch, both, or an inline watch
 *   with `record_execution`
 */
export function parseExecuteRequest(id: string | undefined, body: unknown, params: Record<string, string | undefined>, nowMs: number): ExecuteRequest {
  const flag = (v: string | undefined) => v === '' || v === 'true';
  const req: ExecuteRequest = { triggeredTimeMs: nowMs, scheduledTimeMs: nowMs, ignoreCondition: false, recordExecution: false, debug: flag(params.debug) };
  let triggered: unknown;
  let scheduled: unknown;
  if (body !== undefined) {
    if (!isObject(body)) throw new ParseError('could not parse watch execution request. expected an object');
    req.ignoreCondition = flag(params.ignore_condition);
    req.recordExecution = flag(params.record_execution);
    for (const [k, v] of Object.entries(body)) {
      if (WATCH_KEYS.has(k)) throw new ParseError(`please wrap watch including field [${k}] inside a "watch" field`);
      if (typeof v === 'boolean') {
        if (k === 'ignore_condition') req.ignoreCondition = v;
        else if (k === 'record_execution') req.recordExecution = v;
        else throw new ParseError(`could not parse watch execution request. unexpected boolean field [${k}]`);
      } else if (isObject(v)) {
        if (k === 'alternative_input') req.alternativeInput = v;
        else if (k === 'trigger_data') {
          triggered = v.triggered_time;
          scheduled = v.scheduled_time;
        } else if (k === 'watch') req.watch = v;
        else if (k === 'action_modes') {
          const modes: Record<string, ActionMode> = {};
          for (const [actionId, mode] of Object.entries(v)) {
            if (typeof mode !== 'string' || !ACTION_MODES.includes(mode.toLowerCase() as ActionMode)) {
              throw new ParseError('could not parse watch execution request', { cause: new IllegalArgumentError(`unknown action execution mode [${String(mode)}]`) });
            }
            modes[actionId] = mode.toLowerCase() as ActionMode;
          }
          req.actionModes = modes;
        } else throw new ParseError(`could not parse watch execution request. unexpected object field [${k}]`);
      } else {
        throw new ParseError(`could not parse watch execution request. unexpected field [${k}]`);
      }
    }
  }
  if (triggered !== undefined && triggered !== null) req.triggeredTimeMs = triggerTime(triggered, 'triggered_time', nowMs);
  req.scheduledTimeMs = scheduled !== undefined && scheduled !== null ? triggerTime(scheduled, 'scheduled_time', nowMs) : req.triggeredTimeMs;
  const errors: string[] = [];
  if (id === undefined && req.watch === undefined) errors.push('a watch execution request must either have a watch id or an inline watch source, but both are missing');
  if (id !== undefined && req.watch !== undefined) errors.push('a watch execution request must either have a watch id or an inline watch source but not both');
  if (id !== undefined && /\s/.test(id)) errors.push('watch id contains whitespace');
  if (req.watch !== undefined && req.recordExecution) errors.push('the execution of an inline watch cannot be recorded');
  if (errors.length > 0) throw new ActionRequestValidationError(errors);
  return req;
}
