/**
 * Domain errors, one class per failure mode, each carrying the Elasticsearch exception
 * `type`, the HTTP status and the reason text that Elasticsearch puts on the wire
 * (spec E.4). The HTTP chain maps them with `instanceof EsError`; nothing else reaches a
 * client (an unknown error becomes a 500 `exception` with a generic reason).
 */
import { formatPos, type JsonPos } from './json/position.ts';

/** One link of the `caused_by` chain of an Elasticsearch error body. */
export interface EsCause {
  type: string;
  reason: string;
  caused_by?: EsCause;
  [extra: string]: unknown;
}

/** The JSON body Elasticsearch sends for a failure: `{error:{root_cause,type,reason,…},status}`. */
export interface EsErrorBody {
  error: EsCause & { root_cause: EsCause[] };
  status: number;
}

/**
 * Base class of every error that has an Elasticsearch rendering.
 * `cause` (optional) is rendered as `caused_by`; the root cause follows
 * `ElasticsearchException.guessRootCauses` (the innermost EsError cause).
 */
export class EsError extends Error {
  readonly type: string;
  readonly status: number;
  readonly metadata: Record<string, unknown>;
  override readonly cause: EsError | undefined;

  constructor(type: string, status: number, reason: string, options: { cause?: EsError; metadata?: Record<string, unknown> } = {}) {
    super(reason);
    this.name = new.target.name;
    this.type = type;
    this.status = status;
    this.cause = options.cause;
    this.metadata = options.metadata ?? {};
  }

  /** `{type, reason, caused_by?, …metadata}` for this error and its causes. */
  toCause(): EsCause {
    const out: EsCause = { type: this.type, reason: this.message, ...this.metadata };
    if (this.cause) out.caused_by = this.cause.toCause();
    return out;
  }

  /**
   * The root cause as `ElasticsearchException.guessRootCauses` picks it: an Elasticsearch
   * exception descends into an Elasticsearch cause; a parse exception descends into a
   * parse or Elasticsearch cause; a plain Java exception (or a plain Java cause) stops.
   */
  rootCause(): EsError {
    const c = this.cause;
    if (!c) return this;
    if (isParseException(this)) return isParseException(c) || !isJavaException(c) ? c.rootCause() : this;
    if (isJavaException(this)) return this;
    return isJavaException(c) ? this : c.rootCause();
  }

  /** The whole Elasticsearch error body. */
  toBody(): EsErrorBody {
    const root = this.rootCause();
    const rootCause: EsCause = { type: root.type, reason: root.message, ...root.metadata };
    return { error: { root_cause: [rootCause], ...this.toCause() }, status: this.status };
  }
}

/** Types of errors that stand for plain Java exceptions (not `ElasticsearchException`s), which end a root-cause search. */
const JAVA_EXCEPTION_TYPES = new Set([
  'illegal_argument_exception',
  'illegal_state_exception',
  'number_format_exception',
  'class_cast_exception',
  'null_pointer_exception',
  'json_parse_exception',
  'arithmetic_exception',
  'date_time_exception',
  // java.time.zone.ZoneRulesException (a DateTimeException): an unknown time zone.
  'zone_rules_exception',
  'pattern_syntax_exception',
  'x_content_parse_exception',
  'x_content_e_o_f_exception',
  // ActionRequestValidationException is a ValidationException, an IllegalArgumentException.
  'action_request_validation_exception',
  'stream_constraints_exception',
]);

/** Whether an error stands for a plain Java exception (XContentParseException is an IllegalArgumentException). */
export function isJavaException(e: EsError): boolean {
  return JAVA_EXCEPTION_TYPES.has(e.type);
}

function isParseException(e: EsError): boolean {
  return e.type === 'x_content_parse_exception' || e.type === 'x_content_e_o_f_exception';
}

/** `status_exception` (ElasticsearchStatusException) with an explicit status. */
export class StatusError extends EsError {
  constructor(status: number, reason: string, options: { cause?: EsError } = {}) {
    super('status_exception', status, reason, options);
  }
}

/** 409 `status_exception`: the entity is in the wrong state for the request. */
export class ConflictError extends StatusError {
  constructor(reason: string, options: { cause?: EsError } = {}) {
    super(409, reason, options);
  }
}

