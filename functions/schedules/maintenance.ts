import { runMaintenance } from '../../lib/app/maintenance.ts';
import { expireWatchHistory } from '../../lib/app/watch-history.ts';
import { logger } from '../../lib/runtime/log.ts';
import { scheduledFunction } from '../../lib/worker/schedule.ts';

/** EventBridge nightly maintenance (00:30 UTC). */
export const handler = scheduledFunction(async (event) => {
  const report = await runMaintenance();
  const history = await expireWatchHistory();
  logger.info('nightly maintenance done', { time: event.time, jobs: report.length, report, watch_history_dropped: history });
});
