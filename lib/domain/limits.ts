/**
 * Storage limits that Elasticsearch does not have. A job configuration, a filter and the
 * cluster settings are each one DynamoDB item, and an item holds at most 400 KB. A value
 * that cannot be stored must be refused before anything is queued: a command that fails
 * the same way on every delivery would hold its job's FIFO group until SQS gives up on it.
 *
 * Each limit leaves room for what shares the item or follows the value elsewhere:
 * - a job configuration is also the response of its `_update`, which the command item
 *   stores as its outcome beside the command's own attributes, so it gets 300 KiB of the
 *   400 KB;
 * - a filter is stored gzip-compressed (10,000 long items fit), so its limit counts
 *   compressed bytes;
 * - the cluster settings item holds the settings JSON and a version.
 *
 * The limits are checked where a client's content comes in (put, update, settings), not in
 * the store: what mlplane itself adds later (`finished_time`, `model_snapshot_id`, a
 * `create_time` …) takes a few bytes of the headroom, and must never make a close or an
 * open fail on a job that was accepted.
 *
 * Where Elasticsearch has a limit of its own (10,000 filter items, 64-character ids) its
 * check and error come first; these limits only apply to what passes them.
 */
import { gzipSync } from 'node:zlib';
import { StoredSizeLimitError } from './errors.ts';

/** Most UTF-8 bytes of a stored job configuration (JSON): 300 KiB. */
export const MAX_JOB_CONFIG_BYTES = 300 * 1024;
/** Most gzip-compressed bytes of a stored filter (JSON `{filter_id, description?, items}`): 300 KiB. */
export const MAX_FILTER_BYTES = 300 * 1024;
/** Most UTF-8 bytes of the stored cluster settings (JSON): 300 KiB. */
export const MAX_CLUSTER_SETTINGS_BYTES = 300 * 1024;

/** Characters that JSON writes as a two-character escape (`\"`, `\\`, `\n` …): one byte more each. */
const SHORT_ESCAPES = /["\\\b\f\n\r\t]/g;
/** Other control characters, written `\u00XX`: five bytes more each. */
const UNICODE_ESCAPES = /[\u0000-\u0007\u000b\u000e-\u001f]/g;
/** Lone surrogates, written `\udXXX` (6 bytes) where UTF-8 counts the replacement character (3). */
const LONE_SURROGATES = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const count = (s: string, re: RegExp): number => {
  let n = 0;
  re.lastIndex = 0;
  while (re.exec(s) !== null) n++;
  return n;
};

/** UTF-8 bytes of a string as a JSON string literal, quotes included. */
function stringBytes(s: string): number {
  return Buffer.byteLength(s, 'utf8') + 2 + count(s, SHORT_ESCAPES) + 5 * count(s, UNICODE_ESCAPES) + 3 * count(s, LONE_SURROGATES);
}

/**
 * UTF-8 bytes of a value's compact JSON (`JSON.stringify`), counted without building the
 * text: stringifying megabytes only to measure them costs more than the whole check may.
 * Values JSON cannot hold (functions, `undefined` members) are left out as stringify leaves them out.
 */
export function jsonBytes(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return stringBytes(value);
    case 'number':
    case 'boolean':
    case 'bigint':
      return JSON.stringify(value)?.length ?? 0;
    case 'object': {
      if (value === null) return 4;
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
      if (Array.isArray(value)) {
        let n = 2 + Math.max(0, value.length - 1);
        for (const v of value) n += v === undefined || typeof v === 'function' || typeof v === 'symbol' ? 4 : jsonBytes(v);
        return n;
      }
      let n = 2;
      let members = 0;
      for (const [k, v] of Object.entries(value)) {
        if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
        n += stringBytes(k) + 1 + jsonBytes(v);
        members++;
      }
      return n + Math.max(0, members - 1);
    }
    default:
      return 0;
  }
}

/** gzip-compressed bytes of a value's compact JSON, as the filter store packs it. */
export function gzipJsonBytes(value: unknown): number {
  return gzipSync(JSON.stringify(value)).length;
}

/**
 * The path of the part of `value` that makes it too large: the largest top-level member,
 * then deeper (`a.b[3].c`) while the largest member is over `limitBytes` alone. A scalar
 * or empty root is named `fallback`.
 */
export function largestPath(value: unknown, limitBytes: number, fallback: string): string {
  let path = '';
  let node = value;
  for (;;) {
    if (node === null || typeof node !== 'object') break;
    const entries: [string, unknown][] = Array.isArray(node) ? node.map((v, i) => [`[${i}]`, v]) : Object.entries(node).map(([k, v]) => [k, v]);
    let best: [string, unknown] | undefined;
    let bestBytes = -1;
    for (const e of entries) {
      const b = jsonBytes(e[1]);
      if (b > bestBytes) {
        best = e;
        bestBytes = b;
      }
    }
    // Below the root, a member is named only when it is too large alone; else its parent is.
    if (!best || (path !== '' && bestBytes <= limitBytes)) break;
    const step = best[0].startsWith('[') ? best[0] : path ? `.${best[0]}` : best[0];
    path += step;
    node = best[1];
    if (bestBytes <= limitBytes) break;
  }
  return path || fallback;
}

