import { runDatafeedTick } from '../../lib/app/datafeed-tick.ts';
import { logger } from '../../lib/runtime/log.ts';
import { scheduledFunction } from '../../lib/worker/schedule.ts';

/** EventBridge real-time datafeed tick (every minute); the event's `time` is the tick's instant. */
export const handler = scheduledFunction(async (event) => {
  const searches = await runDatafeedTick(Date.parse(event.time));
  logger.info('real-time datafeed tick', { searches });
});