/** 429 `status_exception`: capacity or upgrade mode refuses the request. */
export class TooManyRequestsError extends StatusError {
  constructor(reason: string, options: { cause?: EsError } = {}) {
    super(429, reason, options);
  }
}

/** 404 `resource_not_found_exception`. */
export class ResourceNotFoundError extends EsError {
  constructor(reason: string) {
    super('resource_not_found_exception', 404, reason);
  }
}

/** 400 `resource_already_exists_exception`. */
export class ResourceAlreadyExistsError extends EsError {
  constructor(reason: string) {
    super('resource_already_exists_exception', 400, reason);
  }
}

/** 400 `illegal_argument_exception` (Java IllegalArgumentException). */
export class IllegalArgumentError extends EsError {
  constructor(reason: string, options: { cause?: EsError } = {}) {
    super('illegal_argument_exception', 400, reason, options);
  }
}

/** 500 `illegal_state_exception` (e.g. "Timed out when waiting for persistent tasks after 30m"). */
export class IllegalStateError extends EsError {
  constructor(reason: string, options: { cause?: EsError } = {}) {
    super('illegal_state_exception', 500, reason, options);
  }
}

/** 400 `x_content_parse_exception`; the reason starts with `[line:col] ` when a position is known. */
export class XContentParseError extends EsError {
  constructor(reason: string, options: { cause?: EsError } = {}) {
    super('x_content_parse_exception', 400, reason, options);
  }
}

/** 400 `parse_exception` (ElasticsearchParseException), e.g. "request body is required". */
export class ParseError extends EsError {
  constructor(reason: string, options: { cause?: EsError } = {}) {
    super('parse_exception', 400, reason, options);
  }
}

/** 400 `action_request_validation_exception`; reason "Validation Failed: 1: …;". */
export class ActionRequestValidationError extends EsError {
  constructor(errors: string[]) {
    super('action_request_validation_exception', 400, `Validation Failed: ${errors.map((e, i) => `${i + 1}: ${e};`).join('')}`);
  }
}

/** 401 `security_exception` for missing or wrong credentials. */
export class AuthenticationError extends EsError {
  constructor(reason: string, options: { cause?: EsError } = {}) {
    super('security_exception', 401, reason, options);
  }
}

/** 403 `security_exception` for a user lacking a privilege. */
export class AuthorizationError extends EsError {
  constructor(reason: string) {
    super('security_exception', 403, reason);
  }
}

/**
 * 400 `bad_parameter_exception` (`RestRequest.BadParameterException`): the query string
 * could not be decoded. A plain Java exception wrapping the decoder's
 * `IllegalArgumentException`, so its reason is `java.lang.IllegalArgumentException: <msg>`
 * and it is its own root cause.
 */
export class BadParameterError extends EsError {
  constructor(cause: IllegalArgumentError) {
    super('bad_parameter_exception', 400, `java.lang.IllegalArgumentException: ${cause.message}`, { cause });
  }

  override rootCause(): EsError {
    return this;
  }
}

/**
 * 400 `media_type_header_exception` (`RestRequest.MediaTypeHeaderException`): an `Accept`
 * or `Content-Type` header Elasticsearch cannot use. Reason "Invalid media-type value on
 * headers [<names>]", the detail in `caused_by`; a plain Java exception, its own root cause.
 */
export class MediaTypeHeaderError extends EsError {
  constructor(headers: readonly string[], cause: EsError) {
    super('media_type_header_exception', 400, `Invalid media-type value on headers [${headers.join(', ')}]`, { cause });
  }

  override rootCause(): EsError {
    return this;
  }
}

/**
 * A failure Elasticsearch answers with `RestResponse.createSimpleErrorResponse`: the body is
 * `{"error":"<reason>","status":<status>}` (a string, not an exception object), e.g. the 406
 * "Content-Type header [text/plain] is not supported".
 */
export class SimpleHttpError extends Error {
  readonly status: number;

  constructor(status: number, reason: string) {
    super(reason);
    this.name = 'SimpleHttpError';
    this.status = status;
  }

  /** `{error, status}`. */
  toBody(): { error: string; status: number } {
    return { error: this.message, status: this.status };
  }
}

/**
 * 400 `validation_exception` (`org.elasticsearch.common.ValidationException`, a Java
 * IllegalArgumentException): reason "Validation Failed: 1: <e1>;2: <e2>;".
 */
