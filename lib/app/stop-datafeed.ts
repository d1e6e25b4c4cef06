import { DatafeedMessages, IllegalStateError, Messages, StaleStateError } from '../domain/errors.ts';
import type { TimeValue } from '../domain/units.ts';
import { waitCapMs } from '../runtime/wait-cap.ts';
import { getJobRuntime } from '../store/jobs.ts';
import { submitCommand } from './commands.ts';
import { transitionDatafeed } from '../domain/lifecycle/datafeed.ts';
import { getDatafeed, getJobDatafeedId, putDatafeed } from '../store/datafeeds.ts';
import { audit } from './audit.ts';
import { datafeedStateChanged } from './events-out.ts';
import type { DatafeedStopReason } from '../domain/events.ts';
import { resolveDatafeeds } from './datafeed-lookup.ts';
import { refuseInUpgradeMode } from './job-lookup.ts';

/** The stop-datafeed action name (upgrade-mode errors). */
export const STOP_DATAFEED_ACTION = 'cluster:admin/xpack/ml/datafeed/stop';

/** Stop parameters (query or body, the body wins; spec A.3). */
export interface StopParams {
  allowNoMatch: boolean;
  force: boolean;
  /** How long a normal stop waits for the datafeeds to stop; Elasticsearch's code default is 5 minutes (spec A.3). */
  timeout?: TimeValue;
}

/** Pause between two reads of the datafeeds a stop waits for, ms. */
const STOP_POLL_MS = 100;

/**
 * POST _ml/datafeeds/<expr>/_stop (spec A.3, `TransportStopDatafeedAction`): upgrade mode,
 * the expression expanded (404 for an unmatched id, or an unmatched wildcard with
 * `allow_no_match=false`), then the datafeeds classified by state. With nothing started or
 * stopping the answer is `{"stopped":true}` at once (stopping a stopped datafeed is not an error).
 *
 * - `force`: each datafeed goes to `stopped` at once (one conditional write, whatever its
 *   runner is doing: the runner sees its run gone at its next chunk and posts nothing more),
 *   audited "Datafeed stopped"; one started with an `end` then has its job closed by a close
 *   command in the job's FIFO group, behind any chunk in flight (spec A.3 step 6), unless isolated.
 * - otherwise each goes `started → stopping` and a `datafeed` command of its run goes into its
 *   job's FIFO group: the runner, at its next chunk boundary, or that command, whichever comes
 *   first, finishes the stop (→ `stopped`, closing the job of a datafeed with an `end`). The
 *   request waits until every one is `stopped`, at most `timeout` (default 5m) and the gateway cap.
 * @throws 429 in upgrade mode; 404 "No datafeed with id [<tokens>] exists";
 *   IllegalStateError 500 "Timed out when waiting for persistent tasks after <timeout>" when they have not stopped in time
 */
export async function stopDatafeeds(expression: string, params: StopParams, startedMs = Date.now()): Promise<{ stopped: true }> {
  await refuseInUpgradeMode(STOP_DATAFEED_ACTION);
  const found = await resolveDatafeeds(expression, params.allowNoMatch);
  const running = found.filter((d) => d.runtime.state !== 'stopped');
  if (running.length === 0) return { stopped: true };
  if (params.force) {
    for (const d of running) await forceStop(d.config.datafeed_id);
    return { stopped: true };
  }
  for (const d of running) await requestStop(d.config.datafeed_id);
  const timeoutMs = params.timeout?.ms ?? 5 * 60_000;
  const deadline = startedMs + Math.min(timeoutMs, waitCapMs());
  const pending = new Set(running.map((d) => d.config.datafeed_id));
  for (;;) {
    for (const id of [...pending]) {
      const d = await getDatafeed(id);
      if (!d || d.runtime.state === 'stopped') pending.delete(id);
    }
    if (pending.size === 0) return { stopped: true };
    if (Date.now() >= deadline) throw new IllegalStateError(Messages.persistentTasksTimeout(params.timeout?.human() ?? '5m'));
    await new Promise((r) => setTimeout(r, STOP_POLL_MS));
  }
}

