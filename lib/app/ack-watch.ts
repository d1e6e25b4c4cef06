/**
 * The ack watch API (spec `watcher-ack.md` §1): PUT/POST `_watcher/watch/<id>/_ack[/<actions>]`
 * and the 5.x `_xpack/watcher/...` form.
 */
import { ActionRequestValidationError, ConflictError, WatchVersionConflictError, WatchWriteConflict } from '../domain/errors.ts';
import { onAck } from '../domain/watcher/status.ts';
import { renderStatus } from '../domain/watcher/types.ts';
import { getWatch, putStatus, type StoredWatch } from '../store/watches.ts';
import { withAckExpiry } from './ack-expiry.ts';
import { statusKey, unknownWatchError, type WatcherPaths, watchIdErrors } from './watches.ts';

/**
 * How long a running marker counts: an execution runs inside one worker invocation (60 s
 * timeout), so a marker older than this was left by a worker that died mid-execution and
 * must not block acks forever.
 */
export const RUNNING_MARKER_STALE_MS = 5 * 60_000;

/** How often the 5.x ack looks again at a running watch while it waits. */
export const RUNNING_POLL_MS = 250;

/** Default wait of the 5.x ack for a running execution (`master_timeout`, issue 10: 10 s). */
export const DEFAULT_XPACK_ACK_WAIT_MS = 10_000;

const isRunning = (w: StoredWatch, nowMs: number): boolean => w.runningSinceMs !== undefined && nowMs - w.runningSinceMs < RUNNING_MARKER_STALE_MS;

/** Ack request options. */
export interface AckOptions {
  paths: WatcherPaths;
  /**
   * 5.x paths only: how long to wait for a running execution to finish (`master_timeout`).
   * The 5.x ack "blocks and waits for the watch execution to finish"; current versions
   * answer 409 at once.
   */
  waitMs?: number;
  /** mlplane extension (`?expires_in=`): the acks made now lapse after this long (ms, > 0, at most 36500 days; checked by the route). */
  expiresInMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Acknowledges actions of a watch (spec §1.3): no ids or `_all` = every action; unknown ids
 * are ignored; only `ackable` actions become `acked`. When nothing changes the status is
 * returned as is and nothing is written. The answer's `status.version` is the document
 * version read **before** the write (Elasticsearch's quirk, spec §1.3 step 9).
 * @returns `{status}` (`{_status}` on the 5.x paths)
 * @throws ActionRequestValidationError 400 `watch id contains whitespace` / `action id [x] contains whitespace`;
 *   ResourceNotFoundError 404 `Watch with id [<id>] does not exist`; ConflictError 409
 *   `watch[<id>] is running currently, cannot ack until finished` (the 5.x paths first wait up to
 *   `waitMs`); WatchVersionConflictError 409 when the status changed between read and write
 */
export async function ackWatch(id: string, actionIds: readonly string[], options: AckOptions): Promise<unknown> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const errors = watchIdErrors(id);
  for (const a of actionIds) if (/\s/.test(a)) errors.push(`action id [${a}] contains whitespace`);
  if (errors.length > 0) throw new ActionRequestValidationError(errors);

  let w = await getWatch(id);
  if (!w) throw unknownWatchError(id);
  if (isRunning(w, now())) {
    const deadline = now() + (options.paths === 'xpack' ? (options.waitMs ?? DEFAULT_XPACK_ACK_WAIT_MS) : 0);
    while (w && isRunning(w, now()) && now() < deadline) {
      await sleep(Math.min(RUNNING_POLL_MS, Math.max(0, deadline - now())));
      w = await getWatch(id);
    }
    if (!w) throw unknownWatchError(id);
    if (isRunning(w, now())) throw new ConflictError(`watch[${id}] is running currently, cannot ack until finished`);
  }
  // An ack that already lapsed is not acked any more: the new ack sees the action as it now stands.
  w = await withAckExpiry(w, now());
  if (!w) throw unknownWatchError(id);

  const { status, changed } = onAck(w.status, actionIds, now(), options.expiresInMs);
  if (changed) {
    try {
      await putStatus(id, status, w.seqNo);
    } catch (err) {
      if (!(err instanceof WatchWriteConflict)) throw err;
      if (!err.current) throw unknownWatchError(id);
      throw new WatchVersionConflictError(
        `[${id}]: version conflict, required seqNo [${w.seqNo}], primary term [${w.primaryTerm}]. current document has seqNo [${err.current.seqNo}] and primary term [${err.current.primaryTerm}]`,
      );
    }
  }
  return { [statusKey(options.paths)]: renderStatus(status, w.version) };
}
