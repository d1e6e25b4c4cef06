import { startNightlyMaintenance } from '../../lib/app/maintenance.ts';
import { expireWatchHistory } from '../../lib/app/watch-history.ts';
import { logger } from '../../lib/runtime/log.ts';
import { scheduledFunction } from '../../lib/worker/schedule.ts';

/**
 * EventBridge nightly maintenance (00:30 UTC): submits the expired-data deletion of every job as a
 * `maintenance` command (the commands worker carries it out and hands itself on as often as it
 * needs, so 10,000 jobs never meet this function's timeout), and expires watch history.
 */
export const handler = scheduledFunction(async (event) => {
  const task = await startNightlyMaintenance(Date.parse(event.time));
  const history = await expireWatchHistory();
  logger.info('nightly maintenance started', { time: event.time, task, watch_history_dropped: history });
});
