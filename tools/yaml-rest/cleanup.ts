import type { Client } from '@elastic/elasticsearch';

/** Sends one request, answering its body or undefined on an error status (cleanup goes on regardless). */
async function call(client: Client, method: string, path: string, querystring: Record<string, string> = {}, body?: unknown): Promise<Record<string, unknown> | undefined> {
  try {
    return await client.transport.request<Record<string, unknown>>({ method, path, querystring, ...(body === undefined ? {} : { body }) } as never, { maxRetries: 0 });
  } catch {
    return undefined;
  }
}

const ids = (list: unknown, key: string): string[] => (Array.isArray(list) ? list.map((x) => String((x as Record<string, unknown>)[key])) : []);

/**
 * Returns mlplane to a clean state between tests, as Elasticsearch's `MlRestTestStateCleaner`
 * and `ESRestTestCase` do after each test: stops and deletes every datafeed (force), closes and
 * deletes every job (force), deletes every filter, deletes every index, and removes every
 * persistent and transient cluster setting. All through the public API; failures are ignored
 * here and show up as failures of the next test instead.
 */
export async function wipeState(client: Client): Promise<void> {
  await call(client, 'POST', '/_ml/datafeeds/_all/_stop', { force: 'true' });
  const datafeeds = await call(client, 'GET', '/_ml/datafeeds');
  for (const id of ids(datafeeds?.datafeeds, 'datafeed_id')) await call(client, 'DELETE', `/_ml/datafeeds/${encodeURIComponent(id)}`, { force: 'true' });
  await call(client, 'POST', '/_ml/anomaly_detectors/_all/_close', { force: 'true' });
  const jobs = await call(client, 'GET', '/_ml/anomaly_detectors');
  for (const id of ids(jobs?.jobs, 'job_id')) await call(client, 'DELETE', `/_ml/anomaly_detectors/${encodeURIComponent(id)}`, { force: 'true' });
  const filters = await call(client, 'GET', '/_ml/filters', { size: '10000' });
  for (const id of ids(filters?.filters, 'filter_id')) await call(client, 'DELETE', `/_ml/filters/${encodeURIComponent(id)}`);
  const indices = await call(client, 'GET', '/_all');
  if (indices) {
    for (const name of Object.keys(indices)) await call(client, 'DELETE', `/${encodeURIComponent(name)}`);
  }
  const settings = await call(client, 'GET', '/_cluster/settings', { flat_settings: 'true' });
  const reset: Record<string, Record<string, null>> = {};
  for (const scope of ['persistent', 'transient']) {
    const keys = Object.keys((settings?.[scope] as Record<string, unknown> | undefined) ?? {});
    if (keys.length > 0) reset[scope] = Object.fromEntries(keys.map((k) => [k, null]));
  }
  if (Object.keys(reset).length > 0) await call(client, 'PUT', '/_cluster/settings', {}, reset);
}
