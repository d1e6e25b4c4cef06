/**
 * Elasticsearch's `filter_path` response filtering (`FilterPath` and `FilterPathBasedFilter`
 * over Jackson's filtering generator), on a JSON value instead of a token stream.
 *
 * - `filter_path=a.b,c` keeps only the listed paths; a path names object keys separated by
 *   `.`, arrays are transparent (a path applies to each element).
 * - `*` inside a segment matches any run of characters (`Regex.simpleMatch`); a `**`
 *   segment matches any number of levels (`**.id`, `jobs.**`).
 * - A matched key keeps its whole value. An object or array that keeps nothing is dropped,
 *   and so are scalars inside an array reached by a partial match.
 * - `-a.b` excludes: matching keys are removed and objects or arrays emptied by the removal
 *   are dropped, while objects or arrays that were empty to begin with stay.
 * - With both, inclusions apply first and exclusions to what they kept. A body filtered to
 *   nothing is `{}`.
 *
 * Written here rather than taken from npm: no maintained package reproduces these
 * semantics (`**`, exclusions, dropping emptied containers) exactly.
 */
import { isJsonObject } from '../domain/json/plain-values.ts';

type Filter = readonly string[];

/** Compiled `filter_path`: inclusion and exclusion paths split into segments. */
export interface FilterPaths {
  include: Filter[];
  exclude: Filter[];
}

/**
 * Parses a `filter_path` value (comma list, items trimmed, empty items ignored).
 * @returns undefined when there is nothing to filter by
 */
export function compileFilterPath(value: string | undefined): FilterPaths | undefined {
  if (value === undefined) return undefined;
  const include: Filter[] = [];
  const exclude: Filter[] = [];
  for (const raw of value.split(',')) {
    const item = raw.trim();
    if (item === '' || item === '-') continue;
    if (item.startsWith('-')) exclude.push(item.slice(1).split('.'));
    else include.push(item.split('.'));
  }
  return include.length === 0 && exclude.length === 0 ? undefined : { include, exclude };
}

/** `Regex.simpleMatch`: `*` matches any run of characters, everything else literally. */
function simpleMatch(pattern: string, name: string): boolean {
  if (!pattern.includes('*')) return pattern === name;
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    's',
  );
  return re.test(name);
}

/** Matches one key against filters: whether some filter ends at it, and the filters for its children. */
function step(filters: readonly Filter[], key: string): { full: boolean; next: Filter[] } {
  let full = false;
  const next: Filter[] = [];
  const visit = (f: Filter): void => {
    if (f.length === 0) {
      full = true;
      return;
    }
    if (f[0] === '**') {
      // Zero levels: the rest of the filter applies to this key; one level or more: keep `**`.
      if (f.length === 1) full = true;
      else visit(f.slice(1));
      next.push(f);
      return;
    }
    if (!simpleMatch(f[0]!, key)) return;
    if (f.length === 1) full = true;
    else next.push(f.slice(1));
  };
  for (const f of filters) visit(f);
  return { full, next };
}

const DROP = Symbol('drop');

function includeValue(value: unknown, filters: readonly Filter[]): unknown {
  if (isJsonObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const { full, next } = step(filters, k);
      if (full) out[k] = v;
      else if (next.length > 0) {
        const kept = includeValue(v, next);
        if (kept !== DROP) out[k] = kept;
      }
    }
    return Object.keys(out).length > 0 ? out : DROP;
  }
  if (Array.isArray(value)) {
    const out = value.map((v) => includeValue(v, filters)).filter((v) => v !== DROP);
    return out.length > 0 ? out : DROP;
  }
  return DROP;
}

function excludeValue(value: unknown, filters: readonly Filter[]): unknown {
  if (isJsonObject(value)) {
    const entries = Object.entries(value);
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) {
      const { full, next } = step(filters, k);
      if (full) continue;
      if (next.length === 0) out[k] = v;
      else {
        const kept = excludeValue(v, next);
        if (kept !== DROP) out[k] = kept;
      }
    }
    return entries.length > 0 && Object.keys(out).length === 0 ? DROP : out;
  }
  if (Array.isArray(value)) {
    const out = value.map((v) => excludeValue(v, filters)).filter((v) => v !== DROP);
    return value.length > 0 && out.length === 0 ? DROP : out;
  }
  return value;
}

/** Applies compiled `filter_path` filters to a response body (see the module comment). */
export function applyFilterPath(body: unknown, filters: FilterPaths): unknown {
  let out: unknown = body;
  if (filters.include.length > 0) out = includeValue(out, filters.include);
  if (out !== DROP && filters.exclude.length > 0) out = excludeValue(out, filters.exclude);
  return out === DROP ? {} : out;
}
