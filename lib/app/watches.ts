/**
 * Watcher CRUD use cases (spec `watcher-ack.md` §4.1, §4.2, §4.4, §4.5): put, get, delete,
 * activate/deactivate. Acknowledging lives in `ack-watch.ts`. Each use case reads the watch
 * item and writes it back with one conditional write (`lib/store/watches.ts`).
 */
import { ActionRequestValidationError, ResourceNotFoundError, WatchDocumentMissingError, WatchVersionConflictError, WatchWriteConflict } from '../domain/errors.ts';
import { parseWatch } from '../domain/watcher/parse.ts';
import { freshStatus, mergeStatus, setActive } from '../domain/watcher/status.ts';
import { renderStatus, renderWatch } from '../domain/watcher/types.ts';
import { deleteWatch as deleteWatchItem, getWatch as getWatchItem, PRIMARY_TERM, putStatus, putWatch as putWatchItem, type StoredWatch } from '../store/watches.ts';
import { getWatchWithAckExpiry } from './ack-expiry.ts';

/** Which path family a request came in on: the 5.x `_xpack/watcher` family answers with `_status` (spec §1.4). */
export type WatcherPaths = 'current' | 'xpack';

/** The status key of a response: `status`, or `_status` on the 5.x paths. */
export const statusKey = (paths: WatcherPaths): string => (paths === 'xpack' ? '_status' : 'status');

/** Elasticsearch's `Validation.watchId` check: an id with whitespace is refused. */
export function watchIdErrors(id: string | undefined): string[] {
  if (id === undefined || id === '') return ['watch id is missing'];
  return /\s/.test(id) ? ['watch id contains whitespace'] : [];
}

/** `Watch with id [<id>] does not exist` (404 `resource_not_found_exception`). */
export const unknownWatchError = (id: string): ResourceNotFoundError => new ResourceNotFoundError(`Watch with id [${id}] does not exist`);

/** Put-watch request parameters. */
export interface PutWatchParams {
  /** `?active` (default true): the state of a new (or re-put) watch. */
  active: boolean;
  /** `?version`: write only if the stored `_version` is this one (a partial update). */
  version?: number;
  ifSeqNo?: number;
  ifPrimaryTerm?: number;
}

/**
 * PUT/POST `_watcher/watch/<id>` (spec §4.1). Without `version`/`if_seq_no` the watch is
 * replaced whole with a fresh status (every action back to `awaits_successful_execution`);
 * with them, the write is a partial update that keeps the old `last_*` (spec §2.3).
 * @param nowMs put time (the fresh status's timestamps)
 * @returns 201 when created, 200 when updated; body `{_id, _version, _seq_no, _primary_term, created}`
 * @throws ActionRequestValidationError 400 (id whitespace, body missing, versioning with
 *   if_seq_no, if_seq_no without if_primary_term); the parse errors of parseWatch;
 *   WatchVersionConflictError 409 for a stale `version`/`if_seq_no`; WatchDocumentMissingError
 *   404 for `version`/`if_seq_no` on a watch that does not exist
 */
export async function putWatch(id: string, source: string | undefined, params: PutWatchParams, nowMs = Date.now()): Promise<{ status: number; body: unknown }> {
  const errors = watchIdErrors(id);
  if (source === undefined) errors.push('request body is missing');
  if (params.ifSeqNo !== undefined && params.version !== undefined) errors.push('compare and write operations can not use versioning');
  if (params.ifSeqNo !== undefined && (params.ifPrimaryTerm === undefined || params.ifPrimaryTerm === 0)) errors.push('ifSeqNo is set, but primary term is [0]');
  if (params.ifSeqNo === undefined && params.ifPrimaryTerm !== undefined && params.ifPrimaryTerm !== 0)
    errors.push(`ifSeqNo is unassigned, but primary term is [${params.ifPrimaryTerm}]`);
  if (errors.length > 0) throw new ActionRequestValidationError(errors);
  const watch = parseWatch(id, source as string);
  const fresh = freshStatus(
    watch.actions.map((a) => a.id),
    nowMs,
    params.active,
  );

  if (params.ifSeqNo === undefined && params.version === undefined) {
    const { stored, created } = await putWatchItem(id, watch, fresh, { kind: 'any' });
    return { status: created ? 201 : 200, body: putAnswer(stored, created) };
  }

  // A versioned put is a partial update: it needs the stored status to merge into, and
  // the write is conditional on the very document read.
  const old = await getWatchItem(id);
  if (!old) throw new WatchDocumentMissingError(id);
  if (params.ifSeqNo !== undefined) {
    const term = params.ifPrimaryTerm ?? 0;
    if (old.seqNo !== params.ifSeqNo || old.primaryTerm !== term) throw seqNoConflict(id, params.ifSeqNo, term, old);
  } else if (old.version !== params.version) {
    throw versionConflict(id, params.version as number, old.version);
  }
  try {
    const { stored } = await putWatchItem(id, watch, mergeStatus(old.status, fresh), { kind: 'seq_no', seqNo: old.seqNo, primaryTerm: old.primaryTerm });
    return { status: 200, body: putAnswer(stored, false) };
  } catch (err) {
    if (!(err instanceof WatchWriteConflict)) throw err;
    if (!err.current) throw new WatchDocumentMissingError(id);
    if (params.ifSeqNo !== undefined) throw seqNoConflict(id, params.ifSeqNo, params.ifPrimaryTerm ?? 0, err.current);
    throw versionConflict(id, params.version as number, err.current.version);
  }
}

