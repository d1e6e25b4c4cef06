/**
 * Use cases of the document store's index and document APIs: create, get, delete and
 * check indices; index, create, get and delete documents; `_bulk`; `_refresh`; and the
 * cluster health. A lean reader and writer of the documents datafeeds and watches need.
 */
import { randomBytes } from 'node:crypto';
import { simpleMatch } from '../domain/ids.ts';
import {
  DocumentStoreUnsupportedError,
  EsError,
  IllegalArgumentError,
  IndexAlreadyExistsError,
  IndexNotFoundError,
  MlResultsIndexWriteError,
  StaleStateError,
  VersionConflictError,
} from '../domain/errors.ts';
import { type BulkOperation, parseBulk } from '../domain/documents/bulk.ts';
import { prepareDocument, validateId } from '../domain/documents/document.ts';
import { validateIndexName } from '../domain/documents/index-name.ts';
import { type Mappings, parseMappings, timeFieldOf } from '../domain/documents/mappings.ts';
import { parseJsonBody } from '../domain/json/plain-values.ts';
import { config } from '../runtime/config.ts';
import { isMlResultsIndex } from './ml-results-index.ts';
import type { ChunkKey } from '../store/document-chunks.ts';
import {
  allocateSeqNos,
  commitIds,
  createIndex,
  deleteDoc,
  dropIndex,
  dropSuperseded,
  type DocLocation,
  type DocWrite,
  getDoc,
  getIndex,
  idBucket,
  listIndices,
  lookupDocs,
  newGeneratedId,
  planChunks,
  purgeTrash,
  removeDocs,
  type StoredIndex,
  updateMappings,
  writeDocs,
} from '../store/documents.ts';
import { isJsonObject } from '../domain/json/plain-values.ts';

/** Time a DELETE of an index spends removing deleted indices' items before it answers (the HTTP function has 30 s). */
const PURGE_BUDGET_MS = 15_000;
/** Time an index creation spends on that. */
const CREATE_PURGE_BUDGET_MS = 2_000;

/** `_shards` of a write: one primary written; Elasticsearch's default replica is counted and, on one node, unassigned. */
const WRITE_SHARDS = { total: 2, successful: 1, failed: 0 } as const;

/** Settings accepted at index creation and ignored (one partition layout serves every index): shards, replicas, refresh interval. */
const HARMLESS_SETTINGS = new Set(['number_of_shards', 'number_of_replicas', 'refresh_interval', 'auto_expand_replicas', 'max_result_window']);

/** A new random index uuid (22 URL-safe base64 characters, as Elasticsearch's). */
const newUuid = (): string => randomBytes(16).toString('base64url');

function flattenSettings(raw: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (v: unknown, prefix: string): void => {
    if (isJsonObject(v)) for (const [k, x] of Object.entries(v)) walk(x, prefix ? `${prefix}.${k}` : k);
    else out[prefix.startsWith('index.') ? prefix.slice(6) : prefix] = String(v);
  };
  walk(raw ?? {}, '');
  for (const k of Object.keys(out)) if (!HARMLESS_SETTINGS.has(k)) throw new DocumentStoreUnsupportedError(`index.${k}`, 'setting');
  return out;
}

/**
 * PUT <index> with optional `mappings` and `settings` (`aliases` must be empty).
 * @returns `{acknowledged, shards_acknowledged, index}`
 * @throws InvalidIndexNameError, IndexAlreadyExistsError "index [<i>/<uuid>] already exists", the mapping errors of parseMappings
 */
export async function putIndex(name: string, body: string | undefined): Promise<unknown> {
  refuseMlResultsIndex(name);
  validateIndexName(name);
  const raw = body === undefined ? {} : parseJsonBody(body);
  if (!isJsonObject(raw)) throw new EsError('parse_exception', 400, 'Failed to derive xcontent');
  let mappings: Mappings = { properties: {} };
  let settings: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (k === 'mappings') mappings = parseMappings(v);
    else if (k === 'settings') settings = flattenSettings(v);
    else if (k === 'aliases') {
      if (isJsonObject(v) && Object.keys(v).length > 0) throw new DocumentStoreUnsupportedError('aliases', 'index option');
    } else throw new EsError('parse_exception', 400, `unknown key [${k}] for create index`);
  }
  const existing = await getIndex(name);
  if (existing) throw new IndexAlreadyExistsError(name, existing.uuid);
  const index: StoredIndex = { name, uuid: newUuid(), createdMs: Date.now(), mappings, settings, timeField: timeFieldOf(mappings)?.name, mappingVersion: 1 };
  if (!(await createIndex(index))) {
    const winner = await getIndex(name);
    throw new IndexAlreadyExistsError(name, winner?.uuid ?? '_na_');
  }
  await purgeTrash(Date.now() + CREATE_PURGE_BUDGET_MS);
  return { acknowledged: true, shards_acknowledged: true, index: name };
}

