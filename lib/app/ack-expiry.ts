/**
 * Ack expiry, an mlplane extension beyond Elasticsearch (issue 10 scope 7): an ack made with
 * `?expires_in=<time>` lapses back to `awaits_successful_execution` after that time, so a
 * muted action speaks again without anyone remembering to un-ack it. There is no timer: the
 * expiry is applied whenever a watch's status is read to be shown or executed, which is the
 * only time its state can be observed.
 */
import { WatchWriteConflict } from '../domain/errors.ts';
import { expireAcks } from '../domain/watcher/status.ts';
import { isoTime } from '../domain/watcher/types.ts';
import { config } from '../runtime/config.ts';
import { getWatch, putStatus, type StoredWatch } from '../store/watches.ts';
import { writeHistory } from './watch-history.ts';

/** Attempts at the conditional status write before answering with the expiry applied in memory. */
const MAX_ATTEMPTS = 5;

/**
 * The history entry of an expired ack: a `.watcher-history-*` document with `state`
 * `ack_expired` (not one of Elasticsearch's watch record states, so searches by Elasticsearch's
 * states never see it) and the message `ack of action [<a>] expired`. Its id is derived from the
 * watch, the action and the expiry time, so it names one expiry.
 */
function expiryEntry(watchId: string, actionId: string, expiresMs: number): { id: string; doc: Record<string, unknown> } {
  return {
    id: `${watchId}_ack_expired_${actionId}_${expiresMs}`,
    doc: {
      watch_id: watchId,
      node: config().nodeName,
      state: 'ack_expired',
      '@timestamp': isoTime(expiresMs),
      trigger_event: { type: 'ack_expiry', triggered_time: isoTime(expiresMs) },
      action_id: actionId,
      messages: [`ack of action [${actionId}] expired`],
    },
  };
}

/**
 * Applies lapsed acks to a stored watch: when any `acked` action's `ack.expires` is at or before
 * `nowMs`, writes the status with those actions back at `awaits_successful_execution` (a
 * conditional write on `_seq_no`, which bumps `_version` as any status write does) and writes
 * one history entry per expired action (see {@link expiryEntry}). Only the writer that wins the
 * conditional write writes the entries, so two readers at once record an expiry once. When the
 * watch keeps changing under it, the answer has the expiry applied in memory and the next read
 * writes it.
 * @returns the watch as it now stands (undefined when it was deleted meanwhile)
 */
export async function withAckExpiry(w: StoredWatch, nowMs = Date.now()): Promise<StoredWatch | undefined> {
  let current: StoredWatch | undefined = w;
  for (let attempt = 0; current && attempt < MAX_ATTEMPTS; attempt++) {
    const { status, expired } = expireAcks(current.status, nowMs);
    if (expired.length === 0) return current;
    try {
      const stored = await putStatus(current.id, status, current.seqNo);
      for (const actionId of expired) {
        const expires = current.status.actions[actionId]?.ack.expires ?? nowMs;
        const entry = expiryEntry(current.id, actionId, expires);
        await writeHistory(entry.id, entry.doc, expires);
      }
      return stored;
    } catch (err) {
      if (!(err instanceof WatchWriteConflict)) throw err;
      current = await getWatch(current.id);
    }
  }
  return current && { ...current, status: expireAcks(current.status, nowMs).status };
}

/** {@link withAckExpiry} of a watch read by id; undefined when there is no such watch. */
export async function getWatchWithAckExpiry(id: string, nowMs = Date.now()): Promise<StoredWatch | undefined> {
  const w = await getWatch(id);
  return w && withAckExpiry(w, nowMs);
}
