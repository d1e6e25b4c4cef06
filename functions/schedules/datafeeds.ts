import { runDatafeedTick } from '../../lib/app/datafeed-tick.ts';
import { checkUpgradeModeExpiry } from '../../lib/app/upgrade-mode.ts';
import { runScheduledWatches } from '../../lib/app/watch-tick.ts';
import { publishUpgradeModeOnSeconds } from '../../lib/runtime/metrics.ts';
import { logger } from '../../lib/runtime/log.ts';
import { scheduledFunction } from '../../lib/worker/schedule.ts';

/**
 * EventBridge minute tick; the event's `time` is the tick's instant. It submits the real-time
 * datafeed searches that are due, switches off an upgrade mode whose `expires_in` has passed,
 * publishes how long upgrade mode has been on (the stack's alarm watches it), and submits the
 * watch runs the schedules owe, each claimed once (`lib/app/watch-tick.ts`).
 */
export const handler = scheduledFunction(async (event) => {
  const now = Date.parse(event.time);
  const upgrade = await checkUpgradeModeExpiry(now);
  publishUpgradeModeOnSeconds(upgrade.expired ? 0 : upgrade.onSeconds);
  // Datafeeds and watches are independent: one failing does not keep the other from its tick.
  const [searches, dueWatchRuns] = await Promise.allSettled([runDatafeedTick(now), runScheduledWatches(now)]);
  logger.info('minute tick', {
    searches: searches.status === 'fulfilled' ? searches.value : undefined,
    upgradeModeOnSeconds: upgrade.onSeconds,
    upgradeModeExpired: upgrade.expired,
    watchRuns: dueWatchRuns.status === 'fulfilled' ? dueWatchRuns.value : undefined,
  });
  for (const r of [searches, dueWatchRuns]) if (r.status === 'rejected') throw r.reason;
});
