/**
 * Index mappings of the document store: the field types mlplane indexes, how a document's
 * values are read for each type, Elasticsearch's dynamic mapping of unknown fields, and the
 * index's time field (the partition key of its documents, `lib/store/keys.ts`).
 *
 * `text` is stored and matched like `keyword` (exact values; no analysis): the store reads
 * documents for datafeeds and watches, which filter on exact values.
 */
import { DocumentStoreUnsupportedError, IllegalArgumentError, MapperParsingError } from '../errors.ts';
import { checkDateFormat, DEFAULT_DATE_FORMAT, parseDate, parseIsoDate } from './dates.ts';
import { isJsonObject } from '../json/plain-values.ts';

/** Field types the store indexes. */
export const FIELD_TYPES = ['date', 'keyword', 'text', 'long', 'integer', 'double', 'float', 'boolean'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** Types Elasticsearch has that the store does not index (a clear 400 rather than "No handler"). */
const ES_ONLY_TYPES = new Set([
  'nested',
  'flattened',
  'ip',
  'geo_point',
  'geo_shape',
  'point',
  'shape',
  'short',
  'byte',
  'half_float',
  'scaled_float',
  'unsigned_long',
  'date_nanos',
  'binary',
  'wildcard',
  'constant_keyword',
  'match_only_text',
  'search_as_you_type',
  'completion',
  'alias',
  'version',
  'histogram',
  'integer_range',
  'float_range',
  'long_range',
  'double_range',
  'date_range',
  'ip_range',
  'dense_vector',
  'sparse_vector',
  'rank_feature',
  'rank_features',
  'token_count',
  'murmur3',
  'annotated_text',
  'percolator',
  'join',
  'aggregate_metric_double',
  'semantic_text',
  'counted_keyword',
]);

/** Mapping parameters accepted; those not listed here that Elasticsearch knows are a clear 400. */
const ACCEPTED_PARAMS = new Set([
  'type',
  'format',
  'fields',
  'ignore_above',
  'index',
  'doc_values',
  'store',
  'analyzer',
  'search_analyzer',
  'norms',
  'properties',
  'dynamic',
  'coerce',
]);

/** One mapped field (Elasticsearch's mapping JSON for it). */
export interface FieldMapping {
  type: string;
  format?: string;
  fields?: Record<string, FieldMapping>;
  properties?: Record<string, FieldMapping>;
  [param: string]: unknown;
}

/** An index's mappings as Elasticsearch renders them under `mappings`. */
export interface Mappings {
  dynamic?: boolean | 'strict' | 'true' | 'false';
  properties: Record<string, FieldMapping>;
}

/** A leaf field as queries see it: its full dotted name, the source path it reads, its type and date format. */
export interface ResolvedField {
  name: string;
  sourcePath: string;
  type: FieldType;
  format: string;
}

/**
 * Parses `mappings` of a create-index body (typeless, as Elasticsearch 8+).
 * @throws MapperParsingError "Failed to parse mapping: No handler for type [<t>] declared on field [<f>]" (400);
 *   DocumentStoreUnsupportedError for types and parameters Elasticsearch has and the store does not
 */
export function parseMappings(raw: unknown): Mappings {
  if (raw === undefined || raw === null) return { properties: {} };
  if (!isJsonObject(raw)) throw new MapperParsingError(`Failed to parse mapping: Expected map for property [mappings] but got a ${typeof raw}`);
  const out: Mappings = { properties: {} };
  for (const [k, v] of Object.entries(raw)) {
    if (k === 'properties') out.properties = parseProperties(v, '');
    else if (k === 'dynamic') out.dynamic = parseDynamic(v);
    else if (k === '_source' || k === '_meta' || k === 'date_detection' || k === 'numeric_detection') {
      if (k === 'date_detection' || k === 'numeric_detection' || (k === '_source' && isJsonObject(v) && Object.keys(v).length > 0))
        throw new DocumentStoreUnsupportedError(k, 'mapping parameter');
    } else if (k === 'dynamic_templates' || k === 'runtime' || k === '_routing') throw new DocumentStoreUnsupportedError(k, 'mapping parameter');
    else throw new MapperParsingError(`Failed to parse mapping: Root mapping definition has unsupported parameters:  [${k} : ${JSON.stringify(v)}]`);
  }
  return out;
}

function parseDynamic(v: unknown): Mappings['dynamic'] {
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  if (v === 'strict') return 'strict';
  throw new DocumentStoreUnsupportedError(`dynamic: ${String(v)}`, 'mapping parameter');
}

function parseProperties(raw: unknown, prefix: string): Record<string, FieldMapping> {
  if (!isJsonObject(raw)) throw new MapperParsingError(`Failed to parse mapping: Expected map for property [properties] on field [${prefix || '_doc'}]`);
  const out: Record<string, FieldMapping> = {};
  for (const [name, def] of Object.entries(raw)) {
    const full = prefix ? `${prefix}.${name}` : name;
    if (!isJsonObject(def)) throw new MapperParsingError(`Failed to parse mapping: Expected map for property [fields] on field [${full}] but got a class java.lang.String`);
    out[name] = parseField(full, def);
  }
  return out;
}

function parseField(full: string, def: Record<string, unknown>): FieldMapping {
  const type = def.type === undefined ? (def.properties !== undefined ? 'object' : 'object') : String(def.type);
  if (type === 'object') {
    const props = def.properties === undefined ? {} : parseProperties(def.properties, full);
    return def.type === undefined ? ({ properties: props } as FieldMapping) : { type: 'object', properties: props };
  }
  if (ES_ONLY_TYPES.has(type)) throw new DocumentStoreUnsupportedError(type, 'field type');
  if (!(FIELD_TYPES as readonly string[]).includes(type)) throw new MapperParsingError(`Failed to parse mapping: No handler for type [${type}] declared on field [${full}]`);
  const out: FieldMapping = { type };
  for (const [k, v] of Object.entries(def)) {
    if (k === 'type') continue;
    if (!ACCEPTED_PARAMS.has(k) || k === 'properties') throw new DocumentStoreUnsupportedError(k, 'mapping parameter');
    if (k === 'format') {
      if (type !== 'date') throw new MapperParsingError(`Failed to parse mapping: unknown parameter [format] on mapper [${full}] of type [${type}]`);
      checkDateFormat(String(v));
      out.format = String(v);
    } else if (k === 'fields') {
      if (!isJsonObject(v)) throw new MapperParsingError(`Failed to parse mapping: Expected map for property [fields] on field [${full}]`);
      const subs: Record<string, FieldMapping> = {};
      for (const [sub, sd] of Object.entries(v)) {
        if (!isJsonObject(sd)) throw new MapperParsingError(`Failed to parse mapping: Expected map for property [fields] on field [${full}.${sub}]`);
        subs[sub] = parseField(`${full}.${sub}`, sd);
      }
      out.fields = subs;
    } else out[k] = v;
  }
  return out;
}

/** Every leaf field of `mappings`, multi-fields included, in mapping order. */
export function leafFields(mappings: Mappings): ResolvedField[] {
  const out: ResolvedField[] = [];
  const walk = (props: Record<string, FieldMapping>, prefix: string): void => {
    for (const [name, f] of Object.entries(props)) {
      const full = prefix ? `${prefix}.${name}` : name;
      if (f.properties) walk(f.properties, full);
      else {
        out.push({ name: full, sourcePath: full, type: f.type as FieldType, format: f.format ?? DEFAULT_DATE_FORMAT });
        for (const [sub, sf] of Object.entries(f.fields ?? {}))
          out.push({ name: `${full}.${sub}`, sourcePath: full, type: sf.type as FieldType, format: sf.format ?? DEFAULT_DATE_FORMAT });
      }
    }
  };
  walk(mappings.properties, '');
  return out;
}

/**
 * The time field of an index: its only date field, or the first in mapping order when there
 * are several; undefined without one. The store partitions documents by its value.
 */
export function timeFieldOf(mappings: Mappings): ResolvedField | undefined {
  return leafFields(mappings).find((f) => f.type === 'date' && f.name === f.sourcePath);
}

/** The values of a dotted path in a document (object paths and dotted keys alike; arrays give several). */
export function valuesAt(source: unknown, path: string): unknown[] {
  const out: unknown[] = [];
  const walk = (node: unknown, rest: string): void => {
    if (Array.isArray(node)) {
      for (const n of node) walk(n, rest);
      return;
    }
    if (rest === '') {
      if (node !== null && node !== undefined) out.push(node);
      return;
    }
    if (!isJsonObject(node)) return;
    for (const [k, v] of Object.entries(node)) {
      if (rest === k) walk(v, '');
      else if (rest.startsWith(`${k}.`)) walk(v, rest.slice(k.length + 1));
    }
  };
  walk(source, path);
  return out;
}

/** A value read as its field type; undefined when it cannot be (the reason in `error`). */
export function coerce(value: unknown, field: Pick<ResolvedField, 'type' | 'format'>): { ok: true; value: number | string | boolean } | { ok: false; error: string } {
  switch (field.type) {
    case 'date': {
      if (typeof value !== 'string' && typeof value !== 'number') return { ok: false, error: `failed to parse date field [${String(value)}] with format [${field.format}]` };
      const t = parseDate(value, field.format);
      return t === undefined ? { ok: false, error: `failed to parse date field [${String(value)}] with format [${field.format}]` } : { ok: true, value: t };
    }
    case 'long':
    case 'integer':
    case 'double':
    case 'float': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
      if (!Number.isFinite(n))
        return {
          ok: false,
          error: typeof value === 'string' ? `For input string: "${value}"` : `Current token (${tokenName(value)}) not numeric, can not use numeric value accessors`,
        };
      return { ok: true, value: field.type === 'long' || field.type === 'integer' ? Math.trunc(n) : n };
    }
    case 'boolean':
      if (value === true || value === 'true') return { ok: true, value: true };
      if (value === false || value === 'false' || value === '') return { ok: true, value: false };
      return { ok: false, error: `Failed to parse value [${String(value)}] as only [true] or [false] are allowed.` };
    default:
      if (isJsonObject(value)) return { ok: false, error: `Can't get text on a START_OBJECT` };
      return { ok: true, value: typeof value === 'string' ? value : String(value) };
  }
}

