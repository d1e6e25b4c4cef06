import type { DatafeedRuntime } from '../domain/datafeed/types.ts';
import { datafeedStatsView, datafeedView } from '../domain/datafeed/view.ts';
import { Messages } from '../domain/errors.ts';
import { getClusterSettings } from '../store/cluster.ts';
import { resolveDatafeeds } from './datafeed-lookup.ts';

/**
 * GET _ml/datafeeds[/<expr>] (spec A.5.8): `{count, datafeeds}` sorted by id; ids, comma
 * lists, wildcards and `_all`; `allow_no_match` (default true) governs wildcards and `_all`.
 * @throws 404 "No datafeed with id [<tokens>] exists"
 */
export async function getDatafeeds(expression: string, allowNoMatch: boolean, excludeGenerated: boolean): Promise<{ count: number; datafeeds: unknown[] }> {
  const found = await resolveDatafeeds(expression, allowNoMatch);
  return { count: found.length, datafeeds: found.map((d) => datafeedView(d.config, { excludeGenerated })) };
}

/**
 * GET _ml/datafeeds[/<expr>]/_stats: `{count, datafeeds:[{datafeed_id, state, timing_stats, …}]}`
 * sorted by id; a stopped datafeed has no `node`, `assignment_explanation` or `running_state`.
 * While upgrade mode is on, a running datafeed keeps its state but has no node and the
 * explanation "persistent task cannot be assigned while upgrade mode is enabled." (spec C).
 * @throws 404 "No datafeed with id [<tokens>] exists"
 */
export async function getDatafeedStats(expression: string, allowNoMatch: boolean): Promise<{ count: number; datafeeds: unknown[] }> {
  const [found, settings] = await Promise.all([resolveDatafeeds(expression, allowNoMatch), getClusterSettings()]);
  return { count: found.length, datafeeds: found.map((d) => datafeedStatsView(d.config, settings.upgrade_mode ? awaitingUpgrade(d.runtime) : d.runtime)) };
}

/** A datafeed's runtime as its stats show it while upgrade mode is on: a task, unassigned (`MlTasks.AWAITING_UPGRADE`). */
function awaitingUpgrade(rt: DatafeedRuntime): DatafeedRuntime {
  if (rt.state === 'stopped') return rt;
  const { node: _, ...rest } = rt;
  return { ...rest, assignment_explanation: Messages.awaitingUpgrade };
}
