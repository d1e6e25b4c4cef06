/**
 * `DatafeedConfig.STRICT_PARSER` and `DatafeedUpdate.PARSER` (spec A.5.8): the bodies of put
 * and update datafeed read field by field in document order with Elasticsearch's error
 * chains (`[l:c] [datafeed_config] unknown field [headers]`, `failed to parse field [query]`),
 * then `DatafeedConfig.Builder.build()`'s checks and defaults.
 */
import { IllegalArgumentError, StatusError, XContentParseLocatedError } from '../errors.ts';
import { isValidId } from '../ids.ts';
import type { JsonNode } from '../json/located-tree.ts';
import { fields, ValueType, type XField, XObjectParser } from '../json/object-parser.ts';
import { syntaxError } from '../json/syntax-errors.ts';
import { readJson } from '../json/tokenizer.ts';
import { XParser } from '../json/xcontent-parser.ts';
import { formatJavaNumber, parseTimeValue, TimeValue } from '../units.ts';
import { histogramIntervalMs, validateAggregations } from './aggregations.ts';
import { validateQuery } from './query.ts';
import type { ChunkingConfig, DatafeedConfig, DelayedDataCheckConfig, IndicesOptions } from './types.ts';

/** `DatafeedConfig.DEFAULT_SCROLL_SIZE`. */
export const DEFAULT_SCROLL_SIZE = 1000;

/** `DEFAULT_AGGREGATION_CHUNKING_BUCKETS`: an aggregated datafeed's default chunk is 1,000 histogram buckets. */
const DEFAULT_AGGREGATION_CHUNKING_BUCKETS = 1000;

/** `SearchRequest.DEFAULT_INDICES_OPTIONS` (`strictExpandOpenAndForbidClosed`), which the REST handlers start from. */
export const DEFAULT_INDICES_OPTIONS: IndicesOptions = { expand_wildcards: ['open'], ignore_unavailable: false, allow_no_indices: true, ignore_throttled: false };

/** `Messages.DATAFEED_CONFIG_INVALID_OPTION_VALUE`: `Invalid <field> value '<v>' in datafeed configuration` (MessageFormat numbers). */
export function invalidOptionValue(field: string, value: unknown): StatusError {
  const shown = typeof value === 'number' ? formatJavaNumber(value) : Array.isArray(value) ? `[${value.join(', ')}]` : String(value);
  return new StatusError(400, `Invalid ${field} value '${shown}' in datafeed configuration`);
}

/** What the parsers collect before `build()`. */
export interface DatafeedBuilder {
  datafeed_id?: string;
  job_id?: string;
  indices?: string[];
  query?: Record<string, unknown>;
  query_delay?: TimeValue;
  frequency?: TimeValue;
  aggregations?: Record<string, unknown>;
  script_fields?: Record<string, unknown>;
  scroll_size?: number;
  chunking_config?: ChunkingConfig;
  delayed_data_check_config?: DelayedDataCheckConfig;
  /** `null` when `-1` was given (update: clears the field). */
  max_empty_searches?: number | null;
  indices_options?: IndicesOptions;
  runtime_mappings?: Record<string, unknown>;
}

const timeFieldOf = (name: 'query_delay' | 'frequency'): XField<DatafeedBuilder> =>
  fields.string((t, v) => {
    const tv = parseTimeValue(v, name);
    if (name === 'query_delay') {
      // TimeUtils.checkNonNegativeMultiple(queryDelay, MILLISECONDS)
      if (tv.nanos() < 0n) throw new IllegalArgumentError(`query_delay cannot be less than 0. Value = ${tv.human()}`);
      if (tv.nanos() % 1_000_000n !== 0n) throw new IllegalArgumentError(`query_delay has to be a multiple of 1ms; actual was '${tv.human()}'`);
      t.query_delay = tv;
    } else {
      // TimeUtils.checkPositiveMultiple(frequency, SECONDS)
      if (tv.nanos() <= 0n) throw new IllegalArgumentError(`frequency cannot be less or equal than 0. Value = ${tv.human()}`);
      if (tv.nanos() % 1_000_000_000n !== 0n) throw new IllegalArgumentError(`frequency has to be a multiple of 1s; actual was '${tv.human()}'`);
      t.frequency = tv;
    }
  });

