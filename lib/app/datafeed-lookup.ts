import { DatafeedMessages, ResourceNotFoundError } from '../domain/errors.ts';
import { expandIds } from '../domain/ids.ts';
import { getDatafeed, listDatafeeds, type StoredDatafeed } from '../store/datafeeds.ts';

/**
 * Expands a datafeed id expression (ids, comma lists, wildcards, `_all`/`*`; no groups, spec
 * A.3) over the stored datafeeds, sorted by id.
 * @throws ResourceNotFoundError 404 "No datafeed with id [<unmatched tokens>] exists"
 */
export async function resolveDatafeeds(expression: string, allowNoMatch: boolean): Promise<StoredDatafeed[]> {
  const all = await listDatafeeds();
  const { ids, missing } = expandIds(
    expression,
    all.map((d) => ({ id: d.config.datafeed_id })),
    { allowNoMatch },
  );
  if (missing.length > 0) throw new ResourceNotFoundError(DatafeedMessages.notFound(missing.join(',')));
  const byId = new Map(all.map((d) => [d.config.datafeed_id, d]));
  return ids.map((id) => byId.get(id)).filter((d): d is StoredDatafeed => d !== undefined);
}

/**
 * One datafeed by exact id.
 * @throws ResourceNotFoundError 404 "No datafeed with id [<id>] exists"
 */
export async function requireDatafeed(datafeedId: string): Promise<StoredDatafeed> {
  const d = await getDatafeed(datafeedId);
  if (!d) throw new ResourceNotFoundError(DatafeedMessages.notFound(datafeedId));
  return d;
}