/**
 * The indices an expression names: comma lists, `*` wildcards, `_all`. A missing concrete
 * name is 404 unless `ignoreUnavailable`; wildcards that match nothing give nothing.
 * @throws IndexNotFoundError "no such index [<name>]"
 */
export async function resolveIndices(expression: string | undefined, ignoreUnavailable = false): Promise<StoredIndex[]> {
  const all = await listIndices();
  if (expression === undefined || expression === '_all' || expression === '*' || expression === '') return all;
  const chosen = new Map<string, StoredIndex>();
  for (const token of expression.split(',')) {
    if (token === '_all') for (const i of all) chosen.set(i.name, i);
    else if (token.includes('*')) for (const i of all.filter((x) => simpleMatch(token, x.name))) chosen.set(i.name, i);
    else {
      const hit = all.find((i) => i.name === token);
      if (hit) chosen.set(hit.name, hit);
      else if (!ignoreUnavailable) throw new IndexNotFoundError(token);
    }
  }
  return [...chosen.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
}

function indexView(i: StoredIndex): unknown {
  const settings: Record<string, unknown> = {
    creation_date: String(i.createdMs),
    number_of_shards: i.settings.number_of_shards ?? '1',
    number_of_replicas: i.settings.number_of_replicas ?? '1',
    uuid: i.uuid,
    version: { created: '9000000' },
    provided_name: i.name,
  };
  if (i.settings.refresh_interval) settings.refresh_interval = i.settings.refresh_interval;
  return { aliases: {}, mappings: i.mappings.dynamic === undefined ? { properties: i.mappings.properties } : i.mappings, settings: { index: settings } };
}

/** GET <index> (comma lists, wildcards, `_all`): `{<name>: {aliases, mappings, settings}}`. */
export async function getIndices(expression: string, ignoreUnavailable: boolean): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const i of await resolveIndices(expression, ignoreUnavailable)) out[i.name] = indexView(i);
  return out;
}

/** HEAD <index>: whether every named index exists. */
export async function indicesExist(expression: string): Promise<boolean> {
  try {
    return (await resolveIndices(expression)).length > 0;
  } catch (err) {
    if (err instanceof IndexNotFoundError) return false;
    throw err;
  }
}

/**
 * DELETE <index> (names and comma lists; wildcards are refused as Elasticsearch's
 * `action.destructive_requires_name` default does). Documents are removed page by page.
 * @throws IndexNotFoundError; IllegalArgumentError "Wildcard expressions or all indices are not allowed"
 */
export async function deleteIndices(expression: string): Promise<{ acknowledged: true }> {
  if (expression === '_all' || expression.split(',').some((t) => t.includes('*') || t === '_all')) {
    throw new IllegalArgumentError('Wildcard expressions or all indices are not allowed');
  }
  for (const t of expression.split(',')) refuseMlResultsIndex(t);
  const indices = await resolveIndices(expression);
  for (const i of indices) await dropIndex(i);
  // The documents are already invisible; their items go within this request's budget, the
  // rest at the next index DELETE or create.
  await purgeTrash(Date.now() + PURGE_BUDGET_MS);
  return { acknowledged: true };
}

/**
 * The index to write into: as stored, or created with empty mappings when missing (Elasticsearch's
 * automatic index creation; the name is checked as PUT <index> checks it).
 */
async function writableIndex(name: string): Promise<StoredIndex> {
  const found = await getIndex(name);
  if (found) return found;
  validateIndexName(name);
  await createIndex({ name, uuid: newUuid(), createdMs: Date.now(), mappings: { properties: {} }, settings: {}, timeField: undefined, mappingVersion: 1 });
  const created = await getIndex(name);
  if (!created) throw new StaleStateError(`index [${name}] vanished while being created`);
  return created;
}

/** One write of a batch and its outcome. */
interface WriteItem {
  op: 'index' | 'create' | 'delete';
  id: string | undefined;
  source?: string;
  result?: Record<string, unknown>;
  error?: EsError;
  status?: number;
}

