/**
 * ML filters (spec A.5.10): the lists of values custom rule scopes refer to. Parsing of the
 * put and update bodies (`MlFilter.STRICT_PARSER`, `UpdateFilterAction.Request.PARSER`), the
 * checks of `MlFilter.Builder.build()`, the update merge of `TransportUpdateFilterAction`,
 * and the errors of the filter APIs with Elasticsearch's texts.
 */
import {
  ActionRequestValidationError,
  ConflictError,
  IllegalArgumentError,
  ParseError,
  ResourceAlreadyExistsError,
  ResourceNotFoundError,
  StatusError,
  XContentParseLocatedError,
} from './errors.ts';
import { invalidIdMessage, isValidId } from './ids.ts';
import type { JobConfig } from './job/types.ts';
import type { JsonNode } from './json/located-tree.ts';
import { fields, XObjectParser } from './json/object-parser.ts';
import { syntaxError } from './json/syntax-errors.ts';
import { readJson } from './json/tokenizer.ts';
import { XParser } from './json/xcontent-parser.ts';
import { gzipJsonBytes, type StoredPart } from './limits.ts';
import { formatJavaNumber } from './units.ts';

/** A stored filter, as `GET _ml/filters` shows it. */
export interface MlFilter {
  filter_id: string;
  /** Absent when the filter has none. */
  description?: string;
  /** Sorted (Java `TreeSet<String>` natural order, i.e. UTF-16 code units) and without duplicates. */
  items: string[];
}

/** The body of `POST _ml/filters/<id>/_update`; keys present only when the body had them. */
export interface FilterUpdate {
  /** Must equal the path id when both are given; otherwise unused. */
  filter_id?: string;
  /** New description; `null`/absent keeps the current one. */
  description?: string | null;
  add_items?: string[];
  remove_items?: string[];
}

/** `MlFilter.MAX_ITEMS`. */
export const MAX_FILTER_ITEMS = 10000;

/** Parser name of `MlFilter.STRICT_PARSER` (it is named after its `type` field). */
const PUT_PARSER_NAME = 'type';
/** Parser name of `UpdateFilterAction.Request.PARSER` (the action name). */
const UPDATE_PARSER_NAME = 'cluster:admin/xpack/ml/filters/update';

/** Sorted, deduplicated items in Java `String.compareTo` order (UTF-16 code units). */
function sortedSet(items: Iterable<string>): string[] {
  return [...new Set(items)].sort();
}

/** Reads the root of a body for a strict parser; `contentOrSourceParamParser` refuses an empty body. */
function bodyRoot(source: string, parserName: string): JsonNode {
  if (source.length === 0) throw new ParseError('request body or source parameter is required');
  const { root, fault } = readJson(source);
  if (root === undefined) {
    if (fault) throw syntaxError(fault, 'token');
    throw new XContentParseLocatedError(null, `[${parserName}] Expected START_OBJECT but was: null`);
  }
  return root;
}

/** `Messages.INCONSISTENT_ID` for filters. */
function inconsistentId(bodyId: string, pathId: string): IllegalArgumentError {
  return new IllegalArgumentError(`Inconsistent filter_id; '${bodyId}' specified in the body differs from '${pathId}' specified as a URL argument`);
}

/**
 * `MlFilter.Builder.build()`: a valid id (no length limit for filters) and at most 10,000
 * items (counted after deduplication).
 * @throws StatusError 400 `Invalid filter_id; '<id>' can contain lowercase alphanumeric (a-z and 0-9), hyphens or underscores; must start and end with alphanumeric`
 *   or `Filter [<id>] contains too many items; up to [10,000] items are allowed`
 */
function buildFilter(id: string, description: string | null | undefined, items: Iterable<string>): MlFilter {
  if (!isValidId(id)) throw new StatusError(400, invalidIdMessage('filter_id', id));
  const sorted = sortedSet(items);
  if (sorted.length > MAX_FILTER_ITEMS) {
    throw new StatusError(400, `Filter [${id}] contains too many items; up to [${formatJavaNumber(MAX_FILTER_ITEMS)}] items are allowed`);
  }
  return description === null || description === undefined ? { filter_id: id, items: sorted } : { filter_id: id, description, items: sorted };
}

interface FilterBuilder {
  id?: string;
  description?: string | null;
  items: string[];
}

const PUT_FILTER_PARSER = new XObjectParser<FilterBuilder>(
  PUT_PARSER_NAME,
  {
    type: fields.string<FilterBuilder>(() => {}),
    filter_id: fields.string((t, v) => (t.id = v)),
    description: fields.stringOrNull((t, v) => (t.description = v)),
    items: fields.stringArray((t, v) => (t.items = v)),
  },
  { create: () => ({ items: [] }) },
);