export class ValidationError extends EsError {
  constructor(errors: string[]) {
    super('validation_exception', 400, `Validation Failed: ${errors.map((e, i) => `${i + 1}: ${e};`).join('')}`);
  }
}

/** 413 `content_too_long_exception`-like rejection of a body over the limit. */
export class ContentTooLongError extends EsError {
  constructor(limitBytes: number) {
    super('content_too_long_exception', 413, `entity content is too long [>${limitBytes}] for the configured buffer limit`);
  }
}

/** 500 `exception` for a generic failure whose text is safe to show (e.g. "Exception closing autodetect process"). */
export class InternalError extends EsError {
  constructor(reason: string) {
    super('exception', 500, reason);
  }
}

/**
 * 400 `illegal_argument_exception` for a value that Elasticsearch would accept but mlplane
 * cannot store: every job configuration, filter and the cluster settings are one DynamoDB
 * item each (400 KB). Elasticsearch has no such limit, so there is no Elasticsearch text to
 * copy; the reason follows its style and names the field, the size and the limit in bytes:
 * `[description] is too large: the job configuration would be [12000345] bytes, over the limit of [307200] bytes`.
 */
export class StoredSizeLimitError extends IllegalArgumentError {
  readonly field: string;
  readonly bytes: number;
  readonly limitBytes: number;
  constructor(field: string, what: string, bytes: number, limitBytes: number, unit = 'bytes') {
    super(`[${field}] is too large: ${what} would be [${bytes}] ${unit}, over the limit of [${limitBytes}] ${unit}`);
    this.field = field;
    this.bytes = bytes;
    this.limitBytes = limitBytes;
  }
}

/**
 * A failure that a later delivery of the same command can cure (a lost race, a step
 * deferred for lack of time, throttled writes left unprocessed). The worker hands the
 * message back for redelivery instead of recording the failure as the command's outcome.
 */
export class TransientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Thrown by the store when a conditional write lost a race; use cases turn it into a domain error or retry. */
export class StaleStateError extends TransientError {
  constructor(message: string) {
    super(message);
    this.name = 'StaleStateError';
  }
}

/**
 * Thrown by the watch store when a conditional write of a watch found another `_seq_no`
 * (or no watch): `current` is what is stored now, undefined when the watch is missing.
 * A StaleStateError, so a worker retrying its command re-reads the watch.
 */
export class WatchWriteConflict extends StaleStateError {
  readonly current: { version: number; seqNo: number; primaryTerm: number } | undefined;
  constructor(watchId: string, current: { version: number; seqNo: number; primaryTerm: number } | undefined) {
    super(`watch [${watchId}] changed concurrently`);
    this.name = 'WatchWriteConflict';
    this.current = current;
  }
}

/**
 * 400 `illegal_argument_exception` "mlplane does not support the [<what>] <kind> yet": a
 * Watcher input, condition, transform or action type that Elasticsearch has and mlplane does
 * not run (e.g. the `script` condition: mlplane has no scripting). Refused at put so that a
 * watch never stores what it cannot execute. With `supported`, the text goes on
 * "; supported <kind>s are [a, b]" so the user sees what to use instead.
 */
export class WatcherUnsupportedError extends IllegalArgumentError {
  constructor(what: string, kind: 'input' | 'condition' | 'transform' | 'action', supported?: readonly string[]) {
    super(`mlplane does not support the [${what}] ${kind} yet${supported ? `; supported ${kind}s are [${supported.join(', ')}]` : ''}`);
  }
}

/** The index metadata Elasticsearch puts on `.watches` document errors. */
const watchesIndexMeta = { index_uuid: '_na_', shard: '0', index: '.watches' };

/**
 * 409 `version_conflict_engine_exception` on the `.watches` document of a watch, e.g.
 * "[my_watch]: version conflict, required seqNo [3], primary term [1]. current document has seqNo [4] and primary term [1]".
 */
export class WatchVersionConflictError extends EsError {
  constructor(reason: string) {
    super('version_conflict_engine_exception', 409, reason, { metadata: watchesIndexMeta });
  }
}

/** 404 `document_missing_exception` "[<id>]: document missing": a partial update (activate, versioned put) of a watch that does not exist. */
export class WatchDocumentMissingError extends EsError {
  constructor(watchId: string) {
    super('document_missing_exception', 404, `[${watchId}]: document missing`, { metadata: watchesIndexMeta });
  }
}