/**
 * Writes a batch of operations on one index: prepares every document (type checks, dynamic
 * fields), updates the mappings once with a conditional write (re-done on a concurrent
 * change), reserves the `_seq_no`s, gives generated ids (which name their own chunk, so they
 * need no lookup), then decides the explicit ids from one read of their directory buckets
 * and commits them bucket by bucket; ids whose bucket a concurrent bulk changed are decided
 * again from a fresh read. Then the documents go into a few chunk items and superseded
 * copies leave theirs. Item failures are recorded on their items; other items go on.
 *
 * Order of writes: directory, then chunks, then removals, so a search never sees a document
 * whose id another bulk decided differently; a crash between them can leave an id whose
 * document is missing (GET answers not found) until it is written again.
 */
async function writeBatch(indexName: string, items: WriteItem[]): Promise<void> {
  let index: StoredIndex;
  try {
    refuseMlResultsIndex(indexName);
    index = items.every((i) => i.op === 'delete') ? await mustGetIndex(indexName) : await writableIndex(indexName);
  } catch (err) {
    if (!(err instanceof EsError)) throw err;
    for (const it of items) it.error = err;
    return;
  }
  for (let attempt = 0; ; attempt++) {
    let mappings = index.mappings;
    let timeField = index.timeField;
    let changed = false;
    const prepared = new Map<WriteItem, ReturnType<typeof prepareDocument>>();
    for (const it of items) {
      it.error = undefined;
      if (it.op === 'delete') continue;
      try {
        const p = prepareDocument(mappings, it.source ?? '', it.id ?? '', timeField);
        if (p.mappings) {
          mappings = p.mappings;
          changed = true;
          timeField ??= timeFieldOf(mappings)?.name;
        }
        prepared.set(it, p);
      } catch (err) {
        if (!(err instanceof EsError)) throw err;
        it.error = err;
      }
    }
    if (changed) {
      try {
        await updateMappings(index.name, mappings, timeField, index.mappingVersion);
      } catch (err) {
        if (!(err instanceof StaleStateError) || attempt >= 5) throw err;
        index = await mustGetIndex(indexName);
        continue;
      }
      index = { ...index, mappings, timeField, mappingVersion: index.mappingVersion + 1 };
    }
    const docs = [...prepared];
    const plan = planChunks(
      index,
      docs.map(([, p]) => p),
    );
    const chunkOf = new Map<WriteItem, { key: ChunkKey; ordinal: number }>(docs.map(([it], i) => [it, { key: plan.keys[i] as ChunkKey, ordinal: i }]));
    const live = items.filter((i) => !i.error);
    const firstSeq = live.length > 0 ? await allocateSeqNos(index.name, live.length) : 0;
    const seqOf = new Map(live.map((it, i) => [it, firstSeq + i]));
    const writes: DocWrite[] = [];
    const removals: { id: string; loc: DocLocation }[] = [];
    // Generated ids cannot exist yet: created at once, no lookup, no directory entry.
    for (const it of live) {
      if (it.id !== undefined) continue;
      const p = prepared.get(it) as ReturnType<typeof prepareDocument>;
      const c = chunkOf.get(it) as { key: ChunkKey; ordinal: number };
      const id = newGeneratedId(p.timeMs, plan.nonce, c.ordinal);
      it.id = id;
      const seqNo = seqOf.get(it) as number;
      writes.push({ id, timeMs: p.timeMs, sourceText: p.sourceText, version: 1, seqNo, chunk: c.key });
      it.result = { _index: index.name, _id: id, _version: 1, result: 'created', _shards: WRITE_SHARDS, _seq_no: seqNo, _primary_term: 1 };
      it.status = 201;
    }
    const explicitWrites: DocWrite[] = [];
    const committedDv = new Map<number, number>();
    let pending = live.filter((it) => it.result === undefined);
    for (let round = 0; pending.length > 0; round++) {
      if (round >= 20) throw new StaleStateError(`ids of index [${index.name}] kept changing under concurrent writes`);
      const { locations, snapshot } = await lookupDocs(
        index,
        pending.map((i) => i.id as string),
      );
      // Versions follow the id's history within the batch, as Elasticsearch applies items in order;
      // an id touched twice ends as its last operation says.
      const version = new Map<string, number | undefined>([...locations].map(([id, l]) => [id, l.version]));
      const final = new Map<string, DocWrite | null>();
      for (const it of pending) {
        it.error = undefined;
        const id = it.id as string;
        const prev = version.get(id);
        const seqNo = seqOf.get(it) as number;
        const base = { _index: index.name, _id: id };
        if (it.op === 'delete') {
          if (prev === undefined) {
            it.result = { ...base, _version: 1, result: 'not_found', _shards: WRITE_SHARDS, _seq_no: seqNo, _primary_term: 1 };
            it.status = 404;
            continue;
          }
          final.set(id, null);
          version.set(id, undefined);
          it.result = { ...base, _version: prev + 1, result: 'deleted', _shards: WRITE_SHARDS, _seq_no: seqNo, _primary_term: 1 };
          it.status = 200;
          continue;
        }
        if (it.op === 'create' && prev !== undefined) {
          it.result = undefined;
          it.error = new VersionConflictError(index.name, index.uuid, id, prev);
          continue;
        }
        const p = prepared.get(it) as ReturnType<typeof prepareDocument>;
        const v = (prev ?? 0) + 1;
        final.set(id, { id, timeMs: p.timeMs, sourceText: p.sourceText, version: v, seqNo, chunk: (chunkOf.get(it) as { key: ChunkKey }).key });
        version.set(id, v);
        it.result = { ...base, _version: v, result: prev === undefined ? 'created' : 'updated', _shards: WRITE_SHARDS, _seq_no: seqNo, _primary_term: 1 };
        it.status = prev === undefined ? 201 : 200;
      }
      const changes = new Map<string, DocLocation | null>([...final].map(([id, w]) => [id, w ? { pk: w.chunk.pk, sk: w.chunk.sk, version: w.version } : null]));
      const again = await commitIds(index, snapshot, changes);
      for (const [id, w] of final) {
        if (again.has(id)) continue;
        committedDv.set(idBucket(id), snapshot.buckets.get(idBucket(id))?.dv ?? 0);
        if (w) {
          writes.push(w);
          explicitWrites.push(w);
        }
        const stored = locations.get(id);
        if (stored) removals.push({ id, loc: stored });
      }
      pending = pending.filter((it) => again.has(it.id as string));
      for (const it of pending) it.result = undefined;
    }
    await writeDocs(index, plan.nonce, writes);
    if (removals.length > 0) await removeDocs(removals);
    await dropSuperseded(index, explicitWrites, committedDv);
    return;
  }
}

