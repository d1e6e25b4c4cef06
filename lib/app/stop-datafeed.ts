import { DatafeedMessages, StaleStateError, StatusError } from '../domain/errors.ts';
import { transitionDatafeed } from '../domain/lifecycle/datafeed.ts';
import { getDatafeed, getJobDatafeedId, putDatafeed } from '../store/datafeeds.ts';
import { audit } from './audit.ts';
import { requireDatafeed, resolveDatafeeds } from './datafeed-lookup.ts';
import { refuseInUpgradeMode } from './job-lookup.ts';

/** The stop-datafeed action name (upgrade-mode errors). */
export const STOP_DATAFEED_ACTION = 'cluster:admin/xpack/ml/datafeed/stop';

/** Stop parameters (query or body, the body wins; spec A.3). */
export interface StopParams {
  allowNoMatch: boolean;
  force: boolean;
}

/**
 * POST _ml/datafeeds/<expr>/_stop (spec A.3, `TransportStopDatafeedAction`): upgrade mode,
 * the expression expanded (404 for an unmatched id, or an unmatched wildcard with
 * `allow_no_match=false`), then the datafeeds classified by state. With nothing started or
 * stopping, Elasticsearch answers `{"stopped":true}` at once (stopping a stopped datafeed is
 * not an error), and so does mlplane. Stopping a running datafeed needs the runner, which
 * mlplane does not have yet: that is a 400 naming the API.
 * @throws 429 in upgrade mode; 404 "No datafeed with id [<tokens>] exists"; StatusError 400 "mlplane does not run datafeeds yet: [_stop] is not supported"
 */
export async function stopDatafeeds(expression: string, params: StopParams): Promise<{ stopped: true }> {
  await refuseInUpgradeMode(STOP_DATAFEED_ACTION);
  const found = await resolveDatafeeds(expression, params.allowNoMatch);
  const running = found.filter((d) => d.runtime.state !== 'stopped');
  if (running.length === 0) return { stopped: true };
  throw new StatusError(400, DatafeedMessages.notRunYet('_stop'));
}

/**
 * POST|GET _ml/datafeeds[/<id>]/_preview: 404 for an unknown datafeed, as Elasticsearch; a
 * preview searches the datafeed's indices, which mlplane does not do yet (400 naming the API).
 * @throws 404 "No datafeed with id [<id>] exists"; StatusError 400 "mlplane does not run datafeeds yet: [_preview] is not supported"
 */
export async function previewDatafeed(datafeedId: string | undefined): Promise<never> {
  if (datafeedId !== undefined) await requireDatafeed(datafeedId);
  throw new StatusError(400, DatafeedMessages.notRunYet('_preview'));
}

/**
 * Stops the job's datafeed if it has a task (`starting`, `started` or `stopping` → `stopped`,
 * task fields cleared) and audits "Datafeed stopped", as Elasticsearch does when its datafeed
 * task ends. A datafeed already stopped, or none, is a no-op, so a redelivered close step or a
 * resumed lookback calls it safely. Retries a lost race with another writer.
 */
export async function stopJobDatafeed(jobId: string, nowMs = Date.now()): Promise<void> {
  const datafeedId = await getJobDatafeedId(jobId);
  if (!datafeedId) return;
  for (let attempt = 0; attempt < 10; attempt++) {
    const d = await getDatafeed(datafeedId);
    if (!d || d.runtime.state === 'stopped') return;
    try {
      await putDatafeed(d.config, transitionDatafeed(d.runtime, { type: 'stopped' }));
      await audit(jobId, DatafeedMessages.stopped, 'info', nowMs);
      return;
    } catch (err) {
      if (!(err instanceof StaleStateError)) throw err;
    }
  }
  throw new StaleStateError(`datafeed [${datafeedId}] changed concurrently`);
}
