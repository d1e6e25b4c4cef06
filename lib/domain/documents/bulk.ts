/**
 * The NDJSON body of `_bulk`, read as Elasticsearch's `BulkRequestParser` reads it: an
 * action line (`index`, `create`, `delete`, `update`) and, except for `delete`, a source
 * line. A broken action line fails the whole request (as in Elasticsearch); a broken source
 * line fails only its item, when it is indexed.
 */
import { ActionRequestValidationError, IllegalArgumentError } from '../errors.ts';
import { parseJsonBody } from '../json/plain-values.ts';

/** One operation of a bulk body. */
export interface BulkOperation {
  action: 'index' | 'create' | 'delete' | 'update';
  index: string;
  id: string | undefined;
  /** The source line (index, create, update). */
  source?: string;
  /** 1-based line of the action, for messages. */
  line: number;
}

const PARAMS = new Set([
  '_index',
  '_id',
  'routing',
  'require_alias',
  'op_type',
  'pipeline',
  'if_seq_no',
  'if_primary_term',
  'version',
  'version_type',
  'retry_on_conflict',
  'dynamic_templates',
  '_source',
  'list_executed_pipelines',
  'require_data_stream',
]);
/** Action parameters the store accepts and ignores (a single shard has no routing; nothing else is needed for them). */
const IGNORED = new Set(['routing', 'require_alias', 'require_data_stream', 'list_executed_pipelines']);

/**
 * Splits a bulk body into operations.
 * @param defaultIndex the `<index>` of `<index>/_bulk`
 * @throws IllegalArgumentError 400 for the whole request: "The bulk request must be terminated by a newline [\n]",
 *   "Malformed action/metadata line [<n>], expected START_OBJECT or END_OBJECT but found [<token>]",
 *   "Malformed action/metadata line [<n>], expected field [create], [delete], [index] or [update] but found [<x>]",
 *   "Action/metadata line [<n>] contains an unknown parameter [<p>]"; the JSON reader's errors for an action line
 *   that is not JSON; ActionRequestValidationError "Validation Failed: 1: index is missing;…" when an action names no index
 */
export function parseBulk(body: string, defaultIndex: string | undefined): BulkOperation[] {
  if (!body.endsWith('\n')) throw new IllegalArgumentError('The bulk request must be terminated by a newline [\\n]');
  const lines = body.split('\n');
  lines.pop();
  const ops: BulkOperation[] = [];
  const missingIndex: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i] as string;
    if (text.trim() === '') continue;
    const line = i + 1;
    let action: unknown;
    try {
      action = JSON.parse(text);
    } catch {
      action = parseJsonBody(text);
    }
    if (typeof action !== 'object' || action === null || Array.isArray(action)) {
      const token = Array.isArray(action)
        ? 'START_ARRAY'
        : typeof action === 'string'
          ? 'VALUE_STRING'
          : typeof action === 'number'
            ? 'VALUE_NUMBER'
            : typeof action === 'boolean'
              ? `VALUE_${String(action).toUpperCase()}`
              : 'VALUE_NULL';
      throw new IllegalArgumentError(`Malformed action/metadata line [${line}], expected START_OBJECT or END_OBJECT but found [${token}]`);
    }
    const entries = Object.entries(action);
    if (entries.length === 0) continue;
    const [name, meta] = entries[0] as [string, unknown];
    if (name !== 'index' && name !== 'create' && name !== 'delete' && name !== 'update') {
      throw new IllegalArgumentError(`Malformed action/metadata line [${line}], expected field [create], [delete], [index] or [update] but found [${name}]`);
    }
    if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
      throw new IllegalArgumentError(`Malformed action/metadata line [${line}], expected a simple value for field [${name}] but found [START_ARRAY]`);
    }
    let index = defaultIndex;
    let id: string | undefined;
    let opType: string | undefined;
    for (const [k, v] of Object.entries(meta)) {
      if (!PARAMS.has(k)) throw new IllegalArgumentError(`Action/metadata line [${line}] contains an unknown parameter [${k}]`);
      if (k === '_index') index = String(v);
      else if (k === '_id') id = v === null ? undefined : String(v);
      else if (k === 'op_type') opType = String(v);
      else if (!IGNORED.has(k)) throw new IllegalArgumentError(`mlplane does not support the [${k}] bulk parameter yet`);
    }
    const kind = name === 'index' && opType === 'create' ? 'create' : (name as BulkOperation['action']);
    const op: BulkOperation = { action: kind, index: index ?? '', id, line };
    if (index === undefined) missingIndex.push('index is missing');
    if (name !== 'delete') {
      i++;
      if (i >= lines.length) throw new IllegalArgumentError('The bulk request must be terminated by a newline [\\n]');
      op.source = lines[i] as string;
    } else if (id === undefined) missingIndex.push('id is missing');
    ops.push(op);
  }
  if (missingIndex.length > 0) throw new ActionRequestValidationError(missingIndex);
  if (ops.length === 0) throw new ActionRequestValidationError(['no requests added']);
  return ops;
}