/** The `.ml-anomalies-*` names are a read-only view of the results store (ml-results-index.ts). @throws MlResultsIndexWriteError */
function refuseMlResultsIndex(index: string): void {
  if (isMlResultsIndex(index)) throw new MlResultsIndexWriteError(index);
}

async function mustGetIndex(name: string): Promise<StoredIndex> {
  const i = await getIndex(name);
  if (!i) throw new IndexNotFoundError(name);
  return i;
}

function refreshed(result: Record<string, unknown>, refresh: string | undefined): Record<string, unknown> {
  return refresh === 'true' || refresh === '' ? { ...result, forced_refresh: true } : result;
}

/**
 * PUT/POST <index>/_doc/<id>, POST <index>/_doc (generated id), PUT/POST <index>/_create/<id>.
 * @returns status 201 (created) or 200 (updated) and Elasticsearch's write response
 * @throws VersionConflictError 409 for `_create` of an existing id; DocumentParsingError 400; InvalidIndexNameError
 */
export async function indexDocument(index: string, id: string | undefined, body: string, create: boolean, refresh?: string): Promise<{ status: number; body: unknown }> {
  if (id !== undefined) validateId(id);
  const item: WriteItem = { op: create ? 'create' : 'index', id, source: body };
  await writeBatch(index, [item]);
  if (item.error) throw item.error;
  return { status: item.status ?? 200, body: refreshed(item.result ?? {}, refresh) };
}

/** GET <index>/_doc/<id>: 200 `{…, found: true, _source}` or 404 `{_index, _id, found: false}`. @throws IndexNotFoundError */
export async function getDocument(index: string, id: string, sourceWanted: boolean): Promise<{ status: number; body: unknown }> {
  const stored = await mustGetIndex(index);
  const doc = await getDoc(stored, id);
  if (!doc) return { status: 404, body: { _index: index, _id: id, found: false } };
  const body: Record<string, unknown> = { _index: index, _id: id, _version: doc.version, _seq_no: doc.seqNo, _primary_term: 1, found: true };
  if (sourceWanted) body._source = JSON.parse(doc.sourceText);
  return { status: 200, body };
}