const UPDATE_FILTER_PARSER = new XObjectParser<FilterUpdate>(
  UPDATE_PARSER_NAME,
  {
    filter_id: fields.string((t, v) => (t.filter_id = v)),
    description: fields.stringOrNull((t, v) => (t.description = v)),
    add_items: fields.stringArray((t, v) => (t.add_items = v)),
    remove_items: fields.stringArray((t, v) => (t.remove_items = v)),
  },
  { create: () => ({}) },
);

/**
 * `PUT _ml/filters/<id>` body → the filter to create (`PutFilterAction.Request.parseRequest`
 * then `MlFilter.Builder.build()`), in Elasticsearch's order: strict parse, body/path id,
 * id validity, item count. Items become a sorted set. A `type` string key is accepted and
 * ignored (it is the storage marker). Whether the id is taken is the caller's check
 * ({@link filterExistsError}).
 *
 * @param pathId the `{filter_id}` of the URL (used when the body has none)
 * @param source the raw body
 * @throws ParseError 400 `request body or source parameter is required` (empty body);
 *   XContentParseLocatedError 400, e.g. `[1:2] [type] unknown field [x]`, `[l:c] [type] items doesn't support values of type: VALUE_NULL`;
 *   IllegalArgumentError 400 `Inconsistent filter_id; '<body>' specified in the body differs from '<url>' specified as a URL argument`;
 *   StatusError 400 `Invalid filter_id; '<id>' can contain …` or `Filter [<id>] contains too many items; up to [10,000] items are allowed`
 */
export function parsePutFilter(pathId: string, source: string): MlFilter {
  const root = bodyRoot(source, PUT_PARSER_NAME);
  const b = PUT_FILTER_PARSER.parse(root, new XParser(root.start));
  let id = b.id;
  if (id === undefined) id = pathId;
  else if (pathId.length > 0 && pathId !== id) throw inconsistentId(id, pathId);
  return buildFilter(id, b.description, b.items);
}

/**
 * `POST _ml/filters/<id>/_update` body (`UpdateFilterAction.Request.parseRequest`), strict,
 * parser named after the action.
 *
 * @param source the raw body
 * @param pathId the `{filter_id}` of the URL; when given, a different body `filter_id` is refused
 * @throws ParseError 400 `request body or source parameter is required`;
 *   XContentParseLocatedError 400 `[1:2] [cluster:admin/xpack/ml/filters/update] unknown field [x]` …;
 *   IllegalArgumentError 400 `Inconsistent filter_id; '<body>' specified in the body differs from '<url>' specified as a URL argument`
 */
export function parseFilterUpdate(source: string, pathId?: string): FilterUpdate {
  const root = bodyRoot(source, UPDATE_PARSER_NAME);
  const update = UPDATE_FILTER_PARSER.parse(root, new XParser(root.start));
  if (pathId !== undefined && pathId.length > 0 && update.filter_id !== undefined && update.filter_id !== pathId) {
    throw inconsistentId(update.filter_id, pathId);
  }
  return update;
}

/**
 * `TransportUpdateFilterAction.updateFilter`: an update without description, `add_items` or
 * `remove_items` returns the filter unchanged; otherwise the description is replaced (when
 * not null), `add_items` are added first, then `remove_items` are removed in sorted order,
 * each of which must be present, and the result is rebuilt (item limit).
 *
 * @returns a new filter (the input is not modified)
 * @throws StatusError 400 `Cannot remove item [<item>] as it is not present in filter [<id>]`
 *   (the first missing item in sorted order) or `Filter [<id>] contains too many items; up to [10,000] items are allowed`
 */
export function applyFilterUpdate(filter: MlFilter, update: FilterUpdate): MlFilter {
  const add = update.add_items ?? [];
  const remove = sortedSet(update.remove_items ?? []);
  const noop = (update.description === undefined || update.description === null) && add.length === 0 && remove.length === 0;
  if (noop) return filterView(filter) as unknown as MlFilter;
  const description = update.description === undefined || update.description === null ? filter.description : update.description;
  const items = new Set([...filter.items, ...add]);
  for (const item of remove) {
    if (!items.delete(item)) {
      throw new StatusError(400, `Cannot remove item [${item}] as it is not present in filter [${filter.filter_id}]`);
    }
  }
  return buildFilter(filter.filter_id, description, items);
}

/**
 * 409 `status_exception` of `DELETE _ml/filters/<id>` for a filter some jobs' rules use
 * (`Messages.FILTER_CANNOT_DELETE`, the job list in Java `List.toString()` form). Elasticsearch
 * lists the jobs in the order its config search returns them; pass them sorted for a stable text.
 *
 * @returns ConflictError `Cannot delete filter [<id>] currently used by jobs [<job-a>, <job-b>]`
 */
export function filterInUseError(filterId: string, jobIds: readonly string[]): ConflictError {
  return new ConflictError(`Cannot delete filter [${filterId}] currently used by jobs [${jobIds.join(', ')}]`);
}

