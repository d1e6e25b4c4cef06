import type { ScheduledEvent } from 'aws-lambda';
import { runBackgroundPersist } from '../../lib/app/persist.ts';
import { logger } from '../../lib/runtime/log.ts';

/** EventBridge background persistence tick. */
export async function handler(event: ScheduledEvent): Promise<void> {
  const due = await runBackgroundPersist(Date.parse(event.time) || Date.now());
  logger.info('background persist', { jobs: due });
}
