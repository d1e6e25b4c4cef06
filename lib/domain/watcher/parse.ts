/**
 * The put-watch body parser (spec `watcher-ack.md` §4.1; Elasticsearch's `WatchParser`,
 * `InputRegistry`, `ConditionRegistry`, `ActionRegistry`/`ActionWrapper`): validates a watch
 * with Elasticsearch's `parse_exception` texts and builds the {@link WatchConfig} that GET shows
 * back (re-serialized: throttle periods in ms, schedules normalized). Types mlplane does not
 * run (scripts, the `transform` input, email/slack/jira/pagerduty) are refused with a 400
 * naming them ({@link WatcherUnsupportedError}) rather than stored and never run.
 */
import { type EsError, ParseError, WatcherUnsupportedError } from '../errors.ts';
import { isJsonObject, parseJsonBody } from '../json/plain-values.ts';
import { parseTrigger, tokenOf } from './schedule.ts';
import type { ActionType, ConditionType, InputType, TransformType, TypedElement, WatchAction, WatchConfig } from './types.ts';

/** Input types Elasticsearch registers; mlplane runs {@link InputType}. */
const KNOWN_INPUTS = new Set(['simple', 'none', 'search', 'http', 'chain', 'transform']);
const KNOWN_CONDITIONS = new Set(['always', 'never', 'compare', 'array_compare', 'script']);
const KNOWN_TRANSFORMS = new Set(['search', 'script', 'chain']);
const KNOWN_ACTIONS = new Set(['email', 'webhook', 'index', 'logging', 'jira', 'slack', 'pagerduty']);
// What mlplane runs of the known types above, named in the 400 for the rest.
const RUN_INPUTS = ['simple', 'none', 'search', 'http', 'chain'];
/** `HttpContentType` ids; mlplane parses JSON and text bodies, not YAML/CBOR/SMILE. */
const RESPONSE_CONTENT_TYPES = new Set(['json', 'yaml', 'text']);
const RUN_CONDITIONS = ['always', 'never', 'compare', 'array_compare'];
const RUN_TRANSFORMS = ['search', 'chain'];
const RUN_ACTIONS: readonly ActionType[] = ['index', 'logging', 'webhook'];
const runsAction = (key: string): key is ActionType => (RUN_ACTIONS as readonly string[]).includes(key);

const COMPARE_OPS = new Set(['eq', 'not_eq', 'lt', 'lte', 'gt', 'gte']);

/** `{"<type>": body}` with exactly one key, else the registry's message. */
function single(v: unknown, expected: () => ParseError, extra: (type: string) => ParseError): [string, unknown] {
  if (!isJsonObject(v)) throw expected();
  const entries = Object.entries(v);
  const first = entries[0];
  if (!first) throw expected();
  if (entries.length > 1) throw extra(first[0]);
  return first;
}

/**
 * Parses a time value the way `WatcherDateTimeUtils.parseTimeValue` does: a string
 * (`TimeValue.parseTimeValue`: `<number><unit>` with units `nanos micros ms s m h d`, or `-1`/`0`)
 * or null; anything else is refused.
 * @returns milliseconds (rounded down), or undefined for null / `-1`
 */
