import { LogFormatter, Logger, LogItem } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';
import type { MiddlewareObj } from '@middy/core';

/**
 * Structured logging to stdout (CloudWatch Logs in AWS), on Powertools' logger.
 *
 * - `LOG_LEVEL` = `debug` | `info` | `warn` | `error` | `silent` (default `info`). Any other
 *   value is a configuration error: `config()` refuses it at start (see `lib/runtime/config.ts`),
 *   so a typo never silently means `info`.
 * - `LOG_FORMAT` = `json` (one JSON object a line) | `text` (`<time> <LEVEL> <message> k=v …`,
 *   for people). Default: `text` when stdout is a terminal (`npm start` in a shell), else `json`
 *   (Lambda, pipes, files).
 *
 * Errors are serialised with their name, message and stack.
 *
 * Powertools' `Logger` carries the Lambda context ({@link lambdaContext}): in `json`, each
 * line of an invocation gets `cold_start`, `function_name`, `function_request_id` (and
 * `xray_trace_id` when traced). Two of our behaviours Powertools cannot keep, so they stay
 * ours: the `text` format (Powertools prints JSON only), rendered by {@link renderLine} in
 * an overridden `printLog` that writes every level to stdout (Powertools would send warn
 * and error to stderr); and the level, which is read from `LOG_LEVEL` at each call and
 * refused when unknown (Powertools reads it once and falls back to INFO on a typo), so our
 * gate runs first and the Powertools logger is built at DEBUG. `AWS_LAMBDA_LOG_LEVEL`
 * (Lambda's advanced logging controls) still lowers what Powertools lets through.
 */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'text'] as const;

type Level = Exclude<LogLevel, 'silent'>;
const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/**
 * Reads `LOG_LEVEL`.
 * @throws Error "LOG_LEVEL must be one of debug, info, warn, error, silent; got \"<v>\"" for any other value
 */
export function logLevel(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const v = env.LOG_LEVEL ?? 'info';
  if ((LOG_LEVELS as readonly string[]).includes(v)) return v as LogLevel;
  throw new Error(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}; got ${JSON.stringify(v)}`);
}

function threshold(): number {
  try {
    return order[logLevel()];
  } catch {
    // config() refuses a bad LOG_LEVEL at start; a log call must never be what throws.
    return order.info;
  }
}

function format(): 'json' | 'text' {
  const f = process.env.LOG_FORMAT;
  if (f === 'json' || f === 'text') return f;
  return process.stdout.isTTY ? 'text' : 'json';
}

function serialise(v: unknown): unknown {
  return v instanceof Error ? { name: v.name, message: v.message, stack: v.stack } : v;
}

function textValue(v: unknown): string {
  if (typeof v === 'string') return /[\s"]/.test(v) || v === '' ? JSON.stringify(v) : v;
  return JSON.stringify(v) ?? String(v);
}

/**
 * Renders one log line. In `text`, the `http` field of access lines is left out (the message
 * already says it) and an error's stack follows on its own lines.
 */
export function renderLine(fmt: 'json' | 'text', level: Level, message: string, fields: Record<string, unknown>, time: Date): string {
  if (fmt === 'json') {
    const out: Record<string, unknown> = { level, message, time: time.toISOString() };
    for (const [k, v] of Object.entries(fields)) out[k] = serialise(v);
    return JSON.stringify(out);
  }
  let line = `${time.toISOString()} ${level.toUpperCase().padEnd(5)} ${message}`;
  let stack = '';
  for (const [k, v] of Object.entries(fields)) {
    if (k === 'http' || v === undefined) continue;
    if (v instanceof Error) {
      line += ` ${k}=${textValue(`${v.name}: ${v.message}`)}`;
      if (v.stack) stack += `\n${v.stack}`;
    } else line += ` ${k}=${textValue(v)}`;
  }
  return line + stack;
}

/** A log item that keeps its parts apart, so `printLog` can render text without the Lambda context. */
class LineItem extends LogItem {
  constructor(
    readonly level: Level,
    readonly message: string,
    readonly time: Date,
    readonly context: Record<string, unknown>,
    readonly fields: Record<string, unknown>,
  ) {
    super({ attributes: {} });
  }
}

/** Builds {@link LineItem}s: our field names and order (`level`, `message`, `time`, then the rest). */
class LineFormatter extends LogFormatter {
  override formatAttributes(a: UnformattedAttributes, fields: LogAttributes): LogItem {
    const level = a.logLevel.toLowerCase();
    const lambda = a.lambdaContext;
    const context: Record<string, unknown> =
      lambda?.awsRequestId !== undefined && lambda
        ? { cold_start: lambda.coldStart, function_name: lambda.functionName, function_request_id: lambda.awsRequestId, xray_trace_id: a.xRayTraceId }
        : {};
    return new LineItem((level === 'critical' ? 'error' : level === 'trace' ? 'debug' : level) as Level, a.message, a.timestamp, context, fields);
  }
}

/** Powertools' logger, writing our lines to stdout in either format. */
class LineLogger extends Logger {
  protected override printLog(_level: number, log: LogItem): void {
    if (!(log instanceof LineItem)) return;
    const fmt = format();
    const fields = fmt === 'json' ? { ...log.context, ...log.fields } : log.fields;
    process.stdout.write(`${renderLine(fmt, log.level, log.message, fields, log.time)}\n`);
  }
}

const powertools = new LineLogger({ logLevel: 'DEBUG', logFormatter: new LineFormatter() });

/**
 * The middy middleware that gives this invocation's log lines the Lambda context (request
 * id, cold start, function name). Used once per chain: `lib/http/chain.ts`,
 * `lib/worker/chain.ts`, the schedule handlers.
 */
export function lambdaContext(): MiddlewareObj {
  return injectLambdaContext(powertools) as MiddlewareObj;
}

function emit(level: Level, message: string, fields: Record<string, unknown> = {}): void {
  if (order[level] < threshold()) return;
  // Fields are passed as the main input, whose values Powertools copies as they are (an
  // extra-input object would be deep-merged, turning an Error into an empty object).
  powertools[level]({ ...fields, message });
}

export const logger = {
  debug: (m: string, f?: Record<string, unknown>) => emit('debug', m, f),
  info: (m: string, f?: Record<string, unknown>) => emit('info', m, f),
  warn: (m: string, f?: Record<string, unknown>) => emit('warn', m, f),
  error: (m: string, f?: Record<string, unknown>) => emit('error', m, f),
  /** Whether `debug` lines are written (to skip building their fields otherwise). */
  isDebug: () => threshold() <= order.debug,
};

/** What an access line records about one request: never credentials, bodies or query values. */
export interface AccessRecord {
  method: string;
  path: string;
  status: number;
  durationMs: number;
  /** The authenticated user, when authentication succeeded. */
  user?: string;
  /** Names of the query parameters (their values may hold secrets, e.g. a `source` body). */
  params?: readonly string[];
  requestId?: string;
}

/** Writes the info-level access line of one request: `GET /_ml/info 200 3ms user=elastic`. */
export function logAccess(r: AccessRecord): void {
  const fields: Record<string, unknown> = { http: { method: r.method, path: r.path, status: r.status, duration_ms: r.durationMs } };
  if (r.user !== undefined) fields.user = r.user;
  if (r.params && r.params.length > 0) fields.params = r.params.join(',');
  if (r.requestId !== undefined) fields.request_id = r.requestId;
  // Control characters in a path would forge log lines in text format: escape them.
  const path = r.path.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  emit('info', `${r.method} ${path} ${r.status} ${r.durationMs}ms`, fields);
}