/** Which filter API met the unknown filter (the texts differ). */
export type FilterOperation = 'get' | 'update' | 'delete';

/**
 * 404 `resource_not_found_exception` for an unknown filter, with the text of the API:
 * - `update` (and the default): `No filter with id [<id>] exists` (`Messages.FILTER_NOT_FOUND`);
 * - `get`: `Unable to find filter [<id>]` (for several unmatched ids, pass them joined with `,`);
 * - `delete`: `Could not delete filter with ID [<id>] because it does not exist`.
 */
export function unknownFilterError(filterId: string, operation: FilterOperation = 'update'): ResourceNotFoundError {
  switch (operation) {
    case 'get':
      return new ResourceNotFoundError(`Unable to find filter [${filterId}]`);
    case 'delete':
      return new ResourceNotFoundError(`Could not delete filter with ID [${filterId}] because it does not exist`);
    case 'update':
      return new ResourceNotFoundError(`No filter with id [${filterId}] exists`);
  }
}

/** 400 `resource_already_exists_exception` `A filter with id [<id>] already exists` (put of a taken id). */
export function filterExistsError(filterId: string): ResourceAlreadyExistsError {
  return new ResourceAlreadyExistsError(`A filter with id [${filterId}] already exists`);
}

/**
 * The filter ids the job's custom rules reference (`Detector.extractReferencedFilters` over
 * all detectors), sorted and deduplicated.
 */
export function filtersUsedBy(job: Pick<JobConfig, 'analysis_config'>): string[] {
  const ids: string[] = [];
  for (const d of job.analysis_config.detectors) {
    for (const rule of d.custom_rules ?? []) {
      for (const ref of Object.values(rule.scope ?? {})) ids.push(ref.filter_id);
    }
  }
  return sortedSet(ids);
}

/** A filter as `GET _ml/filters` and the put/update responses show it: `{filter_id, description?, items}`. */
export function filterView(f: MlFilter): Record<string, unknown> {
  const out: Record<string, unknown> = { filter_id: f.filter_id };
  if (f.description !== undefined) out.description = f.description;
  out.items = [...f.items];
  return out;
}

/**
 * What a filter put or update body would store, for the quick size check of a large body
 * (`refuseOversizedBody`): the filter `{filter_id, description?, items}` packed as the store
 * packs it, with the items the body adds (an update's `add_items` less its `remove_items`;
 * the stored items are the exact check's business). Undefined when the body has a shape
 * or item count that the full parse refuses with Elasticsearch's own error.
 *
 * @returns the stored part (description and items) and its gzip-compressed size in bytes
 */
export function storedFilterPart(pathId: string, body: Record<string, unknown>, kind: 'put' | 'update'): StoredPart | undefined {
  const strings = (v: unknown): string[] | undefined => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : v === undefined ? [] : undefined);
  const added = strings(kind === 'put' ? body.items : body.add_items);
  const removed = kind === 'put' ? [] : strings(body.remove_items);
  const description = body.description;
  if (!added || !removed || (description !== undefined && description !== null && typeof description !== 'string')) return undefined;
  const gone = new Set(removed);
  const items = sortedSet(added.filter((i) => !gone.has(i)));
  if (items.length > MAX_FILTER_ITEMS) return undefined;
  const id = typeof body.filter_id === 'string' ? body.filter_id : pathId;
  const stored = typeof description === 'string' ? { filter_id: id, description, items } : { filter_id: id, items };
  return { value: { description, items }, bytes: gzipJsonBytes(stored) };
}

/** `IndexRequest`'s limit on a document id, in UTF-8 bytes. */
const MAX_DOCUMENT_ID_BYTES = 512;

/**
 * A filter is stored as the document `filter_<id>` (`MlFilter.documentId`), and
 * `IndexRequest.validate` refuses an id over 512 UTF-8 bytes; `TransportPutFilterAction`
 * reports that failure as a server error. Filter ids have no length limit of their own, so
 * this is what bounds them (and keeps the store's sort key `filter#<id>` far under
 * DynamoDB's 1,024 bytes).
 *
 * @throws StatusError 500 `status_exception` `Error putting filter with id [<id>]`, caused by
 *   `action_request_validation_exception` `Validation Failed: 1: id [filter_<id>] is too long, must be no longer than 512 bytes but was: <n>;`
 */
export function checkFilterDocumentId(filterId: string): void {
  const documentId = `filter_${filterId}`;
  const bytes = Buffer.byteLength(documentId, 'utf8');
  if (bytes > MAX_DOCUMENT_ID_BYTES) {
    throw new StatusError(500, `Error putting filter with id [${filterId}]`, {
      cause: new ActionRequestValidationError([`id [${documentId}] is too long, must be no longer than ${MAX_DOCUMENT_ID_BYTES} bytes but was: ${bytes}`]),
    });
  }
}