/** Ready-made Elasticsearch ML messages (spec A). */
export const Messages = {
  unknownJob: (id: string) => `No known job with id '${id}'`,
  jobNotOpen: (id: string) => `Cannot perform requested action because job [${id}] is not open`,
  alreadyOpened: (id: string) => `Cannot open job [${id}] because it has already been opened`,
  closeFailedOne: (id: string) => `cannot close job [${id}] because it failed, use force close`,
  closeFailedMany: 'one or more jobs have state failed, use force close',
  jobExists: (id: string) => `The job cannot be created with the Id '${id}'. The Id is already used.`,
  upgradeMode: (action: string) => `Cannot perform ${action} action while upgrade mode is enabled`,
  /** `TransportSetUpgradeModeAction`: a second call while one runs (429, with {@link Messages.upgradeModeBusyDetail} as `caused_by`). */
  upgradeModeBusy: 'Cannot change [upgrade_mode]. Previous request is still being processed.',
  upgradeModeBusyDetail: (to: boolean, from: boolean) => `Attempted to set [upgrade_mode] to [${to}] from [${from}] while previous request was processing.`,
  /** `MlTasks.AWAITING_UPGRADE`: the assignment explanation of every job and datafeed task while upgrade mode is on. */
  awaitingUpgrade: 'persistent task cannot be assigned while upgrade mode is enabled.',
  deleteOpen: (id: string, state: string) => `Cannot delete job [${id}] because the job is ${state}`,
  persistentTasksTimeout: (human: string) => `Timed out when waiting for persistent tasks after ${human}`,
  postDataDeprecation: 'Posting data directly to anomaly detection jobs is deprecated, in a future major version it will be compulsory to use a datafeed',
} as const;

/**
 * Thrown by a use case's apply side when the invocation has too little time left for its
 * next step. Its progress is saved on the entity, so the command runner hands the command
 * on to a continuation message in the same FIFO group and completes the current one: long
 * work takes as many invocations as it needs instead of spending deliveries. Transient,
 * so anything that does not hand it on leaves the message for redelivery instead.
 */
export class WorkDeferred extends TransientError {}

/** A graceful close (spec B.3) stopped between two steps for lack of time; the next invocation resumes it. */
export class CloseDeferred extends WorkDeferred {
  constructor(jobId: string) {
    super(`close of job [${jobId}] continues on the next delivery`);
  }
}

/**
 * Work of a job or datafeed halted by upgrade mode between two of its steps (a close step, a
 * lookback chunk): the runner parks the message, to run again when upgrade mode is disabled.
 */
export class WorkParked extends WorkDeferred {
  constructor(what: string) {
    super(`${what} waits for upgrade mode to be disabled`);
  }
}

/** A datafeed lookback stopped between two chunks for lack of time; the next invocation resumes after the last posted chunk. */
export class LookbackDeferred extends WorkDeferred {
  constructor(datafeedId: string) {
    super(`lookback of datafeed [${datafeedId}] continues on the next delivery`);
  }
}

/** A renormalization stopped between two chunks (out of time, or its share of the invocation used); the next invocation resumes at its saved cursor. */
export class RenormalizationDeferred extends WorkDeferred {
  constructor(jobId: string) {
    super(`renormalization of job [${jobId}] continues on the next delivery`);
  }
}

/** An EsError rebuilt from a stored error body, so a worker's failure reaches the client unchanged. */
export class StoredEsError extends EsError {
  constructor(private readonly body: EsErrorBody) {
    super(body.error.type, body.status, body.error.reason);
  }
  override toBody(): EsErrorBody {
    return this.body;
  }
  override toCause(): EsCause {
    const { root_cause: _root, ...cause } = this.body.error;
    return cause;
  }
}

// ---------------------------------------------------------------------------------------
// Request body (JSON reader) errors, raised by lib/domain/json/
// ---------------------------------------------------------------------------------------

/**
 * 400 `x_content_parse_exception` with its location kept apart from the text. The reason is
 * `[line:col] <message>` when a location is known.
 *
 * `rootCause()` follows `ElasticsearchException.guessRootCauses` for parse exceptions: it
 * descends into a cause that is another parse exception or an Elasticsearch exception, and
 * stops at itself when the cause is a plain Java exception (e.g. `"model_prune_window":"8w"`
 * has this error, not the `illegal_argument_exception`, as root cause).
 */
