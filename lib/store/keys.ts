/**
 * Key layout of the single table (`pk`, `sk` strings; `expires_at` epoch seconds = TTL).
 *
 * | item | pk | sk |
 * |---|---|---|
 * | job config | `jobs` | `job#<job_id>` |
 * | job runtime state | `job#<job_id>` | `state` |
 * | live model state chunk | `job#<job_id>` | `model#<generation, 10 digits>#<n, 4 digits>` |
 * | model snapshot metadata | `job#<job_id>` | `snapshot#<snapshot_id>` |
 * | model snapshot state chunk | `job#<job_id>` | `snapstate#<snapshot_id>#<n>` |
 * | bucket result | `results#<job_id>` | `bucket#<timestamp ms, 15 digits>` |
 * | record result | `results#<job_id>` | `record#<timestamp ms, 15 digits>#<detector_index>#<n, 4 digits>` |
 * | command | `command#<command_id>` | `command` |
 * | command payload chunk | `command#<command_id>` | `payload#<nonce>#<n>` |
 * | audit message | `audit#<job_id>` | `<timestamp ms, 15 digits>#<seq>` |
 * | user | `users` | `user#<username>` |
 * | model plot result | `results#<job_id>` | `modelplot#<timestamp>#<detector_index>#<n>` |
 * | filter | `filters` | `filter#<filter_id>` |
 * | cluster settings | `cluster` | `settings` |
 * | lazily opening job marker | `lazy` | `<job_id>` |
 * | unfinished command marker (pending index) | `pending#<shard 0-3>` | `<command_id>` |
 * | pending index complete (backfilled) | `pending` | `index` |
 * | datafeed config + its runtime state | `datafeeds` | `datafeed#<datafeed_id>` |
 * | a job's datafeed claim (one datafeed per job) | `datafeeds` | `job#<job_id>` |
 * | document store: index (mappings, settings, uuid, time field, seq_no counter) | `indices` | `index#<index>` |
 * | document store: chunk of documents with a time (many documents, deflated) | `doc#<index>/<uuid>#<UTC day YYYY-MM-DD>` | `<earliest time ms in the chunk, 15 digits>#<batch nonce>#<n, 4 digits>` |
 * | document store: chunk of documents without a time | `doc#<index>/<uuid>#untimed` | `<batch nonce>#<n, 4 digits>` |
 * | document store: id directory bucket (explicit `_id` → chunk, version; deflated) | `docid#<index>/<uuid>` | `<bucket 000-063>` |
 * | document store: days holding documents of an index | `docdays#<index>/<uuid>` | `<UTC day YYYY-MM-DD>` |
 * | document store: deleted index whose items are still being removed | `indices-trash` | `<index>/<uuid>` |
 * | lease of a command target being carried out (upgrade mode waits for none) | `leases` | `<command_id>#<target>` |
 * | command message parked by upgrade mode | `parked` | `<parked ms, 15 digits>#<n, 6 digits>#<command_id>#<target>` |
 * | watch: config + status + `_version`/`_seq_no`/`_primary_term` (+ running marker) | `watches` | `watch#<watch_id>` |
 * | expired-data deletion progress (cursor: last group done; set of jobs done since; TTL) | `maintenance` | `<command_id>` |
 *
 * Documents of an index are partitioned by the UTC day of their time field (the index's only
 * date field, or its first: `lib/domain/documents/mappings.ts#timeFieldOf`) and packed into
 * chunk items, each written by one bulk and keyed by the earliest time it holds (its `maxt`
 * attribute is the latest), so a datafeed's window (a range on the time field) is one Query
 * per day: `sk <= <end of window>` and a filter `maxt >= <start>` (`lib/store/document-chunks.ts`).
 * Packing is what makes `_bulk` fast: a 5,000-document bulk writes a few chunk items instead
 * of 10,000 items. Where an explicit `_id` is lives in the id directory (64 deflated buckets
 * per index, `lib/store/document-ids.ts`); a generated `_id` encodes its chunk instead. The day list (`docdays#`) says which day
 * partitions exist, so a search without a time range or a DELETE of the index reads only
 * those, never a scan. Documents without a time (no time field yet, no value, or a time
 * before 1970 or after 9999, which a `YYYY-MM-DD` key cannot order) live in the index's
 * `untimed` partition, which every search reads too, so no document is ever missed. The id
 * directory finds a document by `_id` (GET, DELETE, re-indexing an id whose time changed).
 * Tables written by the earlier one-item-per-document layout (a `DATA_DIR` from before) are not
 * read by this one: re-index such documents.
 * Document partitions carry the index's uuid (`/` cannot occur in an index name), so DELETE of
 * an index is one write that hides all its documents at once (a new index of the same name
 * has another uuid); its items are then removed page by page, by that request and, if it runs
 * out of time, by the next index DELETE or create, from the `indices-trash` markers.
 *
 * All job configs share one partition so `GET _ml/anomaly_detectors` (and id expansion
 * over groups and wildcards) is one Query; a control plane holds thousands of jobs, not
 * millions. Everything else of a job lives under its own partitions, so results and
 * model chunks never contend with configs.
 *
 * The pending index lists the commands not yet `done` or `failed`, so the local runtime's
 * restart recovery reads only those (a Query per shard) instead of scanning a table that
 * may hold gigabytes of results and payload chunks. A marker is written in one
 * transaction with its command and deleted in one transaction with the status roll-up
 * (`lib/store/commands.ts`). Marker items rather than a sparse GSI: they are strongly
 * consistent, need no change to the table (existing `DATA_DIR` tables and the CDK stack
 * keep their shape), and the few `pending#<n>` partitions spread the writes of a busy
 * control plane. A table written before the index existed lacks the `pending`/`index`
 * item; recovery then scans once to backfill the markers and writes it.
 */

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** Zero-padded epoch ms, so string order is time order (valid until year 33658). */
export const ts = (ms: number): string => pad(ms, 15);

