/**
 * The watch history (spec watcher-ack §4.3): one watch record per recorded execution, in a
 * daily index `.watcher-history-16-<yyyy.MM.dd>` of the document store, searchable with
 * `_search` on `.watcher-history-*`. The document store has no TTL, so records expire by
 * index: the nightly maintenance drops the indices of days older than
 * {@link HISTORY_RETENTION_DAYS}, as Elasticsearch's `watch-history-ilm-policy` deletes
 * history after 7 days.
 */
import { IndexAlreadyExistsError } from '../domain/errors.ts';
import { logger } from '../runtime/log.ts';
import { deleteIndices, indexDocument, putIndex, resolveIndices } from './documents.ts';

/** Prefix of the history indices (Elasticsearch 8's history template version 16). */
export const HISTORY_INDEX_PREFIX = '.watcher-history-16-';

/** Days a history index is kept (Elasticsearch's ILM policy: delete after 7 days). */
export const HISTORY_RETENTION_DAYS = 7;

const DAY_MS = 86_400_000;

/**
 * Mappings of a history index: the fields one searches records by; everything else (user
 * payloads whose types differ between executions) is kept in `_source` but not mapped, as
 * Elasticsearch's history template disables `result.input.payload` and friends.
 */
const HISTORY_MAPPINGS = {
  dynamic: false,
  properties: {
    watch_id: { type: 'keyword' },
    node: { type: 'keyword' },
    state: { type: 'keyword' },
    '@timestamp': { type: 'date' },
    trigger_event: { properties: { type: { type: 'keyword' }, triggered_time: { type: 'date' } } },
    result: { properties: { execution_time: { type: 'date' }, execution_duration: { type: 'long' } } },
  },
};

/** The history index of the day of `ms` (UTC). */
export const historyIndexOf = (ms: number): string => `${HISTORY_INDEX_PREFIX}${new Date(ms).toISOString().slice(0, 10).replaceAll('-', '.')}`;

/**
 * Writes a watch record into the day's history index (created on first use). A failure here
 * is logged, not thrown: the execution and its status stand, as in Elasticsearch, whose
 * history store writes asynchronously.
 */
export async function writeHistory(recordId: string, record: Record<string, unknown>, executionTimeMs: number): Promise<void> {
  const index = historyIndexOf(executionTimeMs);
  try {
    try {
      await putIndex(index, JSON.stringify({ mappings: HISTORY_MAPPINGS }));
    } catch (err) {
      if (!(err instanceof IndexAlreadyExistsError)) throw err;
    }
    await indexDocument(index, recordId, JSON.stringify(record), true);
  } catch (err) {
    logger.error('watch record could not be written to the history', { watchId: record.watch_id, recordId, err });
  }
}

/**
 * Drops the history indices of days before `nowMs - HISTORY_RETENTION_DAYS` days.
 * @returns the names dropped
 */
export async function expireWatchHistory(nowMs = Date.now()): Promise<string[]> {
  const oldest = historyIndexOf(nowMs - HISTORY_RETENTION_DAYS * DAY_MS);
  const dropped: string[] = [];
  for (const index of await resolveIndices(`${HISTORY_INDEX_PREFIX}*`, true)) {
    // yyyy.MM.dd names sort by date.
    if (index.name < oldest) {
      await deleteIndices(index.name);
      dropped.push(index.name);
    }
  }
  return dropped;
}