export function parseTimeValueMs(v: unknown, field: string): number | undefined {
  if (v === null) return undefined;
  if (typeof v !== 'string') throw new ParseError(`could not parse time value [${String(v)}]. expected either a string or a null value but found [${tokenOf(v)}] instead`);
  const s = v.trim();
  if (s === '-1') return undefined;
  if (s === '0') return 0;
  const m = /^(-?\d+(?:\.\d+)?)\s*(nanos|micros|ms|s|m|h|d)$/i.exec(s);
  if (!m) throw new ParseError(`failed to parse setting [${field}] with value [${v}] as a time value: unit is missing or unrecognized`);
  const n = Number(m[1]);
  if (n < 0) throw new ParseError(`failed to parse setting [${field}] with value [${v}] as a time value: negative durations are not supported`);
  const unitMs: Record<string, number> = { nanos: 1e-6, micros: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  return Math.floor(n * (unitMs[(m[2] ?? '').toLowerCase()] ?? 1));
}

function parseInput(watchId: string, v: unknown): TypedElement<InputType> {
  const [type, body] = single(
    v,
    () => new ParseError(`could not parse input for watch [${watchId}]. expected an object representing the input, but found [${tokenOf(v)}] instead`),
    () => new ParseError(`could not parse input for watch [${watchId}]. expected an object with a single input type field`),
  );
  if (!KNOWN_INPUTS.has(type)) throw new ParseError(`could not parse input for watch [${watchId}]. unknown input type [${type}]`);
  switch (type) {
    case 'simple':
      if (!isJsonObject(body)) throw new ParseError(`could not parse [simple] input for watch [${watchId}]. expected an object but found [${tokenOf(body)}] instead`);
      return { type, body };
    case 'none':
      if (!isJsonObject(body) || Object.keys(body).length > 0)
        throw new ParseError(`could not parse [none] input for watch [${watchId}]. expected an empty object but found [${tokenOf(body)}] instead`);
      return { type, body };
    case 'search':
      if (!isJsonObject(body) || !isJsonObject(body.request)) throw new ParseError(`could not parse [search] input for watch [${watchId}]. missing required [request] field`);
      return { type, body };
    case 'http':
      checkHttpInput(watchId, body);
      return { type, body };
    case 'chain':
      checkChainInput(watchId, body);
      return { type, body };
    default:
      throw new WatcherUnsupportedError(type, 'input', RUN_INPUTS);
  }
}

/**
 * `HttpRequestTemplate.Parser` checks shared by the `http` input and the `webhook` action:
 * `url`, or `host` and `port`; the timeouts are time values.
 * @throws ParseError "could not parse http request template. missing required [host] string field" / "[port] numeric field"
 */
function checkHttpRequestTemplate(body: Record<string, unknown>): void {
  const hasUrl = typeof body.url === 'string';
  if (!hasUrl && (typeof body.host !== 'string' || body.port === undefined))
    throw new ParseError(
      `could not parse http request template. missing required [${typeof body.host === 'string' ? 'port' : 'host'}] ${typeof body.host === 'string' ? 'numeric' : 'string'} field`,
    );
  for (const field of ['connection_timeout', 'read_timeout']) {
    if (body[field] !== undefined) parseTimeValueMs(body[field], `http.request.${field}`);
  }
}

/** `HttpInput.parse`: `{request, extract?, response_content_type?}`. */
function checkHttpInput(watchId: string, body: unknown): void {
  const fail = (why: string, cause?: EsError) => new ParseError(`could not parse [http] input for watch [${watchId}]. ${why}`, cause ? { cause } : undefined);
  if (!isJsonObject(body)) throw fail(`unexpected token [${tokenOf(body)}]`);
  for (const [key, value] of Object.entries(body)) {
    if (key === 'request') {
      if (!isJsonObject(value)) throw fail('failed to parse http request template');
      // Credentials, proxies and TLS settings are refused rather than stored: Elasticsearch
      // keeps a basic-auth password encrypted and shows it back redacted, mlplane has no
      // place to keep one that way, and sending without them would be a wrong request.
      for (const option of ['auth', 'proxy', 'ssl']) {
        if (value[option] !== undefined) throw new WatcherUnsupportedError(`http input ${option}`, 'input');
      }
      try {
        checkHttpRequestTemplate(value);
      } catch (e) {
        throw fail('failed to parse http request template', e as EsError);
      }
    } else if (Array.isArray(value)) {
      if (key !== 'extract') throw fail(`unexpected array field [${key}]`);
      for (const item of value) if (typeof item !== 'string') throw fail(`expected a string value as an [extract] item but found [${tokenOf(item)}] instead`);
    } else if (typeof value === 'string') {
      if (key !== 'response_content_type') throw fail(`unexpected string field [${key}]`);
      if (!RESPONSE_CONTENT_TYPES.has(value.toLowerCase())) throw fail(`unknown content type [${value}]`);
      if (value.toLowerCase() === 'yaml') throw new WatcherUnsupportedError('http input response_content_type [yaml]', 'input');
    } else {
      throw fail(`unexpected token [${tokenOf(value)}]`);
    }
  }
  if (!isJsonObject(body.request)) throw fail('missing require [request] field');
  if (typeof body.response_content_type === 'string' && body.response_content_type.toLowerCase() === 'text' && body.extract !== undefined)
    throw fail('key extraction is not supported for content type [text]');
}

/**
 * `ChainInput.parse`: `{"inputs": [{"<name>": {"<type>": body}}, …]}`, each named input
 * parsed by the input registry (a nested chain too).
 */
function checkChainInput(watchId: string, body: unknown): void {
  if (!isJsonObject(body)) throw new ParseError(`could not parse [chain] input for watch [${watchId}]. expected an object but found [${tokenOf(body)}] instead`);
  const inputs = body.inputs;
  if (!Array.isArray(inputs)) throw new ParseError(`could not parse [chain] input for watch [${watchId}]. expected an array of named inputs in field [inputs]`);
  for (const element of inputs) {
    if (!isJsonObject(element))
      throw new ParseError(`could not parse [chain] input for watch [${watchId}]. expected an object in [inputs] but found [${tokenOf(element)}] instead`);
    const entries = Object.entries(element);
    for (const [name, named] of entries) {
      if (!isJsonObject(named)) throw new ParseError(`Expected starting JSON object after [${name}] in watch [${watchId}]`);
      const parsed = parseInput(watchId, named);
      if (entries.length > 1) throw new ParseError(`Expected closing JSON object after parsing input [${parsed.type}] named [${name}] in watch [${watchId}]`);
    }
  }
}

/** A simple condition's checks (`CompareCondition.parse`, `ArrayCompareCondition.parse`). */
function parseCondition(watchId: string, v: unknown): TypedElement<ConditionType> {
  const [type, body] = single(
    v,
    () => new ParseError(`could not parse condition for watch [${watchId}]. expected an object representing the condition, but found [${tokenOf(v)}] instead`),
    (t) => new ParseError(`could not parse condition for watch [${watchId}]. expected end of the condition definition after [${t}], but found [FIELD_NAME]`),
  );
  if (!KNOWN_CONDITIONS.has(type)) throw new ParseError(`could not parse condition for watch [${watchId}]. unknown condition type [${type}]`);
  switch (type) {
    case 'always':
    case 'never':
      if (!isJsonObject(body) || Object.keys(body).length > 0)
        throw new ParseError(
          `could not parse [${type}] condition for watch [${watchId}]. expected an empty object but found [${isJsonObject(body) ? 'FIELD_NAME' : tokenOf(body)}]`,
        );
      return { type, body };
    case 'compare':
      checkCompare(watchId, body);
      return { type, body };
    case 'array_compare':
      checkArrayCompare(watchId, body);
      return { type, body };
    default:
      throw new WatcherUnsupportedError(type, 'condition', RUN_CONDITIONS);
  }
}

function checkCompare(watchId: string, body: unknown): void {
  const fail = (why: string) => new ParseError(`could not parse [compare] condition for watch [${watchId}]. ${why}`);
  if (!isJsonObject(body)) throw fail(`expected an object but found [${tokenOf(body)}] instead`);
  const entries = Object.entries(body);
  const first = entries[0];
  if (!first) throw fail('expected a field indicating the compared path, but found [END_OBJECT] instead');
  if (entries.length > 1) throw fail(`expected end of object after [${first[0]}], but found [FIELD_NAME]`);
  const [path, cmp] = first;
  if (!isJsonObject(cmp)) throw fail(`expected an object for field [${path}] but found [${tokenOf(cmp)}] instead`);
  const ops = Object.entries(cmp);
  const op = ops[0];
  if (!op || ops.length > 1) throw fail(`expected a single comparison operator for field [${path}]`);
  if (!COMPARE_OPS.has(op[0])) throw fail(`unknown comparison operator [${op[0]}]`);
  if ((Array.isArray(op[1]) || isJsonObject(op[1])) && op[0] !== 'eq' && op[0] !== 'not_eq')
    throw fail(`invalid comparison value for [${op[0]}]. expected a value but found [${tokenOf(op[1])}] instead`);
}

function checkArrayCompare(watchId: string, body: unknown): void {
  const fail = (why: string) => new ParseError(`could not parse [array_compare] condition for watch [${watchId}]. ${why}`);
  if (!isJsonObject(body)) throw fail(`expected an object but found [${tokenOf(body)}] instead`);
  const entries = Object.entries(body);
  const first = entries[0];
  if (!first) throw fail('expected a field indicating the array path, but found [END_OBJECT] instead');
  if (entries.length > 1) throw fail(`expected end of object after [${first[0]}], but found [FIELD_NAME]`);
  const [arrayPath, spec] = first;
  if (!isJsonObject(spec)) throw fail(`expected an object for field [${arrayPath}] but found [${tokenOf(spec)}] instead`);
  let ops = 0;
  for (const [key, value] of Object.entries(spec)) {
    if (key === 'path') {
      if (typeof value !== 'string') throw fail(`expected a string value for field [path] but found [${tokenOf(value)}] instead`);
      continue;
    }
    if (!COMPARE_OPS.has(key)) throw fail(`unknown comparison operator [${key}]`);
    ops++;
    if (!isJsonObject(value)) throw fail(`expected an object for field [${key}] but found [${tokenOf(value)}] instead`);
    for (const [k, x] of Object.entries(value)) {
      if (k === 'quantifier') {
        if (x !== 'some' && x !== 'all') throw fail(`unknown comparison quantifier [${String(x)}]`);
      } else if (k !== 'value') throw fail(`expected a field indicating the comparison value or comparison quantifier, but found [${k}] instead`);
    }
    if (!('value' in value)) throw fail(`expected a field indicating the comparison value or comparison quantifier, but found [END_OBJECT] instead`);
  }
  if (ops !== 1) throw fail(`expected a single comparison operator for field [${arrayPath}]`);
}

function parseTransform(watchId: string, v: unknown): TypedElement<TransformType> {
  const [type, body] = single(
    v,
    () => new ParseError(`could not parse transform for watch [${watchId}]. expected an object representing the transform, but found [${tokenOf(v)}] instead`),
    () => new ParseError(`could not parse transform for watch [${watchId}]. expected an object with a single transform type field`),
  );
  if (!KNOWN_TRANSFORMS.has(type)) throw new ParseError(`could not parse transform for watch [${watchId}]. unknown transform type [${type}]`);
  if (type === 'script') throw new WatcherUnsupportedError('script', 'transform', RUN_TRANSFORMS);
  if (type === 'search' && (!isJsonObject(body) || !isJsonObject(body.request)))
    throw new ParseError(`could not parse [search] transform for watch [${watchId}]. missing required [request] field`);
  if (type === 'chain') {
    if (!Array.isArray(body))
      throw new ParseError(`could not parse [chain] transform for watch [${watchId}]. expected an array of transform objects, but found [${tokenOf(body)}] instead`);
    for (const t of body) parseTransform(watchId, t);
  }
  return { type: type as TransformType, body };
}

/** The action type's body checks (what Elasticsearch's action parsers require). */
function checkActionBody(watchId: string, actionId: string, type: ActionType, body: unknown): void {
  const where = `[${type}] action [${watchId}/${actionId}]`;
  if (!isJsonObject(body)) throw new ParseError(`could not parse ${where}. expected an object but found [${tokenOf(body)}] instead`);
  if (type === 'logging' && body.text === undefined) throw new ParseError(`failed to parse ${where}. missing required [text] field`);
  if (type === 'index') {
    if (body.index !== undefined && typeof body.index !== 'string' && !Array.isArray(body.index))
      throw new ParseError(`could not parse ${where}. unexpected ${tokenOf(body.index) === 'VALUE_NUMBER' ? 'number' : 'object'} field [index]`);
  }
  if (type === 'webhook') checkHttpRequestTemplate(body);
}

/** One entry of `actions` (ActionWrapper.parse). */
function parseAction(watchId: string, actionId: string, v: unknown): WatchAction {
  if (!isJsonObject(v)) throw new ParseError(`could not parse action [${watchId}/${actionId}]. expected an object but found [${tokenOf(v)}] instead`);
  let typed: { type: ActionType; body: unknown } | undefined;
  const out: Partial<WatchAction> = {};
  for (const [key, value] of Object.entries(v)) {
    switch (key) {
      case 'condition':
        out.condition = parseCondition(watchId, value);
        break;
      case 'transform':
        out.transform = parseTransform(watchId, value);
        break;
      case 'throttle_period':
        try {
          const ms = parseTimeValueMs(value, `${key}`);
          if (ms !== undefined) out.throttle_period_in_millis = ms;
        } catch (e) {
          throw new ParseError(`could not parse action [${watchId}/${actionId}]. failed to parse field [${key}] as time value`, { cause: e as EsError });
        }
        break;
      case 'throttle_period_in_millis':
        if (typeof value !== 'number') throw new ParseError(`could not parse action [${watchId}/${actionId}]. failed to parse field [${key}] as time value`);
        out.throttle_period_in_millis = Math.trunc(value);
        break;
      case 'foreach':
        if (typeof value !== 'string') throw new ParseError(`could not parse action [${watchId}/${actionId}]. unexpected field [${key}]`);
        out.foreach = value;
        break;
      case 'max_iterations':
        if (typeof value !== 'number' || !Number.isInteger(value)) throw new ParseError(`could not parse action [${watchId}/${actionId}]. unexpected field [${key}]`);
        out.max_iterations = value;
        break;
      default: {
        if (!KNOWN_ACTIONS.has(key)) throw new ParseError(`could not parse action [${watchId}/${actionId}]. unknown action type [${key}]`);
        if (!runsAction(key)) throw new WatcherUnsupportedError(key, 'action', RUN_ACTIONS);
        checkActionBody(watchId, actionId, key, value);
        typed = { type: key, body: value };
      }
    }
  }
  if (!typed) throw new ParseError(`could not parse watch action [${watchId}/${actionId}]. missing action type`);
  if (out.max_iterations !== undefined && out.foreach === undefined) delete out.max_iterations;
  return { id: actionId, ...typed, ...out };
}

function parseActions(watchId: string, v: unknown): WatchAction[] {
  if (!isJsonObject(v)) throw new ParseError(`could not parse actions for watch [${watchId}]. expected an object but found [${tokenOf(v)}] instead`);
  return Object.entries(v).map(([id, a]) => parseAction(watchId, id, a));
}

/**
 * Parses a put-watch body.
 * @param watchId the watch id (context of every message)
 * @param source the request body (JSON text)
 * @returns the watch as stored and shown by GET
 * @throws ParseError 400 `parse_exception`: `could not parse watch [<id>]. unexpected field [x]`,
 *   `... missing required field [trigger]`, `... failed to parse time value for field [throttle_period]`,
 *   and every trigger/input/condition/transform/action error; WatcherUnsupportedError 400 for
 *   types mlplane does not run; the JSON syntax errors of parseJsonBody
 */
export function parseWatch(watchId: string, source: string): WatchConfig {
  const body = parseJsonBody(source);
  if (!isJsonObject(body)) throw new ParseError(`could not parse watch [${watchId}], unexpected token [${tokenOf(body)}]`);
  let trigger: WatchConfig['trigger'] | undefined;
  const out: Omit<WatchConfig, 'trigger'> = { input: { type: 'none', body: {} }, condition: { type: 'always', body: {} }, actions: [] };
  for (const [key, value] of Object.entries(body)) {
    switch (key) {
      case 'trigger':
        trigger = { schedule: parseTrigger(watchId, value) };
        break;
      case 'input':
        out.input = parseInput(watchId, value);
        break;
      case 'condition':
        out.condition = parseCondition(watchId, value);
        break;
      case 'transform':
        out.transform = parseTransform(watchId, value);
        break;
      case 'throttle_period_in_millis':
        if (typeof value !== 'number') throw new ParseError(`could not parse watch [${watchId}]. failed to parse time value for field [${key}]`);
        out.throttle_period_in_millis = Math.trunc(value);
        break;
      case 'throttle_period':
        try {
          const ms = parseTimeValueMs(value, key);
          if (ms !== undefined) out.throttle_period_in_millis = ms;
        } catch (e) {
          throw new ParseError(`could not parse watch [${watchId}]. failed to parse time value for field [${key}]`, { cause: e as EsError });
        }
        break;
      case 'actions':
        out.actions = parseActions(watchId, value);
        break;
      case 'metadata':
        if (value !== null && !isJsonObject(value)) throw new ParseError(`could not parse watch [${watchId}]. unexpected field [${key}]`);
        if (value !== null) out.metadata = value;
        break;
      case 'status':
        // Ignored on put (Elasticsearch parses the body without its status).
        break;
      default:
        throw new ParseError(`could not parse watch [${watchId}]. unexpected field [${key}]`);
    }
  }
  if (!trigger) throw new ParseError(`could not parse watch [${watchId}]. missing required field [trigger]`);
  return { trigger, ...out };
}
