/**
 * The `categorization_analyzer` parser (a name or a custom tokenizer/filter definition,
 * rendered as Elasticsearch's `Settings` would) and the standard analyzer ML uses by default.
 */
import { IllegalArgumentError } from '../../errors.ts';
import { javaHashMapOrder } from '../../json/java-hash-order.ts';
import { type JsonNode, tokenOf } from '../../json/located-tree.ts';
import type { XParser } from '../../json/xcontent-parser.ts';
import { javaDoubleToString } from '../../units.ts';
import { STOP_WORDS } from '../constants.ts';
import type { AnalyzerPart, CategorizationAnalyzer } from '../types.ts';

/**
 * How Elasticsearch echoes an analyzer part given as an object: it becomes `Settings`, so
 * values are strings (`100` → `"100"`), keys are flattened/sorted then re-nested into
 * `HashMap(2)`s (whose iteration order is reproduced here).
 */
function settingsRender(definition: Record<string, unknown>): Record<string, unknown> {
  const flat = new Map<string, unknown>();
  const flatten = (prefix: string, v: unknown): void => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, inner] of Object.entries(v)) flatten(prefix ? `${prefix}.${k}` : k, inner);
      return;
    }
    flat.set(prefix, Array.isArray(v) ? v.map(settingString) : settingString(v));
  };
  flatten('', definition);
  const sortedKeys = [...flat.keys()].sort();
  const nest = (keys: string[], depth: number): Record<string, unknown> => {
    const groups = new Map<string, string[]>();
    for (const key of keys) {
      const name = key.split('.')[depth] ?? '';
      const members = groups.get(name) ?? [];
      members.push(key);
      groups.set(name, members);
    }
    const out: Record<string, unknown> = {};
    for (const name of javaHashMapOrder([...groups.keys()], 2)) {
      const members = groups.get(name) ?? [];
      const leaf = members.find((k) => k.split('.').length === depth + 1);
      out[name] =
        leaf !== undefined && members.length === 1
          ? flat.get(leaf)
          : nest(
              members.filter((k) => k !== leaf),
              depth + 1,
            );
    }
    return out;
  };
  return nest(sortedKeys, 0);
}

function settingString(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : javaDoubleToString(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function analyzerPart(node: JsonNode, p: XParser): AnalyzerPart {
  return node.kind === 'string' ? p.text(node) : settingsRender(p.map(node, false));
}

/**
 * `CategorizationAnalyzerConfig.buildFromXContentFragment` (strict): a string names a global
 * analyzer; an object may hold `char_filter` (array), `tokenizer` (name or object) and
 * `filter` (array). Names of analysis components are not checked against a registry here.
 */
export function parseCategorizationAnalyzer(node: JsonNode, p: XParser): CategorizationAnalyzer {
  if (node.kind === 'string') return p.text(node);
  if (node.kind !== 'object') {
    throw new IllegalArgumentError(`[categorization_analyzer] should be analyzer's name or settings [${tokenOf(node)}]`);
  }
  const charFilters: AnalyzerPart[] = [];
  const tokenFilters: AnalyzerPart[] = [];
  let tokenizer: AnalyzerPart | undefined;
  for (const e of node.entries) {
    p.cursor = e.keyPos;
    const v = e.value;
    p.at(v);
    const token = tokenOf(v);
    if ((e.key === 'char_filter' || e.key === 'filter') && v.kind === 'array') {
      const what = e.key === 'char_filter' ? 'char_filter' : 'token_filter';
      for (const item of v.items) {
        p.at(item);
        if (item.kind !== 'string' && item.kind !== 'object') {
          throw new IllegalArgumentError(`[${e.key}] in [categorization_analyzer] array element should contain ${what}'s name or settings [${tokenOf(item)}]`);
        }
        (e.key === 'char_filter' ? charFilters : tokenFilters).push(analyzerPart(item, p));
      }
      p.done(v);
    } else if (e.key === 'tokenizer') {
      if (v.kind !== 'string' && v.kind !== 'object') {
        throw new IllegalArgumentError(`[tokenizer] in [categorization_analyzer] should be tokenizer's name or settings [${token}]`);
      }
      tokenizer = analyzerPart(v, p);
    } else {
      throw new IllegalArgumentError(`Parameter [${e.key}] in [categorization_analyzer] is unknown or of the wrong type [${token}]`);
    }
  }
  p.done(node);
  if (tokenizer === undefined) {
    throw new IllegalArgumentError('categorization_analyzer that is not a global analyzer must specify a [tokenizer] field');
  }
  const out: { char_filter?: AnalyzerPart[]; tokenizer?: AnalyzerPart; filter?: AnalyzerPart[] } = {};
  if (charFilters.length > 0) out.char_filter = charFilters;
  out.tokenizer = tokenizer;
  if (tokenFilters.length > 0) out.filter = tokenFilters;
  return out;
}

/**
 * `CategorizationAnalyzerConfig.buildStandardCategorizationAnalyzer` as in current docs:
 * `first_line_with_letters`, the categorization filters as `pattern_replace` char filters,
 * the `ml_standard` tokenizer, the date-words `stop` filter and a `limit` filter of 100 tokens.
 */
export function standardCategorizationAnalyzer(categorizationFilters: readonly string[] = []): CategorizationAnalyzer {
  return {
    char_filter: ['first_line_with_letters', ...categorizationFilters.map((pattern) => settingsRender({ type: 'pattern_replace', pattern }))],
    tokenizer: 'ml_standard',
    filter: [settingsRender({ type: 'stop', stopwords: STOP_WORDS }), settingsRender({ type: 'limit', max_token_count: 100 })],
  };
}
