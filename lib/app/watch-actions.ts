/**
 * The I/O of a watch execution (the ports of `lib/domain/watcher/execution.ts`): the
 * `index`, `logging` and `webhook` actions, the `search` input/transform and the `http` input
 * (lib/app/watch-http.ts), as
 * Elasticsearch's `ExecutableIndexAction`, `ExecutableLoggingAction`,
 * `ExecutableWebhookAction` and `SearchInput` run them, over mlplane's document store.
 */
import { EsError, IllegalArgumentError, IllegalStateError, WatcherUnsupportedError } from '../domain/errors.ts';
import type { ActionRun, ExecutionPorts } from '../domain/watcher/execution.ts';
import { renderTemplate } from '../domain/watcher/template.ts';
import type { WatchAction } from '../domain/watcher/types.ts';
import { logger } from '../runtime/log.ts';
import { bulk, indexDocument } from './documents.ts';
import { search } from './search.ts';
import { renderHttpRequest, runHttpInput, sendHttpRequest } from './watch-http.ts';

type Json = Record<string, unknown>;

/** Longest a webhook may take (connect + read), ms: Elasticsearch's default `read_timeout` is 10 s; a host that does not answer becomes a failure, never a hang. */
export const WEBHOOK_TIMEOUT_MS = 10_000;

/** JSON stand-in for the model: `Date`s (Elasticsearch's date objects) become ISO strings. */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v ?? null));

const text = (t: unknown, model: Json): string => renderTemplate(typeof t === 'string' ? t : String(t ?? ''), model);

/**
 * Takes `_index`/`_id` out of a document (`ExecutableIndexAction.getField`): the payload's
 * value or the action's, never both.
 * @throws IllegalStateError "could not execute action [<a>] of watch [<w>]. [ctx.payload.<f>] or [ctx.payload._doc.<f>] were set together with action [<name>] field. Only set one of them"
 */
function takeField(doc: Json, field: '_index' | '_id', configured: unknown, actionId: string, watchId: string, name: string): string | undefined {
  const own = doc[field];
  delete doc[field];
  if (own !== undefined && configured !== undefined) {
    throw new IllegalStateError(
      `could not execute action [${actionId}] of watch [${watchId}]. [ctx.payload.${field}] or [ctx.payload._doc.${field}] were set together with action [${name}] field. Only set one of them`,
    );
  }
  const v = own ?? configured;
  return v === undefined || v === null ? undefined : String(v);
}

/** `{created, result, id, version, index}` of one write, as the index action reports it (`indexResponseToXContent`, no types in 8.x). */
function writeResponse(r: Json): Json {
  return { created: r.result === 'created', result: r.result, id: r._id, version: r._version, index: r._index };
}

async function runIndex(action: WatchAction, model: Json, simulate: boolean): Promise<ActionRun> {
  const cfg = (action.body ?? {}) as Json;
  const ctx = model.ctx as Json;
  const watchId = String(ctx.watch_id);
  const payload = plain(ctx.payload) as Json;
  const refresh = typeof cfg.refresh === 'string' ? cfg.refresh : undefined;
  const withTime = (doc: Json): Json => (typeof cfg.execution_time_field === 'string' ? { ...doc, [cfg.execution_time_field]: (ctx.execution_time as Date).toISOString() } : doc);
  if (Array.isArray(payload._doc)) {
    if (cfg.doc_id !== undefined) throw new IllegalStateError(`could not execute action [${action.id}] of watch [${watchId}]. [doc_id] cannot be used with bulk [_doc] indexing`);
    const docs = (payload._doc as unknown[]).map((d) => {
      if (!d || typeof d !== 'object' || Array.isArray(d))
        throw new IllegalStateError(
          `could not execute action [${action.id}] of watch [${watchId}]. failed to index payload data. [_data] field must either hold a Map or an List/Array of Maps`,
        );
      const doc = { ...(d as Json) };
      return { index: takeField(doc, '_index', cfg.index, action.id, watchId, 'index'), id: takeField(doc, '_id', cfg.doc_id, action.id, watchId, 'id'), source: withTime(doc) };
    });
    if (simulate) return { status: 'simulated', result: { request: docs.map((d) => ({ index: d.index, ...(d.id !== undefined ? { id: d.id } : {}), source: d.source })) } };
    const ndjson = docs.map((d) => `${JSON.stringify({ index: { _index: d.index, ...(d.id !== undefined ? { _id: d.id } : {}) } })}\n${JSON.stringify(d.source)}\n`).join('');
    const out = (await bulk(ndjson, undefined)) as { items: { index: Json }[] };
    const responses = out.items.map((i) =>
      i.index.error ? { failed: true, message: (i.index.error as Json).reason, id: i.index._id, index: i.index._index } : writeResponse(i.index),
    );
    // ExecutableIndexAction.indexBulk: success, failure when every item failed, else partial_failure (no reason either way).
    const failed = responses.filter((r) => r.failed === true).length;
    if (failed === 0) return { status: 'success', result: { response: responses } };
    return { status: failed === responses.length ? 'failure' : 'partial_failure', result: { response: responses } };
  }
  const doc = { ...payload };
  const index = takeField(doc, '_index', cfg.index, action.id, watchId, 'index');
  const id = takeField(doc, '_id', cfg.doc_id, action.id, watchId, 'id');
  if (index === undefined) throw new IllegalArgumentError(`could not execute action [${action.id}] of watch [${watchId}]. missing index`);
  const source = withTime(doc);
  if (simulate) return { status: 'simulated', result: { request: { index, ...(id !== undefined ? { id } : {}), ...(refresh ? { refresh } : {}), source } } };
  const r = await indexDocument(index, id, JSON.stringify(source), false, refresh);
  return { status: 'success', result: { response: writeResponse(r.body as Json) } };
}