/** `started → stopping`, then a `datafeed` command of the run in the job's FIFO group that finishes the stop. A datafeed stopped meanwhile is left alone. */
async function requestStop(datafeedId: string): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const d = await getDatafeed(datafeedId);
    if (!d || d.runtime.state === 'stopped') return;
    const next = transitionDatafeed(d.runtime, { type: 'stop' });
    try {
      if (next !== d.runtime) {
        await putDatafeed(d.config, next);
        await datafeedStateChanged(d.config, d.runtime, next);
      }
    } catch (err) {
      if (err instanceof StaleStateError) continue;
      throw err;
    }
    if (d.runtime.run_id !== undefined) {
      await submitCommand({
        action: 'datafeed',
        es_action: STOP_DATAFEED_ACTION,
        description: `stop datafeed [${datafeedId}] of job [${d.config.job_id}]`,
        targets: [d.config.job_id],
        params: { datafeed_id: datafeedId, run_id: d.runtime.run_id },
      });
    }
    return;
  }
  throw new StaleStateError(`datafeed [${datafeedId}] changed concurrently`);
}

/** Force stop of one datafeed: `stopped` at once, audited; a lookback-only datafeed that is not isolated closes its opened job (a queued close). */
async function forceStop(datafeedId: string, nowMs = Date.now()): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const d = await getDatafeed(datafeedId);
    if (!d || d.runtime.state === 'stopped') return;
    const stopped = transitionDatafeed(d.runtime, { type: 'force_stop' });
    try {
      await putDatafeed(d.config, stopped);
    } catch (err) {
      if (err instanceof StaleStateError) continue;
      throw err;
    }
    await audit(d.config.job_id, DatafeedMessages.stopped, 'info', nowMs);
    await datafeedStateChanged(d.config, d.runtime, stopped, 'force_stop_requested', nowMs);
    const rt = await getJobRuntime(d.config.job_id);
    if (d.runtime.end_ms !== undefined && !d.runtime.isolated && rt?.state === 'opened') {
      await submitCommand({ action: 'close', es_action: 'cluster:admin/xpack/ml/job/close', description: `close job [${d.config.job_id}]`, targets: [d.config.job_id] });
    }
    return;
  }
  throw new StaleStateError(`datafeed [${datafeedId}] changed concurrently`);
}

/**
 * Stops the job's datafeed if it has a task (`starting`, `started` or `stopping` → `stopped`,
 * task fields cleared) and audits "Datafeed stopped", as Elasticsearch does when its datafeed
 * task ends. A datafeed already stopped, or none, is a no-op, so a redelivered close step or a
 * resumed lookback calls it safely. Retries a lost race with another writer. Publishes
 * `ML Datafeed State Change` with `reason` (why its caller stops it; default `job_closed`).
 */
export async function stopJobDatafeed(jobId: string, nowMs = Date.now(), reason: DatafeedStopReason = 'job_closed'): Promise<void> {
  const datafeedId = await getJobDatafeedId(jobId);
  if (!datafeedId) return;
  for (let attempt = 0; attempt < 10; attempt++) {
    const d = await getDatafeed(datafeedId);
    if (!d || d.runtime.state === 'stopped') return;
    try {
      const stopped = transitionDatafeed(d.runtime, { type: 'stopped' });
      await putDatafeed(d.config, stopped);
      await audit(jobId, DatafeedMessages.stopped, 'info', nowMs);
      await datafeedStateChanged(d.config, d.runtime, stopped, reason, nowMs);
      return;
    } catch (err) {
      if (!(err instanceof StaleStateError)) throw err;
    }
  }
  throw new StaleStateError(`datafeed [${datafeedId}] changed concurrently`);
}

/**
 * Isolates a datafeed (a force close of its job is coming): its stop will not close the job.
 * Failures are ignored, as Elasticsearch ignores isolation failures (spec A.1 step 5).
 */
export async function isolateDatafeed(datafeedId: string): Promise<void> {
  try {
    const d = await getDatafeed(datafeedId);
    if (!d) return;
    const next = transitionDatafeed(d.runtime, { type: 'isolate' });
    if (next !== d.runtime) await putDatafeed(d.config, next);
  } catch (err) {
    if (!(err instanceof StaleStateError)) throw err;
  }
}