/** Partitions of the pending index: enough to spread a busy control plane's command writes, few enough to Query all at restart. */
export const PENDING_SHARDS = 4;

export const keys = {
  jobConfig: (jobId: string) => ({ pk: 'jobs', sk: `job#${jobId}` }),
  jobConfigPartition: 'jobs',
  jobConfigPrefix: 'job#',
  jobState: (jobId: string) => ({ pk: `job#${jobId}`, sk: 'state' }),
  jobPartition: (jobId: string) => `job#${jobId}`,
  modelChunk: (jobId: string, generation: number, n: number) => ({ pk: `job#${jobId}`, sk: `model#${pad(generation, 10)}#${pad(n, 4)}` }),
  modelPrefix: 'model#',
  snapshot: (jobId: string, snapshotId: string) => ({ pk: `job#${jobId}`, sk: `snapshot#${snapshotId}` }),
  snapshotPrefix: 'snapshot#',
  snapshotChunk: (jobId: string, snapshotId: string, n: number) => ({ pk: `job#${jobId}`, sk: `snapstate#${snapshotId}#${pad(n, 4)}` }),
  snapshotChunkPrefix: (snapshotId: string) => `snapstate#${snapshotId}#`,
  resultsPartition: (jobId: string) => `results#${jobId}`,
  bucket: (jobId: string, timestamp: number) => ({ pk: `results#${jobId}`, sk: `bucket#${ts(timestamp)}` }),
  bucketPrefix: 'bucket#',
  record: (jobId: string, timestamp: number, detectorIndex: number, n: number) => ({
    pk: `results#${jobId}`,
    sk: `record#${ts(timestamp)}#${pad(detectorIndex, 4)}#${pad(n, 4)}`,
  }),
  recordPrefix: 'record#',
  command: (commandId: string) => ({ pk: `command#${commandId}`, sk: 'command' }),
  commandPayloadChunk: (commandId: string, nonce: string, n: number) => ({ pk: `command#${commandId}`, sk: `payload#${nonce}#${pad(n, 4)}` }),
  commandPayloadPrefix: 'payload#',
  audit: (jobId: string, timestamp: number, seq: string) => ({ pk: `audit#${jobId}`, sk: `${ts(timestamp)}#${seq}` }),
  auditPartition: (jobId: string) => `audit#${jobId}`,
  user: (username: string) => ({ pk: 'users', sk: `user#${username}` }),
  filter: (filterId: string) => ({ pk: 'filters', sk: `filter#${filterId}` }),
  filterPartition: 'filters',
  filterPrefix: 'filter#',
  modelPlot: (jobId: string, timestamp: number, detectorIndex: number, n: number) => ({
    pk: `results#${jobId}`,
    sk: `modelplot#${ts(timestamp)}#${pad(detectorIndex, 4)}#${pad(n, 5)}`,
  }),
  modelPlotPrefix: 'modelplot#',
  clusterSettings: { pk: 'cluster', sk: 'settings' },
  /** The cluster's `cluster_uuid`, written once per table (`lib/store/cluster.ts#clusterUuid`). */
  clusterUuid: { pk: 'cluster', sk: 'uuid' },
  /** Marker of a job waiting lazily for ML capacity (state `opening`, no node). */
  lazyWaiting: (jobId: string) => ({ pk: 'lazy', sk: jobId }),
  lazyPartition: 'lazy',
  /** Marker of a command not yet done or failed, in one of {@link PENDING_SHARDS} partitions. */
  pendingCommand: (commandId: string) => ({ pk: `pending#${pendingShard(commandId)}`, sk: commandId }),
  /** The partitions of the pending index, `pending#0` … */
  pendingPartitions: Array.from({ length: PENDING_SHARDS }, (_, n) => `pending#${n}`) as readonly string[],
  /** Present once every unfinished command of the table has its marker. */
  pendingIndexComplete: { pk: 'pending', sk: 'index' },
  // Datafeeds: config and state on one item, so a state check and a config change are one
  // conditional write; the claim item makes "one datafeed per job" a condition of the same
  // transaction that creates the datafeed, not a read that a concurrent put could race.
  datafeed: (datafeedId: string) => ({ pk: 'datafeeds', sk: `datafeed#${datafeedId}` }),
  datafeedPartition: 'datafeeds',
  datafeedPrefix: 'datafeed#',
  datafeedJobClaim: (jobId: string) => ({ pk: 'datafeeds', sk: `job#${jobId}` }),

  // Document store (lib/store/documents.ts)
  indexMeta: (index: string) => ({ pk: 'indices', sk: `index#${index}` }),
  indicesPartition: 'indices',
  indexMetaPrefix: 'index#',
  /** `scope` is `<index>/<uuid>` (lib/store/documents.ts#scopeOf). */
  docPartition: (scope: string, day: string) => `doc#${scope}#${day}`,
  docUntimedPartition: (scope: string) => `doc#${scope}#untimed`,
  docIdPartition: (scope: string) => `docid#${scope}`,
  docDay: (scope: string, day: string) => ({ pk: `docdays#${scope}`, sk: day }),
  docDaysPartition: (scope: string) => `docdays#${scope}`,
  indexTrash: (scope: string) => ({ pk: 'indices-trash', sk: scope }),
  indexTrashPartition: 'indices-trash',

  // Upgrade mode (lib/store/upgrade.ts)
  lease: (commandId: string, target: string) => ({ pk: 'leases', sk: `${commandId}#${target}` }),
  leasePartition: 'leases',
  parked: (parkedMs: number, n: number, commandId: string, target: string) => ({ pk: 'parked', sk: `${ts(parkedMs)}#${pad(n, 6)}#${commandId}#${target}` }),
  parkedPartition: 'parked',

  // Watcher (lib/store/watches.ts): all watches in one partition, so listing them (the
  // schedule tick, `_query/watches`) is one Query, as job configs are.
  watch: (watchId: string) => ({ pk: 'watches', sk: `watch#${watchId}` }),
  watchPartition: 'watches',
  watchPrefix: 'watch#',

  // Expired-data deletion (lib/store/maintenance.ts): one progress item per maintenance command.
  maintenanceProgress: (commandId: string) => ({ pk: 'maintenance', sk: commandId }),
} as const;

/** Latest time a document day partition holds (9999-12-31T23:59:59.999Z); later and earlier than 1970 go untimed. */
export const MAX_TIMED_MS = 253_402_300_799_999;

/** The UTC day (`YYYY-MM-DD`) of a document time, or undefined when the document belongs to the untimed partition. */
export function docDay(timeMs: number | undefined): string | undefined {
  if (timeMs === undefined || timeMs < 0 || timeMs > MAX_TIMED_MS) return undefined;
  return new Date(timeMs).toISOString().slice(0, 10);
}

/** The shard of a command id (a stable hash of its characters; ids are numbers with random low digits). */
function pendingShard(commandId: string): number {
  let h = 0;
  for (let i = 0; i < commandId.length; i++) h = (h * 31 + commandId.charCodeAt(i)) >>> 0;
  return h % PENDING_SHARDS;
}

/** DynamoDB's item limit is 400 KB; chunks stay well under it with room for keys and attributes. */
export const MAX_CHUNK_BYTES = 350 * 1024;