function runLogging(action: WatchAction, model: Json, simulate: boolean): ActionRun {
  const cfg = (action.body ?? {}) as Json;
  const loggedText = text(cfg.text, model);
  if (!simulate) {
    const level = typeof cfg.level === 'string' ? cfg.level : 'info';
    const fields = { watch_id: (model.ctx as Json).watch_id, action_id: action.id, category: cfg.category ?? 'org.elasticsearch.xpack.watcher.actions.logging.LoggingAction' };
    if (level === 'error') logger.error(loggedText, fields);
    else if (level === 'warn') logger.warn(loggedText, fields);
    else if (level === 'debug' || level === 'trace') logger.debug(loggedText, fields);
    else logger.info(loggedText, fields);
  }
  return { status: simulate ? 'simulated' : 'success', result: { logged_text: loggedText } };
}

/**
 * Sends the webhook ({@link sendHttpRequest}), bounded by `timeoutMs`: a status ≥ 400 is a
 * failure `received [<status>] status code`; a host that does not answer throws (the
 * execution records a failure with the error).
 */
async function runWebhook(action: WatchAction, model: Json, simulate: boolean, timeoutMs: number): Promise<ActionRun> {
  const cfg = (action.body ?? {}) as Json;
  // Sending without the credentials, proxy or TLS settings asked for would be a wrong request, not a lesser one.
  for (const option of ['auth', 'proxy', 'ssl']) {
    if (cfg[option] !== undefined) throw new WatcherUnsupportedError(`webhook ${option}`, 'action');
  }
  const req = renderHttpRequest(cfg, model, 'webhook action');
  if (simulate) return { status: 'simulated', result: { request: req } };
  const res = await sendHttpRequest(req, timeoutMs, 'webhook');
  const result = { request: req, response: { status: res.status, headers: res.headers, body: res.body } };
  if (res.status >= 400) return { status: 'failure', reason: `received [${res.status}] status code`, result };
  return { status: 'success', result };
}

/** Renders the templates in every string of a search body (leaf by leaf, so a rendered value never breaks the JSON). */
function renderLeaves(v: unknown, model: Json): unknown {
  if (typeof v === 'string') return renderTemplate(v, model);
  if (Array.isArray(v)) return v.map((x) => renderLeaves(x, model));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, renderLeaves(x, model)]));
  return v;
}

/**
 * The execution ports over the document store.
 * @param webhookTimeoutMs bound of one webhook call, and of an `http` input that sets no timeouts (tests shorten it)
 */
export function executionPorts(webhookTimeoutMs = WEBHOOK_TIMEOUT_MS): ExecutionPorts {
  return {
    now: () => Date.now(),
    async search(request, model) {
      const indices = Array.isArray(request.indices) ? (request.indices as unknown[]).map((i) => text(i, model)).join(',') : undefined;
      const body = request.body === undefined ? undefined : JSON.stringify(renderLeaves(request.body, model));
      // Watcher's search requests default to `rest_total_hits_as_int: true` (WatcherSearchTemplateRequest), so `ctx.payload.hits.total` is a number.
      const params: Record<string, string> = {};
      if (request.rest_total_hits_as_int !== false) params.rest_total_hits_as_int = 'true';
      return (await search(indices, body, params)) as Json;
    },
    async runAction(action, model, simulate) {
      switch (action.type) {
        case 'index':
          return runIndex(action, model, simulate);
        case 'logging':
          return runLogging(action, model, simulate);
        case 'webhook':
          return runWebhook(action, model, simulate, webhookTimeoutMs);
        default:
          throw new EsError('illegal_argument_exception', 400, `mlplane does not run [${String(action.type)}] actions`);
      }
    },
    httpInput: (body, model) => runHttpInput(body, model, webhookTimeoutMs),
  };
}