/** `ChunkingConfig.STRICT_PARSER` and its constructor's checks. */
const CHUNKING_PARSER = new XObjectParser<{ mode?: string; time_span?: TimeValue }>(
  'chunking_config',
  {
    mode: fields.string((t, v) => {
      const m = v.toLowerCase();
      if (m !== 'auto' && m !== 'manual' && m !== 'off') {
        throw new IllegalArgumentError(`No enum constant org.elasticsearch.xpack.core.ml.datafeed.ChunkingConfig.Mode.${v.toUpperCase()}`);
      }
      t.mode = m;
    }),
    time_span: fields.string((t, v) => (t.time_span = parseTimeValue(v, 'time_span'))),
  },
  { create: () => ({}) },
);

function buildChunking(c: { mode?: string; time_span?: TimeValue }): ChunkingConfig {
  if (c.mode === undefined) throw new IllegalArgumentError('Required [mode]');
  const mode = c.mode as ChunkingConfig['mode'];
  if (mode === 'manual') {
    if (c.time_span === undefined) throw new IllegalArgumentError('when chunk mode is manual time_span is required');
    if (c.time_span.nanos() <= 0n) throw new IllegalArgumentError('chunk time_span has to be positive');
    return { mode, time_span: c.time_span.rep };
  }
  if (c.time_span !== undefined) throw new IllegalArgumentError('chunk time_span may only be set when mode is manual');
  return { mode };
}

/** `DelayedDataCheckConfig.STRICT_PARSER`. */
const DELAYED_PARSER = new XObjectParser<{ enabled?: boolean; check_window?: TimeValue }>(
  'delayed_data_check_config',
  {
    enabled: fields.boolean((t, v) => (t.enabled = v)),
    check_window: fields.string((t, v) => (t.check_window = parseTimeValue(v, 'check_window'))),
  },
  { create: () => ({}) },
);

/** `DelayedDataCheckConfig.MAX_NUMBER_SPANABLE_BUCKETS`-independent cap of the constructor: a window over 24h is refused. */
function buildDelayed(c: { enabled?: boolean; check_window?: TimeValue }): DelayedDataCheckConfig {
  if (c.enabled === undefined) throw new IllegalArgumentError('Required [enabled]');
  const out: DelayedDataCheckConfig = { enabled: c.enabled };
  if (c.check_window !== undefined) out.check_window = c.check_window.rep;
  return out;
}

const WILDCARD_STATES = ['open', 'closed', 'hidden'] as const;

/**
 * `IndicesOptions.fromMap(map, defaults)`: `expand_wildcards` (comma string or array of
 * `open`, `closed`, `hidden`, `all`, `none`), the three booleans (also as strings); other
 * keys are ignored, absent ones keep `defaults`.
 * @throws IllegalArgumentError `No enum constant …WildcardStates.<X>` for an unknown state
 */
export function indicesOptionsFromMap(map: Record<string, unknown>, defaults: IndicesOptions = DEFAULT_INDICES_OPTIONS): IndicesOptions {
  const out: IndicesOptions = { ...defaults, expand_wildcards: [...defaults.expand_wildcards] };
  const ew = map.expand_wildcards;
  if (ew !== undefined && ew !== null) {
    const tokens = (Array.isArray(ew) ? ew.map(String) : String(ew).split(',')).map((s) => s.trim()).filter((s) => s.length > 0);
    const set = new Set<string>();
    for (const tok of tokens) {
      const s = tok.toLowerCase();
      if (s === 'all') for (const w of WILDCARD_STATES) set.add(w);
      else if (s === 'none') set.clear();
      else if ((WILDCARD_STATES as readonly string[]).includes(s)) set.add(s);
      else throw new IllegalArgumentError(`No enum constant org.elasticsearch.action.support.IndicesOptions.WildcardStates.${tok.toUpperCase()}`);
    }
    out.expand_wildcards = WILDCARD_STATES.filter((w) => set.has(w));
  }
  for (const k of ['ignore_unavailable', 'allow_no_indices', 'ignore_throttled'] as const) {
    const v = map[k];
    if (v === undefined || v === null) continue;
    if (typeof v === 'boolean') out[k] = v;
    else if (v === 'true' || v === 'false') out[k] = v === 'true';
    else throw new IllegalArgumentError(`Failed to parse value [${String(v)}] as only [true] or [false] are allowed.`);
  }
  return out;
}