export class XContentParseLocatedError extends XContentParseError {
  readonly location: JsonPos | null;
  constructor(location: JsonPos | null, message: string, cause?: EsError) {
    super(location ? `[${formatPos(location)}] ${message}` : message, cause ? { cause } : {});
    this.location = location;
  }
}

/** 400 `x_content_e_o_f_exception` (`XContentEOFException`, a subclass of the parse exception). */
export class XContentEOFError extends XContentParseLocatedError {
  constructor(location: JsonPos | null, message: string, cause?: EsError) {
    super(location, message, cause);
    Object.defineProperty(this, 'type', { value: 'x_content_e_o_f_exception' });
  }
}

/**
 * 400 `stream_constraints_exception`: Jackson's `StreamConstraintsException` (nesting depth,
 * number length). It is a plain Java exception (root-cause search stops at it), and
 * `JsonXContentParser` lets it through unrelocated, so the reason has no `[line:col]`.
 * Inside a typed field Elasticsearch's `ObjectParser` wraps it in
 * `[<l:c>] [<parser>] failed to parse field [<f>]` (400); at top level Elasticsearch would
 * answer 500 (an `IOException`), which no client expects for a malformed body, so it is 400
 * here as well.
 */
export class StreamConstraintsError extends EsError {
  /** Location of the token that broke the limit (for the wrappers' `[line:col]`). */
  readonly location: JsonPos;
  constructor(location: JsonPos, message: string) {
    super('stream_constraints_exception', 400, message);
    this.location = location;
  }
}

// ---------------------------------------------------------------------------------------
// Anomaly model (lib/detect) errors
// ---------------------------------------------------------------------------------------

/**
 * 400 `x_content_parse_exception`: the `_data` body is not JSON, or holds something other
 * than objects. The reason starts with `[line:col] ` like Elasticsearch's parser errors.
 */
export class DataParseError extends XContentParseError {
  /** 1-based position of the failure in the body. */
  readonly line: number;
  readonly column: number;

  constructor(line: number, column: number, detail: string) {
    super(`[${line}:${column}] Failed to parse the data: ${detail}`);
    this.line = line;
    this.column = column;
  }
}

/**
 * Thrown when a state blob is truncated, of another version, or does not fit the spec.
 * `stateVersion` is set when the blob is whole but of a format version this model cannot
 * read (a snapshot of an older model): job open turns that into Elasticsearch's refusal of
 * a model snapshot older than its minimum version.
 */
export class ModelStateError extends Error {
  constructor(
    message: string,
    readonly stateVersion?: number,
  ) {
    super(message);
    this.name = 'ModelStateError';
  }
}

// ---------------------------------------------------------------------------------------
// Datafeeds (spec A.5.8)
// ---------------------------------------------------------------------------------------

/** Ready-made Elasticsearch datafeed messages (`Messages.DATAFEED_*`, the transport actions' texts). */
export const DatafeedMessages = {
  notFound: (id: string) => `No datafeed with id [${id}] exists`,
  idTaken: (id: string) => `A datafeed with id [${id}] already exists`,
  jobHasDatafeed: (existing: string, jobId: string) => `A datafeed [${existing}] already exists for job [${jobId}]`,
  jobNotOpen: (datafeedId: string, jobId: string, state: string) => `cannot start datafeed [${datafeedId}] because job [${jobId}] is ${state}`,
  deleteJobDatafeed: (jobId: string, datafeedId: string) => `failed to delete job [${jobId}] as its datafeed [${datafeedId}] could not be deleted`,
  started: (from: string, to: string, frequency: string) => `Datafeed started (from: ${from} to: ${to}) with frequency [${frequency}]`,
  lookbackCompleted: 'Datafeed lookback completed',
  lookbackNoData: 'Datafeed lookback retrieved no data',
  continuedRealtime: 'Datafeed continued in real-time',
  startedRealtime: 'Datafeed started in real-time',
  noData: 'Datafeed has been retrieving no data for a while',
  dataSeenAgain: 'Datafeed has started retrieving data again',
  recovered: 'Datafeed has recovered data extraction and analysis',
  missingData: (missing: number, latestBucket: string) =>
    `Datafeed has missed ${missing} documents due to ingest latency, latest bucket with missing data is [${latestBucket}]. Consider increasing query_delay`,
  stopped: 'Datafeed stopped',
  extractionError: (reason: string) => `Datafeed is encountering errors extracting data: ${reason}`,
} as const;
// Document store (lib/domain/documents, lib/domain/search)
// ---------------------------------------------------------------------------------------

