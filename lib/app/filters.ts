import { refuseInUpgradeMode } from './job-lookup.ts';
import {
  applyFilterUpdate,
  checkFilterDocumentId,
  filterExistsError,
  filterInUseError,
  filtersUsedBy,
  filterView,
  parseFilterUpdate,
  parsePutFilter,
  storedFilterPart,
  unknownFilterError,
} from '../domain/filter.ts';
import { checkFilterSize, MAX_FILTER_BYTES, refuseOversizedBody } from '../domain/limits.ts';
import { expandIds } from '../domain/ids.ts';
import { StaleStateError } from '../domain/errors.ts';
import { createFilter, deleteFilter, getFilter, listFilters, putFilter } from '../store/filters.ts';
import { listJobConfigs } from '../store/jobs.ts';
import { audit } from './audit.ts';

/**
 * PUT _ml/filters/<id> (spec A.5.10): items come back sorted and deduplicated.
 * A filter that cannot be stored (over {@link MAX_FILTER_BYTES} compressed) is refused after
 * Elasticsearch's checks (a large body before it is read in full).
 * @throws the parse/validation errors of parsePutFilter; 500 `Error putting filter with id [<id>]` for an id over 505 bytes (checkFilterDocumentId);
 *   400 resource_already_exists_exception "A filter with id [<id>] already exists";
 *   StoredSizeLimitError 400 `illegal_argument_exception` `[items] is too large: filter [<id>] would be [<n>] compressed bytes, …`
 */
export async function putMlFilter(filterId: string, source: string): Promise<unknown> {
  refuseOversizedBody(source, MAX_FILTER_BYTES, `filter [${filterId}]`, (b) => storedFilterPart(filterId, b, 'put'), 'compressed bytes');
  const filter = parsePutFilter(filterId, source);
  // Pure checks first (a hostile id is refused before any I/O); then the upgrade-mode refusal.
  checkFilterDocumentId(filter.filter_id);
  checkFilterSize(filter);
  await refuseInUpgradeMode('cluster:admin/xpack/ml/filters/put');
  if (!(await createFilter(filter))) throw filterExistsError(filter.filter_id);
  return filterView(filter);
}

/** GET _ml/filters[/<id or list or wildcard>]: `{count, filters}`, sorted by id, paged by from/size. */
export async function getMlFilters(expression: string | undefined, from: number, size: number): Promise<{ count: number; filters: unknown[] }> {
  const all = await listFilters();
  let chosen = all;
  if (expression !== undefined && expression !== '_all' && expression !== '*') {
    const { ids, missing } = expandIds(
      expression,
      all.map((f) => ({ id: f.filter_id })),
      { allowNoMatch: true },
    );
    if (missing.length > 0) throw unknownFilterError(missing.join(','), 'get');
    const set = new Set(ids);
    chosen = all.filter((f) => set.has(f.filter_id));
  }
  return { count: chosen.length, filters: chosen.slice(from, from + size).map(filterView) };
}

/**
 * POST _ml/filters/<id>/_update: adds and removes items, changes the description. Jobs
 * using the filter see the new items on their next data (the model reads its filters per
 * batch), and each gets an audit message, as Elasticsearch notifies running processes.
 * @throws StoredSizeLimitError 400 when the updated filter cannot be stored (over {@link MAX_FILTER_BYTES} compressed)
 */
export async function updateMlFilter(filterId: string, source: string): Promise<unknown> {
  refuseOversizedBody(source, MAX_FILTER_BYTES, `filter [${filterId}]`, (b) => storedFilterPart(filterId, b, 'update'), 'compressed bytes');
  const update = parseFilterUpdate(source, filterId);
  await refuseInUpgradeMode('cluster:admin/xpack/ml/filters/update');
  for (let attempt = 0; attempt < 10; attempt++) {
    const stored = await getFilter(filterId);
    if (!stored) throw unknownFilterError(filterId, 'update');
    const next = applyFilterUpdate(stored.filter, update);
    checkFilterSize(next);
    try {
      await putFilter(next, stored.version);
    } catch (err) {
      if (err instanceof StaleStateError) continue;
      throw err;
    }
    const users = (await listJobConfigs()).filter((j) => filtersUsedBy(j).includes(filterId));
    const added = (update.add_items ?? []).filter((i) => !stored.filter.items.includes(i));
    const removed = update.remove_items ?? [];
    for (const j of users) {
      await audit(j.job_id, `Filter [${filterId}] has been modified; ${describeChange(added, removed)}`);
    }
    return filterView(next);
  }
  throw new StaleStateError(`filter [${filterId}] keeps changing`);
}

function describeChange(added: string[], removed: string[]): string {
  const parts: string[] = [];
  if (added.length > 0) parts.push(`added items: [${added.join(', ')}]`);
  if (removed.length > 0) parts.push(`removed items: [${removed.join(', ')}]`);
  return parts.length > 0 ? parts.join(', ') : 'description updated';
}

/** DELETE _ml/filters/<id>: 409 while any job's rules use it, else 404 when unknown. */
export async function deleteMlFilter(filterId: string): Promise<{ acknowledged: true }> {
  await refuseInUpgradeMode('cluster:admin/xpack/ml/filters/delete');
  // Elasticsearch checks use before existence: a missing filter that a job still references is 409.
  const users = (await listJobConfigs()).filter((j) => filtersUsedBy(j).includes(filterId)).map((j) => j.job_id);
  if (users.length > 0) throw filterInUseError(filterId, users);
  if (!(await getFilter(filterId))) throw unknownFilterError(filterId, 'delete');
  await deleteFilter(filterId);
  return { acknowledged: true };
}