/**
 * Refuses a job configuration that cannot be stored (its JSON over {@link MAX_JOB_CONFIG_BYTES}).
 * @param config the configuration as it would be stored
 * @throws StoredSizeLimitError 400 `illegal_argument_exception`
 *   `[<field>] is too large: the job configuration would be [<n>] bytes, over the limit of [307200] bytes`
 */
export function checkJobConfigSize(config: unknown): void {
  const bytes = jsonBytes(config);
  if (bytes > MAX_JOB_CONFIG_BYTES) {
    throw new StoredSizeLimitError(largestPath(config, MAX_JOB_CONFIG_BYTES, 'job'), 'the job configuration', bytes, MAX_JOB_CONFIG_BYTES);
  }
}

/**
 * Refuses a filter that cannot be stored (compressed over {@link MAX_FILTER_BYTES}).
 * @param filter `{filter_id, description?, items}` exactly as it would be stored
 * @throws StoredSizeLimitError 400 `[items] is too large: filter [<id>] would be [<n>] bytes compressed, over the limit of [307200] bytes`
 */
export function checkFilterSize(filter: { filter_id: string; description?: string; items: string[] }): void {
  // Compressing is the costly part; a filter whose plain JSON fits needs no compression to know it fits.
  if (jsonBytes(filter) <= MAX_FILTER_BYTES) return;
  const bytes = gzipJsonBytes(filter);
  if (bytes > MAX_FILTER_BYTES) {
    const field = largestPath({ description: filter.description, items: filter.items }, MAX_FILTER_BYTES, 'items');
    throw new StoredSizeLimitError(field, `filter [${filter.filter_id}]`, bytes, MAX_FILTER_BYTES, 'compressed bytes');
  }
}

/** What a body would store: the value (to name its largest part) and its stored size. */
export interface StoredPart {
  value: unknown;
  bytes: number;
}

/**
 * The quick check of a large request body, before the located JSON reader (which needs
 * seconds for megabytes): a body whose stored part cannot be stored is refused after a
 * native `JSON.parse`. Bodies no larger than `limitBytes`, bodies that are not valid JSON
 * objects (the located reader reports those with Elasticsearch's texts) and bodies that
 * `stored` declines (returns undefined, leaving Elasticsearch's own error to the full parse,
 * e.g. more than 10,000 filter items) pass through to the full parse and its exact checks.
 * A body refused here may also have had an error Elasticsearch would report first; the
 * size is reported instead, which is what the client has to fix anyway.
 *
 * @param source the raw body
 * @param limitBytes the storage limit the body's content counts against
 * @param what the stored thing, for the reason (`the job configuration`)
 * @param stored the part of the parsed body that would be stored and its size, or undefined to skip
 * @param unit the unit of the sizes in the reason (`bytes`, `compressed bytes`)
 * @throws StoredSizeLimitError naming the largest part of what would be stored
 */
export function refuseOversizedBody(source: string, limitBytes: number, what: string, stored: (body: Record<string, unknown>) => StoredPart | undefined, unit = 'bytes'): void {
  // UTF-8 takes at most 3 bytes per UTF-16 unit, so a short string needs no byte count.
  if (source.length <= limitBytes / 3 || Buffer.byteLength(source, 'utf8') <= limitBytes) return;
  let body: unknown;
  try {
    body = JSON.parse(source);
  } catch {
    return;
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return;
  const part = stored(body as Record<string, unknown>);
  if (part === undefined || part.bytes <= limitBytes) return;
  throw new StoredSizeLimitError(largestPath(part.value, limitBytes, 'body'), what, part.bytes, limitBytes, unit);
}

/** The stored part of a job body (put or update): everything but `job_id`, as compact JSON. */
export function storedJobPart(body: Record<string, unknown>): StoredPart {
  const { job_id: _id, ...rest } = body;
  return { value: rest, bytes: jsonBytes(rest) };
}

/** `AbstractAuditMessage.MAX_AUDIT_MESSAGE_CHARS`: 32766 (Lucene's term limit in bytes) / 4 (bytes of a UTF-8 character). */
export const MAX_AUDIT_MESSAGE_CHARS = 8191;
const TRUNCATED_SUFFIX = '... (truncated)';

/**
 * An audit message as Elasticsearch stores it (`AbstractAuditMessage.truncateMessage`): one
 * over 8,191 UTF-16 units is cut after the last space within the first 8,176 and ends in
 * `... (truncated)`. A filter update listing 10,000 added items would otherwise not fit one
 * DynamoDB item, and the update would fail after the filter was written.
 */
export function truncateAuditMessage(message: string): string {
  if (message.length <= MAX_AUDIT_MESSAGE_CHARS) return message;
  const head = message.slice(0, MAX_AUDIT_MESSAGE_CHARS - TRUNCATED_SUFFIX.length);
  const space = head.lastIndexOf(' ');
  const cut = space < 0 ? head.length : space + 1;
  return head.slice(0, cut) + TRUNCATED_SUFFIX;
}
