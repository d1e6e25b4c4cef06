/**
 * One document on its way in: its id checked as Elasticsearch checks it, its source read,
 * every mapped value checked against its field type (Elasticsearch's
 * `document_parsing_exception` with the value's `[line:col]`), new fields mapped
 * dynamically, and its time read for the partition it is stored in.
 */
import { ActionRequestValidationError, DocumentParsingError, EsError, IllegalArgumentError } from '../errors.ts';
import type { JsonNode } from '../json/located-tree.ts';
import { formatPos, type JsonPos } from '../json/position.ts';
import { parseJsonBody } from '../json/plain-values.ts';
import { readJson } from '../json/tokenizer.ts';
import { coerce, leafFields, type Mappings, type ResolvedField, timeFieldOf, valuesAt, withDynamicFields } from './mappings.ts';

/** Longest `_id`, in UTF-8 bytes. */
export const MAX_ID_BYTES = 512;

/**
 * Checks a document id as `IndexRequest.validate` does.
 * @throws ActionRequestValidationError "Validation Failed: 1: id [<id>] is too long, must be no longer than 512 bytes but was: <n>;"
 *   or "… 1: if _id is specified it must not be empty;"
 */
export function validateId(id: string): void {
  if (id === '') throw new ActionRequestValidationError(['if _id is specified it must not be empty']);
  const n = Buffer.byteLength(id, 'utf8');
  if (n > MAX_ID_BYTES) throw new ActionRequestValidationError([`id [${id}] is too long, must be no longer than ${MAX_ID_BYTES} bytes but was: ${n}`]);
}

/** A document ready to store. */
export interface PreparedDocument {
  source: Record<string, unknown>;
  /** The source as stored (the text as sent when it was an object). */
  sourceText: string;
  /** The value of the index's time field (epoch ms), when the document has one. */
  timeMs: number | undefined;
  /** The index's mappings with this document's new fields, or undefined when unchanged. */
  mappings: Mappings | undefined;
}

/**
 * Reads a document source for an index with `mappings`. `source` is the text as sent.
 * @throws DocumentParsingError 400 `document_parsing_exception`: "[l:c] failed to parse" (not JSON or not an
 *   object), "[l:c] failed to parse field [<f>] of type [<t>] in document with id '<id>'. Preview of field's value: '<v>'"
 *   (caused by the type's own error); strict_dynamic_mapping_exception for a new field under `dynamic: strict`
 */
export function prepareDocument(mappings: Mappings, text: string, id: string, timeField: string | undefined): PreparedDocument {
  let source: unknown;
  try {
    source = JSON.parse(text);
  } catch {
    try {
      parseJsonBody(text);
    } catch (err) {
      if (err instanceof EsError) {
        const at = /^\[(\d+:\d+)\]/.exec(err.message)?.[1] ?? '1:1';
        throw new DocumentParsingError(`[${at}] failed to parse`, err);
      }
      throw err;
    }
    throw new DocumentParsingError('[1:1] failed to parse');
  }
  if (typeof source !== 'object' || source === null || Array.isArray(source)) {
    throw new DocumentParsingError('[1:1] failed to parse', new IllegalArgumentError('Malformed content, must start with an object'));
  }
  const doc = source as Record<string, unknown>;
  let next: Mappings | undefined;
  try {
    next = withDynamicFields(mappings, doc);
  } catch (err) {
    if (err instanceof EsError && err.type === 'strict_dynamic_mapping_exception') {
      const e = new EsError('strict_dynamic_mapping_exception', 400, `[1:1] ${err.message}`);
      throw e;
    }
    throw err;
  }
  const effective = next ?? mappings;
  for (const f of leafFields(effective)) {
    if (f.name !== f.sourcePath) continue;
    for (const v of valuesAt(doc, f.sourcePath)) {
      const c = coerce(v, f);
      if (!c.ok) throw fieldError(text, f, id, v, c.error);
    }
  }
  const tf = timeField ?? timeFieldOf(effective)?.name;
  let timeMs: number | undefined;
  if (tf) {
    const field = leafFields(effective).find((f) => f.name === tf);
    const first = field ? valuesAt(doc, field.sourcePath)[0] : undefined;
    if (field && first !== undefined) {
      const c = coerce(first, field);
      if (c.ok) timeMs = c.value as number;
    }
  }
  return { source: doc, sourceText: text, timeMs, mappings: next };
}

function fieldError(text: string, f: ResolvedField, id: string, value: unknown, why: string): DocumentParsingError {
  const pos = valuePosition(text, f.sourcePath);
  const preview = typeof value === 'object' ? JSON.stringify(value) : String(value);
  const cause = new IllegalArgumentError(why);
  return new DocumentParsingError(
    `[${pos ? formatPos(pos) : '1:1'}] failed to parse field [${f.name}] of type [${f.type}] in document with id '${id}'. Preview of field's value: '${preview}'`,
    cause,
  );
}

/** Location of the first value at a dotted path (object paths or dotted keys), for the error's `[line:col]`. */
function valuePosition(text: string, path: string): JsonPos | undefined {
  const walk = (node: JsonNode | undefined, rest: string): JsonPos | undefined => {
    if (!node) return undefined;
    if (node.kind === 'array') {
      for (const item of node.items) {
        const p = walk(item, rest);
        if (p) return p;
      }
      return undefined;
    }
    if (rest === '') return node.start;
    if (node.kind !== 'object') return undefined;
    for (const e of node.entries) {
      if (e.key === rest) return walk(e.value, '');
      if (rest.startsWith(`${e.key}.`)) {
        const p = walk(e.value, rest.slice(e.key.length + 1));
        if (p) return p;
      }
    }
    return undefined;
  };
  return walk(readJson(text).root, path);
}
