import { runDatafeedTick } from '../../lib/app/datafeed-tick.ts';
import { checkUpgradeModeExpiry } from '../../lib/app/upgrade-mode.ts';
import { publishUpgradeModeOnSeconds } from '../../lib/runtime/metrics.ts';
import { logger } from '../../lib/runtime/log.ts';
import { scheduledFunction } from '../../lib/worker/schedule.ts';

/**
 * EventBridge minute tick; the event's `time` is the tick's instant. It submits the real-time
 * datafeed searches that are due, switches off an upgrade mode whose `expires_in` has passed,
 * and publishes how long upgrade mode has been on (the stack's alarm watches it).
 */
export const handler = scheduledFunction(async (event) => {
  const now = Date.parse(event.time);
  const upgrade = await checkUpgradeModeExpiry(now);
  publishUpgradeModeOnSeconds(upgrade.expired ? 0 : upgrade.onSeconds);
  const searches = await runDatafeedTick(now);
  logger.info('minute tick', { searches, upgradeModeOnSeconds: upgrade.onSeconds, upgradeModeExpired: upgrade.expired });
});
