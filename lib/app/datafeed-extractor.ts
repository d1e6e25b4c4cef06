/**
 * The datafeed's data extractor (Elasticsearch's `ScrollDataExtractor`/`ChunkedDataExtractor`):
 * one time window of the datafeed's indices read through the search use case, and the records
 * it holds as the NDJSON body `_data` takes. The lookback and real-time runs both read through it.
 */
import type { DatafeedConfig } from '../domain/datafeed/types.ts';
import { search } from './search.ts';

/** Hits one chunk search may return (`index.max_result_window`); a window holding more is halved until it fits. */
export const CHUNK_MAX_HITS = 10_000;

/** One search hit as the extractor reads it. */
export interface Hit {
  _source?: Record<string, unknown>;
  sort?: unknown[];
}

/** A value at a dotted path of a `_source`, as Elasticsearch's source extraction finds `a.b` in `{"a":{"b":1}}` or `{"a.b":1}`. */
function valueAt(source: Record<string, unknown>, path: string): unknown {
  if (path in source) return source[path];
  const dot = path.indexOf('.');
  if (dot < 0) return undefined;
  const head = source[path.slice(0, dot)];
  return typeof head === 'object' && head !== null && !Array.isArray(head) ? valueAt(head as Record<string, unknown>, path.slice(dot + 1)) : undefined;
}

/**
 * One search over `[fromMs, toMs)`: the datafeed's query AND a range on the job's time field,
 * sorted by time, `_source` limited to the fields the job uses. A window that holds more than
 * {@link CHUNK_MAX_HITS} documents is halved (the caller posts the first half and goes on),
 * so no document is skipped by a page limit.
 * @returns the hits and the end of the window actually read
 */
export async function searchWindow(
  config: DatafeedConfig,
  timeField: string,
  fields: string[],
  fromMs: number,
  toMs: number,
): Promise<{ hits: Hit[]; toMs: number; searches: number }> {
  let end = toMs;
  for (let searches = 1; ; searches++) {
    const body = {
      size: CHUNK_MAX_HITS,
      track_total_hits: true,
      _source: fields,
      sort: [{ [timeField]: { order: 'asc' } }],
      query: { bool: { filter: [config.query, { range: { [timeField]: { gte: fromMs, lt: end, format: 'epoch_millis' } } }] } },
    };
    const ignoreUnavailable: Record<string, string> = config.indices_options.ignore_unavailable ? { ignore_unavailable: 'true' } : {};
    const out = (await search(config.indices.join(','), JSON.stringify(body), ignoreUnavailable)) as { hits: { total?: { value: number }; hits: Hit[] } };
    const total = out.hits.total?.value ?? out.hits.hits.length;
    if (total <= CHUNK_MAX_HITS || end - fromMs <= 1) return { hits: out.hits.hits, toMs: end, searches };
    end = fromMs + Math.floor((end - fromMs) / 2);
  }
}

/**
 * The records of one chunk as the NDJSON body `_data` takes: per hit, the job's time field in
 * epoch ms (Elasticsearch's datafeeds post with time format `epoch_ms` whatever the job's
 * `time_format`, `DatafeedJobBuilder`) and the other fields the job uses, from `_source`.
 */
export function recordsBody(hits: Hit[], timeField: string, fields: string[]): string {
  const lines: string[] = [];
  for (const h of hits) {
    const source = h._source ?? {};
    const time = h.sort?.[0];
    const record: Record<string, unknown> = { [timeField]: typeof time === 'number' ? time : valueAt(source, timeField) };
    for (const f of fields) {
      if (f === timeField) continue;
      const v = valueAt(source, f);
      if (v !== undefined) record[f] = v;
    }
    lines.push(JSON.stringify(record));
  }
  return lines.join('\n');
}