/** The metadata Elasticsearch adds to index-level exceptions (`index_uuid`, `index`). */
const indexMeta = (index: string, uuid = '_na_'): Record<string, unknown> => ({ index_uuid: uuid, index });

/** 404 `index_not_found_exception` "no such index [<index>]", with Elasticsearch's `resource.type`/`resource.id`/`index_uuid`/`index`. */
export class IndexNotFoundError extends EsError {
  constructor(index: string) {
    super('index_not_found_exception', 404, `no such index [${index}]`, {
      metadata: { 'resource.type': 'index_or_alias', 'resource.id': index, ...indexMeta(index) },
    });
  }
}

/** 400 `invalid_index_name_exception` "Invalid index name [<index>], <why>". */
export class InvalidIndexNameError extends EsError {
  constructor(index: string, why: string) {
    super('invalid_index_name_exception', 400, `Invalid index name [${index}], ${why}`, { metadata: indexMeta(index) });
  }
}

/** 400 `resource_already_exists_exception` "index [<index>/<uuid>] already exists". */
export class IndexAlreadyExistsError extends EsError {
  constructor(index: string, uuid: string) {
    super('resource_already_exists_exception', 400, `index [${index}/${uuid}] already exists`, { metadata: indexMeta(index, uuid) });
  }
}

/** 409 `version_conflict_engine_exception` "[<id>]: version conflict, document already exists (current version [<v>])". */
export class VersionConflictError extends EsError {
  constructor(index: string, uuid: string, id: string, currentVersion: number) {
    super('version_conflict_engine_exception', 409, `[${id}]: version conflict, document already exists (current version [${currentVersion}])`, {
      metadata: { index_uuid: uuid, shard: '0', index },
    });
  }
}

/** 400 `document_parsing_exception` (Elasticsearch 8.8+): a document or one of its fields cannot be indexed. */
export class DocumentParsingError extends EsError {
  constructor(reason: string, cause?: EsError) {
    super('document_parsing_exception', 400, reason, cause ? { cause } : {});
  }
}

/** 400 `mapper_parsing_exception`: a mapping Elasticsearch refuses (unknown type, bad parameter). */
export class MapperParsingError extends EsError {
  constructor(reason: string, cause?: EsError) {
    super('mapper_parsing_exception', 400, reason, cause ? { cause } : {});
  }
}

/** 400 `parsing_exception` (ParsingException) with Elasticsearch's `line`/`col` metadata, e.g. "unknown query [x]". */
export class QueryParsingError extends EsError {
  constructor(reason: string, pos?: { line: number; col: number }) {
    super('parsing_exception', 400, reason, pos ? { metadata: { line: pos.line, col: pos.col } } : {});
  }
}

/** 400 `illegal_argument_exception` "mlplane does not support the [<what>] <kind> yet": Elasticsearch supports it, the document store does not. */
export class DocumentStoreUnsupportedError extends IllegalArgumentError {
  constructor(what: string, kind: string) {
    super(`mlplane does not support the [${what}] ${kind} yet`);
  }
}

/**
 * 400 `illegal_argument_exception`: a schedule (schedules.json, the stack's `schedules`, a
 * `ScheduledCommand`) that EventBridge Scheduler would refuse, or that mlplane cannot run. The
 * reason names the source (file), the schedule and the field: "schedules.json: schedule
 * [close-nightly]: expression [cron(0 2 * * * *)]: exactly one of … must be ?".
 */
export class ScheduleConfigError extends IllegalArgumentError {}

/**
 * 400 `illegal_argument_exception` for a write to the ML results indices (`.ml-anomalies-*`).
 * Elasticsearch would accept such a write (the indices are hidden, not system indices), but
 * in mlplane they are a read-only view of the results store, which only jobs write; a clear
 * 400 is what a user expects rather than a document that no result read would ever show.
 */
export class MlResultsIndexWriteError extends IllegalArgumentError {
  constructor(index: string) {
    super(`mlplane does not support writing to [${index}]: the .ml-anomalies-* indices are a read-only view of the anomaly detection results`);
  }
}
