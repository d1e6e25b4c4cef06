import type { ScheduledEvent } from 'aws-lambda';
import { runMaintenance } from '../../lib/app/maintenance.ts';
import { logger } from '../../lib/runtime/log.ts';

/** EventBridge nightly maintenance (00:30 UTC). */
export async function handler(event: ScheduledEvent): Promise<void> {
  const report = await runMaintenance();
  logger.info('nightly maintenance done', { time: event.time, jobs: report.length, report });
}