const putAnswer = (w: StoredWatch, created: boolean) => ({ _id: w.id, _version: w.version, _seq_no: w.seqNo, _primary_term: w.primaryTerm, created });

/** Elasticsearch's text for a stale `if_seq_no` (`VersionConflictEngineException`). */
function seqNoConflict(id: string, seqNo: number, term: number, current: { seqNo: number; primaryTerm: number }): WatchVersionConflictError {
  return new WatchVersionConflictError(
    `[${id}]: version conflict, required seqNo [${seqNo}], primary term [${term}]. current document has seqNo [${current.seqNo}] and primary term [${current.primaryTerm}]`,
  );
}

/** Elasticsearch's text for a stale internal `version`. */
function versionConflict(id: string, expected: number, current: number): WatchVersionConflictError {
  return new WatchVersionConflictError(`[${id}]: version conflict, current version [${current}] is different than the one provided [${expected}]`);
}

/**
 * GET `_watcher/watch/<id>` (spec §4.2).
 * @returns 200 `{found: true, _id, _version, _seq_no, _primary_term, status, watch}` (`status.version`
 *   = `_version`; `watch` never holds `status`), or 404 `{found: false, _id}` (not an error body,
 *   as Elasticsearch). On the 5.x paths: `{found, _id, _status, watch}`.
 * @throws ActionRequestValidationError 400 for an id with whitespace
 */
export async function getWatch(id: string, paths: WatcherPaths): Promise<{ status: number; body: unknown }> {
  const errors = watchIdErrors(id);
  if (errors.length > 0) throw new ActionRequestValidationError(errors);
  const w = await getWatchWithAckExpiry(id);
  if (!w) return { status: 404, body: { found: false, _id: id } };
  const status = renderStatus(w.status, w.version);
  if (paths === 'xpack') return { status: 200, body: { found: true, _id: id, _status: status, watch: renderWatch(w.watch) } };
  return { status: 200, body: { found: true, _id: id, _version: w.version, _seq_no: w.seqNo, _primary_term: w.primaryTerm, status, watch: renderWatch(w.watch) } };
}

/**
 * DELETE `_watcher/watch/<id>` (spec §4.4).
 * @returns 200 `{_id, _version, found: true}` (`_version` = the delete's version, one past the
 *   watch's), or 404 `{_id, _version: 1, found: false}` (Elasticsearch's answer for a delete of
 *   a document that never existed)
 * @throws ActionRequestValidationError 400 for an id with whitespace
 */
export async function deleteWatch(id: string): Promise<{ status: number; body: unknown }> {
  const errors = watchIdErrors(id);
  if (errors.length > 0) throw new ActionRequestValidationError(errors);
  const old = await deleteWatchItem(id);
  if (!old) return { status: 404, body: { _id: id, _version: 1, found: false } };
  return { status: 200, body: { _id: id, _version: old.version + 1, found: true } };
}

/** Attempts of activate/deactivate: Elasticsearch's `retryOnConflict(2)` is 1 + 2. */
const ACTIVATE_ATTEMPTS = 3;

/**
 * PUT/POST `_watcher/watch/<id>/_activate` and `_deactivate` (spec §4.5): always writes
 * `state = {active, timestamp: now}` (even when unchanged), retrying a lost race twice.
 * @returns `{status}` (`_status` on the 5.x paths) with `version` = the document version after the write
 * @throws WatchDocumentMissingError 404 `document_missing_exception` for an unknown watch;
 *   ActionRequestValidationError 400 for an id with whitespace; WatchVersionConflictError 409 when
 *   the watch keeps changing
 */
export async function activateWatch(id: string, active: boolean, paths: WatcherPaths, nowMs: () => number = Date.now): Promise<unknown> {
  const errors = watchIdErrors(id);
  if (errors.length > 0) throw new ActionRequestValidationError(errors);
  for (let attempt = 1; ; attempt++) {
    const w = await getWatchItem(id);
    if (!w) throw new WatchDocumentMissingError(id);
    try {
      const stored = await putStatus(id, setActive(w.status, active, nowMs()), w.seqNo);
      return { [statusKey(paths)]: renderStatus(stored.status, stored.version) };
    } catch (err) {
      if (!(err instanceof WatchWriteConflict)) throw err;
      if (!err.current) throw new WatchDocumentMissingError(id);
      if (attempt >= ACTIVATE_ATTEMPTS) throw seqNoConflict(id, w.seqNo, PRIMARY_TERM, err.current);
    }
  }
}