function tokenName(v: unknown): string {
  if (typeof v === 'boolean') return 'VALUE_TRUE';
  if (isJsonObject(v)) return 'START_OBJECT';
  return 'VALUE_STRING';
}

/** The mapping Elasticsearch's dynamic mapping gives a new value (date detection on, numeric detection off). */
function dynamicMapping(value: unknown): FieldMapping | undefined {
  if (typeof value === 'boolean') return { type: 'boolean' };
  if (typeof value === 'number') return { type: Number.isInteger(value) ? 'long' : 'float' };
  if (typeof value === 'string') {
    // Elasticsearch's default dynamic_date_formats start with strict_date_optional_time; a bare
    // year or year-month ("2017") is taken as text here, not as a date (see README).
    if (/^\d{4}-\d{2}-\d{2}/.test(value) && parseIsoDate(value) !== undefined) return { type: 'date' };
    return { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 256 } } };
  }
  return undefined;
}

/**
 * Adds the fields of `source` that `mappings` lacks, as Elasticsearch's dynamic mapping
 * does (objects become `properties`, arrays take their first non-null value's type).
 * @returns the new mappings, or undefined when nothing changed
 * @throws EsError 400 `strict_dynamic_mapping_exception` when the mapping is `strict`
 */
export function withDynamicFields(mappings: Mappings, source: Record<string, unknown>): Mappings | undefined {
  if (mappings.dynamic === false || mappings.dynamic === 'false') return undefined;
  let changed = false;
  const next: Mappings = structuredClone(mappings);
  const walk = (props: Record<string, FieldMapping>, obj: Record<string, unknown>, prefix: string): void => {
    for (const [rawKey, value] of Object.entries(obj)) {
      // A dotted key is an object path, as Elasticsearch expands it.
      const parts = rawKey.split('.');
      let target = props;
      let path = prefix;
      for (const p of parts.slice(0, -1)) {
        path = path ? `${path}.${p}` : p;
        let f = target[p];
        if (!f) {
          if (mappings.dynamic === 'strict') throw strictError(p, path);
          f = { properties: {} } as FieldMapping;
          target[p] = f;
          changed = true;
        }
        if (!f.properties) return;
        target = f.properties;
      }
      const key = parts[parts.length - 1] as string;
      const full = path ? `${path}.${key}` : key;
      const first = Array.isArray(value) ? value.find((v) => v !== null) : value;
      if (first === null || first === undefined) continue;
      const existing = target[key];
      if (isJsonObject(first)) {
        if (existing && !existing.properties) continue; // a leaf field given an object: the coercion check reports it
        let f = existing;
        if (!f) {
          if (mappings.dynamic === 'strict') throw strictError(key, full);
          f = { properties: {} } as FieldMapping;
          target[key] = f;
          changed = true;
        }
        for (const item of Array.isArray(value) ? value : [value]) if (isJsonObject(item)) walk(f.properties as Record<string, FieldMapping>, item, full);
        continue;
      }
      if (existing) continue;
      const m = dynamicMapping(first);
      if (!m) continue;
      if (mappings.dynamic === 'strict') throw strictError(key, full);
      target[key] = m;
      changed = true;
    }
  };
  walk(next.properties, source, '');
  return changed ? next : undefined;
}