/** DELETE <index>/_doc/<id>: 200 `result: deleted` or 404 `result: not_found`. @throws IndexNotFoundError */
export async function deleteDocument(index: string, id: string, refresh?: string): Promise<{ status: number; body: unknown }> {
  refuseMlResultsIndex(index);
  const i = await mustGetIndex(index);
  const [seqNo] = [await allocateSeqNos(i.name, 1)];
  const loc = await deleteDoc(i, id);
  const base = { _index: index, _id: id, _shards: WRITE_SHARDS, _seq_no: seqNo, _primary_term: 1 };
  if (!loc) return { status: 404, body: { ...base, _version: 1, result: 'not_found', _shards: WRITE_SHARDS } };
  return {
    status: 200,
    body: refreshed({ _index: index, _id: id, _version: loc.version + 1, result: 'deleted', _shards: WRITE_SHARDS, _seq_no: seqNo, _primary_term: 1 }, refresh),
  };
}

/**
 * POST _bulk / <index>/_bulk: `{errors, took, items}`, one item per operation in order, each
 * `{<action>: {_index, _id, _version, result, _shards, _seq_no, _primary_term, status}}` or
 * `{<action>: {_index, _id, status, error}}`. `update` is not supported: its items fail with a
 * 400 naming it, the others are written.
 */
export async function bulk(body: string, defaultIndex: string | undefined): Promise<unknown> {
  const started = Date.now();
  const ops = parseBulk(body, defaultIndex);
  const items: (WriteItem & { bulk: BulkOperation })[] = ops.map((op) => ({
    bulk: op,
    op: op.action === 'update' ? 'index' : op.action,
    id: op.id,
    ...(op.source !== undefined ? { source: op.source } : {}),
  }));
  const byIndex = new Map<string, typeof items>();
  for (const it of items) {
    if (it.bulk.action === 'update') {
      it.error = new DocumentStoreUnsupportedError('update', 'bulk action');
      continue;
    }
    if (it.id !== undefined) {
      try {
        validateId(it.id);
      } catch (err) {
        it.error = err as EsError;
        continue;
      }
    }
    let group = byIndex.get(it.bulk.index);
    if (!group) {
      group = [];
      byIndex.set(it.bulk.index, group);
    }
    group.push(it);
  }
  for (const [name, group] of byIndex) await writeBatch(name, group);
  const out = items.map((it) => {
    const action = it.bulk.action;
    if (it.error) {
      const e = it.error;
      return { [action]: { _index: it.bulk.index, _id: it.id ?? null, status: e.status, error: e.toCause() } };
    }
    return { [action]: { ...it.result, status: it.status } };
  });
  return { errors: items.some((i) => i.error), took: Date.now() - started, items: out };
}

/** POST/GET [<index>/]_refresh: documents are visible at once, so it only reports the shards, as Elasticsearch does. */
export async function refresh(expression: string | undefined): Promise<unknown> {
  const n = (await resolveIndices(expression)).length;
  return { _shards: { total: n * 2, successful: n, failed: 0 } };
}

/**
 * GET _cluster/health[/<indices>]: green, one node, one primary shard per index. For an index
 * expression naming an index that does not exist, Elasticsearch treats the health as red and
 * answers 408 with `timed_out: true` (`TransportClusterHealthAction` on its IndexNotFoundException).
 * @returns the HTTP status (200, or 408 for the red case) and the body
 */
export async function clusterHealth(indexExpression?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  let n: number;
  let red = false;
  if (indexExpression === undefined) n = (await listIndices()).length;
  else {
    try {
      n = (await resolveIndices(indexExpression, false)).length;
    } catch (err) {
      if (!(err instanceof IndexNotFoundError)) throw err;
      n = 0;
      red = true;
    }
  }
  const body = {
    cluster_name: config().clusterName,
    status: red ? 'red' : 'green',
    timed_out: red,
    number_of_nodes: 1,
    number_of_data_nodes: 1,
    active_primary_shards: n,
    active_shards: n,
    relocating_shards: 0,
    initializing_shards: 0,
    unassigned_shards: 0,
    unassigned_primary_shards: 0,
    delayed_unassigned_shards: 0,
    number_of_pending_tasks: 0,
    number_of_in_flight_fetch: 0,
    task_max_waiting_in_queue_millis: 0,
    active_shards_percent_as_number: 100.0,
  };
  return { status: red ? 408 : 200, body };
}