/** The fields both parsers share (`DatafeedConfig.createParser(false)` and `DatafeedUpdate.PARSER`). */
function commonFields(): Record<string, XField<DatafeedBuilder>> {
  const aggs: XField<DatafeedBuilder> = {
    types: ValueType.OBJECT,
    parse: (n, p) => p.map(n, true),
    set: (t, v) => {
      // Builder.setAggregationsSafe
      if (t.aggregations !== undefined) throw new StatusError(400, 'Found two aggregation definitions: [aggs] and [aggregations]');
      t.aggregations = v as Record<string, unknown>;
    },
  };
  return {
    datafeed_id: fields.string((t, v) => (t.datafeed_id = v)),
    job_id: fields.string((t, v) => (t.job_id = v)),
    indexes: fields.stringArray((t, v) => (t.indices = v)),
    indices: fields.stringArray((t, v) => (t.indices = v)),
    query_delay: timeFieldOf('query_delay'),
    frequency: timeFieldOf('frequency'),
    query: {
      types: ValueType.OBJECT,
      parse: (n, p) => p.map(n, true),
      set: (t, v) => {
        validateQuery(v as Record<string, unknown>);
        t.query = v as Record<string, unknown>;
      },
    },
    aggregations: aggs,
    aggs,
    script_fields: {
      types: ValueType.OBJECT,
      parse: (n, p) => p.map(n, true),
      set: (t, v) => {
        const sf = v as Record<string, unknown>;
        for (const [name, def] of Object.entries(sf)) {
          if (typeof def !== 'object' || def === null || Array.isArray(def) || !('script' in def)) {
            throw new IllegalArgumentError(`[script_field] script doesn't support values of type: ${def === null ? 'VALUE_NULL' : 'START_OBJECT'} for [${name}]`);
          }
        }
        // Builder.setScriptFields sorts them by field name.
        t.script_fields = Object.fromEntries(Object.entries(sf).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      },
    },
    scroll_size: fields.int((t, v) => {
      if (v < 0) throw invalidOptionValue('scroll_size', v);
      t.scroll_size = v;
    }),
    chunking_config: {
      types: ValueType.OBJECT,
      parse: (n, p) => buildChunking(CHUNKING_PARSER.parse(n, p)),
      set: (t, v) => (t.chunking_config = v as ChunkingConfig),
    },
    delayed_data_check_config: {
      types: ValueType.OBJECT,
      parse: (n, p) => buildDelayed(DELAYED_PARSER.parse(n, p)),
      set: (t, v) => (t.delayed_data_check_config = v as DelayedDataCheckConfig),
    },
    max_empty_searches: fields.int((t, v) => {
      if (v === -1) t.max_empty_searches = null;
      else if (v <= 0) throw invalidOptionValue('max_empty_searches', v);
      else t.max_empty_searches = v;
    }),
    indices_options: {
      types: ValueType.OBJECT,
      parse: (n, p) => indicesOptionsFromMap(p.map(n, true)),
      set: (t, v) => (t.indices_options = v as IndicesOptions),
    },
    runtime_mappings: {
      types: ValueType.OBJECT,
      parse: (n, p) => p.map(n, true),
      set: (t, v) => {
        validateRuntimeMappings(v as Record<string, unknown>);
        t.runtime_mappings = v as Record<string, unknown>;
      },
    },
  };
}

/** `RuntimeMappingsValidator.validate`: every entry is an object with a `type`. */
function validateRuntimeMappings(rm: Record<string, unknown>): void {
  for (const [name, def] of Object.entries(rm)) {
    if (typeof def !== 'object' || def === null || Array.isArray(def)) {
      throw new StatusError(
        400,
        `Expected map for runtime field [${name}] definition but got a ${typeof def === 'string' ? 'String' : Array.isArray(def) ? 'ArrayList' : typeof def}`,
      );
    }
    if (!('type' in def) || (def as Record<string, unknown>).type === null) throw new StatusError(400, `No type specified for runtime field [${name}]`);
  }
}

const CONFIG_PARSER = new XObjectParser<DatafeedBuilder>('datafeed_config', commonFields(), { create: () => ({}) });
const UPDATE_PARSER = new XObjectParser<DatafeedBuilder>('datafeed_update', commonFields(), { create: () => ({}) });

/**
 * Reads a JSON body (or a value already parsed, e.g. a job's `datafeed_config`) with one of
 * the parsers.
 * @throws the reader's syntax errors and the parser's `x_content_parse_exception` chains, 400
 */
function parseWith(parser: XObjectParser<DatafeedBuilder>, source: string): DatafeedBuilder {
  const { root, fault } = readJson(source);
  if (!root) {
    if (fault) throw syntaxError(fault, 'token');
    throw new XContentParseLocatedError(null, `[${parser.name}] Expected START_OBJECT but was: null`);
  }
  return parser.parse(root as JsonNode, new XParser(root.start));
}

/** Parses a put-datafeed body (`DatafeedConfig.STRICT_PARSER`). See {@link parseWith}. */
export function parseDatafeedConfigBody(source: string): DatafeedBuilder {
  return parseWith(CONFIG_PARSER, source);
}

/** Parses an update-datafeed body (`DatafeedUpdate.PARSER`, strict). See {@link parseWith}. */
export function parseDatafeedUpdateBody(source: string): DatafeedBuilder {
  return parseWith(UPDATE_PARSER, source);
}

/** Java's `String.hashCode()`. */
function javaHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * `DatafeedConfig.defaultRandomQueryDelay(jobId)`: `new Random(jobId.hashCode())
 * .longs(60000, 120000).findFirst()` ms, so a job's default query delay is the one
 * Elasticsearch would pick for it (`java.util.Random`'s LCG and bounded `nextLong`).
 */
export function defaultQueryDelayMs(jobId: string): number {
  const mask = (1n << 48n) - 1n;
  let seed = (BigInt(javaHash(jobId)) ^ 0x5deece66dn) & mask;
  const next32 = (): bigint => {
    seed = (seed * 0x5deece66dn + 0xbn) & mask;
    return BigInt.asIntN(32, seed >> 16n);
  };
  const nextLong = (): bigint => BigInt.asIntN(64, (next32() << 32n) + next32());
  const origin = 60_000n;
  const n = 60_000n;
  const m = n - 1n;
  let r = nextLong();
  // RandomSupport.boundedNextLong: reject the values that would bias the modulo (overflow of u + m - r).
  let u = BigInt.asUintN(64, r) >> 1n;
  for (;;) {
    r = u % n;
    if (BigInt.asIntN(64, u + m - r) >= 0n) break;
    u = BigInt.asUintN(64, nextLong()) >> 1n;
  }
  return Number(r + origin);
}

/** `QueryProvider.defaultQuery()`: `{"match_all":{"boost":1.0}}` (JSON has no 1.0; 1 is what a JS client sees either way). */
export const defaultQuery = (): Record<string, unknown> => ({ match_all: { boost: 1 } });

/** Context of {@link buildDatafeedConfig}. */
export interface BuildContext {
  /** Roles of the requesting user (`authorization.roles`). */
  roles: string[];
  /** Indices options from the query string (`ignore_unavailable`, …), used when the body has none. */
  indicesOptionsFromParams?: IndicesOptions;
}

/**
 * `DatafeedConfig.Builder.build()` for a put: id and indices checks, script fields with
 * aggregations, the aggregations' own checks (`DatafeedConfig.validateAggregations`),
 * defaults (`query` match_all, `scroll_size` 1000, `chunking_config` auto or 1,000
 * histogram buckets, random `query_delay`, `delayed_data_check_config` enabled,
 * `indices_options` from the params or Elasticsearch's default).
 * @throws StatusError 400 `Invalid datafeed_id; '<id>' can contain …`, `Invalid indices value '[]' in datafeed configuration`,
 *   `script_fields cannot be used in combination with aggregations`, the aggregation messages of {@link validateAggregations};
 *   IllegalArgumentError 400 `[job_id] must not be null.`
 */
export function buildDatafeedConfig(datafeedId: string, b: DatafeedBuilder, ctx: BuildContext): DatafeedConfig {
  if (b.job_id === undefined) throw new IllegalArgumentError('[job_id] must not be null.');
  if (!isValidId(datafeedId)) {
    throw new StatusError(
      400,
      `Invalid datafeed_id; '${datafeedId}' can contain lowercase alphanumeric (a-z and 0-9), hyphens or underscores; must start and end with alphanumeric`,
    );
  }
  const indices = b.indices ?? [];
  if (indices.length === 0 || indices.includes('')) throw invalidOptionValue('indices', indices);
  if (b.aggregations !== undefined && b.script_fields !== undefined && Object.keys(b.script_fields).length > 0) {
    throw new StatusError(400, 'script_fields cannot be used in combination with aggregations');
  }
  if (b.aggregations !== undefined) validateAggregations(b.aggregations);
  let chunking = b.chunking_config;
  if (chunking === undefined) {
    chunking =
      b.aggregations !== undefined && Object.keys(b.aggregations).length > 0
        ? { mode: 'manual', time_span: TimeValue.ofMillis(DEFAULT_AGGREGATION_CHUNKING_BUCKETS * histogramIntervalMs(b.aggregations)).rep }
        : { mode: 'auto' };
  }
  const out: DatafeedConfig = {
    datafeed_id: datafeedId,
    job_id: b.job_id,
    authorization_roles: ctx.roles,
    query_delay: (b.query_delay ?? TimeValue.ofMillis(defaultQueryDelayMs(b.job_id))).rep,
    chunking_config: chunking,
    indices_options: b.indices_options ?? ctx.indicesOptionsFromParams ?? DEFAULT_INDICES_OPTIONS,
    query: b.query ?? defaultQuery(),
    indices,
    scroll_size: b.scroll_size ?? DEFAULT_SCROLL_SIZE,
    delayed_data_check_config: b.delayed_data_check_config ?? { enabled: true },
  };
  if (b.frequency !== undefined) out.frequency = b.frequency.rep;
  if (b.aggregations !== undefined) out.aggregations = b.aggregations;
  if (b.script_fields !== undefined) out.script_fields = b.script_fields;
  if (b.max_empty_searches !== undefined && b.max_empty_searches !== null) out.max_empty_searches = b.max_empty_searches;
  if (b.runtime_mappings !== undefined && Object.keys(b.runtime_mappings).length > 0) out.runtime_mappings = b.runtime_mappings;
  return out;
}

/**
 * `DatafeedUpdate.apply(config)`: the fields present replace the stored ones (`-1`
 * `max_empty_searches` clears it), then the result is built and checked like a put.
 * @throws StatusError 400 `Datafeed's job_id cannot be changed.`, `Inconsistent datafeed_id; …`, and the errors of {@link buildDatafeedConfig}
 */
export function applyDatafeedUpdate(current: DatafeedConfig, u: DatafeedBuilder, ctx: BuildContext): DatafeedConfig {
  if (u.datafeed_id !== undefined && u.datafeed_id !== current.datafeed_id) {
    throw new IllegalArgumentError(`Inconsistent datafeed_id; '${u.datafeed_id}' specified in the body differs from '${current.datafeed_id}' specified as a URL argument`);
  }
  if (u.job_id !== undefined && u.job_id !== current.job_id) throw new StatusError(400, "Datafeed's job_id cannot be changed.");
  const b: DatafeedBuilder = {
    job_id: current.job_id,
    indices: u.indices ?? current.indices,
    query: u.query ?? current.query,
    query_delay: u.query_delay ?? parseTimeValue(current.query_delay, 'query_delay'),
    frequency: u.frequency ?? (current.frequency !== undefined ? parseTimeValue(current.frequency, 'frequency') : undefined),
    aggregations: u.aggregations ?? current.aggregations,
    script_fields: u.script_fields ?? current.script_fields,
    scroll_size: u.scroll_size ?? current.scroll_size,
    chunking_config: u.chunking_config ?? current.chunking_config,
    delayed_data_check_config: u.delayed_data_check_config ?? current.delayed_data_check_config,
    max_empty_searches: u.max_empty_searches === undefined ? current.max_empty_searches : u.max_empty_searches,
    indices_options: u.indices_options ?? ctx.indicesOptionsFromParams ?? current.indices_options,
    runtime_mappings: u.runtime_mappings ?? current.runtime_mappings,
  };
  if (b.frequency === undefined) delete b.frequency;
  return buildDatafeedConfig(current.datafeed_id, b, { roles: ctx.roles });
}

/** The query parameters of `IndicesOptions.fromRequest`. */
export const INDICES_OPTIONS_PARAMS = ['expand_wildcards', 'ignore_unavailable', 'allow_no_indices', 'ignore_throttled'] as const;

/**
 * `IndicesOptions.fromRequest(request, SearchRequest.DEFAULT_INDICES_OPTIONS)` for put and
 * update datafeed (and put job's `datafeed_config`): undefined when none of the parameters is
 * present, so the stored (or default) options stay.
 */
export function indicesOptionsFromParams(query: Readonly<Record<string, string | undefined>>): IndicesOptions | undefined {
  const present = INDICES_OPTIONS_PARAMS.filter((p) => query[p] !== undefined);
  if (present.length === 0) return undefined;
  return indicesOptionsFromMap(Object.fromEntries(present.map((p) => [p, query[p]])));
}