function strictError(field: string, full: string): IllegalArgumentError {
  const parent = full.includes('.') ? full.slice(0, full.lastIndexOf('.')) : '_doc';
  const e = new IllegalArgumentError(`mapping set to strict, dynamic introduction of [${field}] within [${parent}] is not allowed`);
  Object.defineProperty(e, 'type', { value: 'strict_dynamic_mapping_exception' });
  return e;
}

/**
 * Elasticsearch's refusal to aggregate or sort on a `text` field (no fielddata), which the
 * store keeps: its text fields are matched as keywords, but a user of Elasticsearch expects
 * `<field>.keyword` here.
 */
export function fielddataDisabled(field: string, index: string): IllegalArgumentError {
  return new IllegalArgumentError(
    `Fielddata is disabled on [${field}] in [${index}]. Text fields are not optimised for operations that require per-document field data like aggregations and sorting, so these operations are disabled by default. Please use a keyword field instead. Alternatively, set fielddata=true on [${field}] in order to load field data by uninverting the inverted index. Note that this can use significant memory.`,
  );
}

/** Finds a leaf field by name (`host`, `host.keyword`, `a.b`); undefined when unmapped. */
export function resolveField(mappings: Mappings, name: string): ResolvedField | undefined {
  return leafFields(mappings).find((f) => f.name === name);
}
