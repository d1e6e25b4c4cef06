import { datafeedStatsView, datafeedView } from '../domain/datafeed/view.ts';
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
 * @throws 404 "No datafeed with id [<tokens>] exists"
 */
export async function getDatafeedStats(expression: string, allowNoMatch: boolean): Promise<{ count: number; datafeeds: unknown[] }> {
  const found = await resolveDatafeeds(expression, allowNoMatch);
  return { count: found.length, datafeeds: found.map((d) => datafeedStatsView(d.config, d.runtime)) };
}
