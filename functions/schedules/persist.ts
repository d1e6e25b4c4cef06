import { runBackgroundPersist } from '../../lib/app/persist.ts';
import { logger } from '../../lib/runtime/log.ts';
import { scheduledFunction } from '../../lib/worker/schedule.ts';

/** EventBridge background persistence tick; the event's `time` (checked ISO-8601 by the schema) is the tick's instant. */
export const handler = scheduledFunction(async (event) => {
  const due = await runBackgroundPersist(Date.parse(event.time));
  logger.info('background persist', { jobs: due });
});
