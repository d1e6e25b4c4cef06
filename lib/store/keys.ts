/**
 * Key layout of the single table (`pk`, `sk` strings; `expires_at` epoch seconds = TTL).
 *
 * | item | pk | sk |
 * |---|---|---|
 * | job config | `jobs` | `job#<job_id>` |
 * | job runtime state | `job#<job_id>` | `state` |
 * | live model state chunk | `job#<job_id>` | `model#<generation, 10 digits>#<n, 4 digits>` |
 * | model snapshot metadata | `job#<job_id>` | `snapshot#<snapshot_id>` |
 * | renormalization plan of the chunk being rescored (`parts`, `planned` score index keys) | `job#<job_id>` | `renormplan` |
 * | model snapshot state chunk | `job#<job_id>` | `snapstate#<snapshot_id>#<n>` |
 * | results: group summary (one per `writeResults` call and UTC month: `last`, `span`, its parts with counts and top scores) | `resultsidx#<job_id>` | `<first bucket timestamp ms, 15 digits>` |
 * | results: empty run (`{job_id, timestamp, end, bucket_span}`) | `resultsidx#<job_id>` | `<first bucket timestamp ms, 15 digits>#run` |
 * | results: interim bucket with its records (one item; replaced at the next write) | `resultsidx#<job_id>` | `<timestamp ms, 15 digits>#interim` |
 * | results: retention floor (`from`, epoch ms: older results are hidden) | `resultsidx#<job_id>` | `!retention` |
 * | results: bucket part (~512 KB of final buckets, their records and influencers; format `f` 2: `zb` the bucket documents, `zr` their records, `zi` their influencers (only when a bucket has any), each Brotli-compressed apart (raw DEFLATE when written before); no `f`: one deflated `z` of buckets with records embedded, written before) | `results#<job_id>#<UTC month YYYY-MM>` | `b#<first bucket timestamp ms, 15 digits>` |
 * | results: model plot part (~512 KB of model plot documents, Brotli; raw DEFLATE when written before) | `results#<job_id>#<UTC month YYYY-MM>` | `p#<first timestamp ms, 15 digits>` |
 * | results: score index, bucket with `anomaly_score` ≥ 10 (`t`, `doc`) | `resultscore#<job_id>` | `b#<score, 16 hex digits of its IEEE 754 bits>#<timestamp ms, 15 digits>` |
 * | results: score index, record with `record_score` ≥ 10 (`t`, `doc`) | `resultscore#<job_id>` | `r#<score, 16 hex>#<timestamp ms, 15 digits>#<detector_index, 4 digits>#<n, 4 digits>` |
 * | results: score index, influencer with `influencer_score` ≥ 10 (`t`, `doc`) | `resultscore#<job_id>` | `i#<score, 16 hex>#<timestamp ms, 15 digits>#<n in its bucket, 4 digits>` |
 * | command | `command#<command_id>` | `command` |
 * | command payload chunk | `command#<command_id>` | `payload#<nonce>#<n>` |
 * | audit message | `audit#<job_id>` | `<timestamp ms, 15 digits>#<seq>` |
 * | user | `users` | `user#<username>` |
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
 * Results are packed for their access pattern (`lib/store/results.ts`, `result-parts.ts`).
 * Writes scale with bytes: a `writeResults` call (one command's finalized buckets) becomes, per
 * UTC month, a few compressed *parts* of ~512 KB of JSON (about 550 one-record buckets and their
 * records; results compress about 30 times with Brotli, so a part is a 15-20 KB item) and one *summary* item
 * listing the parts (`[first timestamp, buckets, records, top anomaly_score, top
 * record_score]`). A part keeps its bucket documents apart from their records, in two bodies
 * compressed apart (`zb`: a header line of the buckets' timestamps and anomaly scores, then one
 * bucket document a line, as JSON text; `zr`: one JSON array of each bucket's records), so a
 * page of buckets fetches (a BatchGetItem projection) and decompresses only `zb`, and a page by time
 * answers with the documents' text as stored, never parsing or re-serializing them
 * (`lib/app/results.ts#getBucketsJson`); a page of records decompresses only `zr`. Parts written
 * before this format (no `f` attribute: one deflated JSON array `z` of buckets with their
 * records embedded, from a `DATA_DIR` of the first packed layout) are read as they are, and
 * rewritten in the new format whenever their results are written again. A year of 5-minute buckets written by 10,000-record lookback posts is about
 * 200 parts, 23 summaries and 2,100 score entries (2,365 items, 8.1 MiB) instead of 210,240
 * bucket and record items (98 MiB): `bench/results/results-paging.json`. Reads page inside the Query: a
 * results request reads the summaries of its range (one small item per group), counts from
 * them, and reads only the parts its page overlaps (plus the parts cut by the range's edges,
 * to count them): a page of 10,000 buckets reads about 20 parts wherever it lies in the
 * history. Requests filtering on a score at or above 10 (`anomaly_score`, `record_score`, the
 * UI's 25/50/75) read the score index alone: one small item per result at or above the floor,
 * sorted by the exact score (the IEEE bits of a non-negative double sort as the value), so
 * `records?record_score=75&sort=record_score` reads only the records scoring ≥ 75.
 * Influencers are stored like records: with their bucket, in a third body `zi` of its part (so
 * a page of buckets or records never decompresses them, and a part without influencers has no
 * `zi` at all), counted with their top `influencer_score` in the summary's part entry, and in
 * the score index from 10 up, since `GET results/influencers` sorts by `influencer_score`
 * (highest first) by default: its first page is then the index's top. Interim
 * results are one item each in the summary partition (a flush writes one bucket), deleted by
 * key when final results replace them, so final parts never change for them.
 *
 * Partitions: parts live in one partition per job and UTC month. A lookback moves through them
 * in time order, so at any moment it writes one month's partition, at the compressed size:
 * about 80 bytes a one-record bucket (score entries included), so AWS's 1,000 WCU/s per
 * partition key (1 KB each) allows about 12,000 buckets/s per job before the month partition
 * throttles (the 1,000 items/s of the old layout's single partition allowed 500). The summary partition takes one small item per call and
 * the score index one per anomalous result; neither caps a lookback near 1,000 buckets/s.
 * A realtime job (one bucket per call) writes one group per bucket, so its summaries grow
 * with its history (~150 bytes per bucket) and a count over a long range reads them all;
 * compacting a month's groups into one (when the month is over) would bound that.
 *
 * Keys depend only on the results written (first timestamp of the group and part, the score),
 * so a redelivered command overwrites the same items: one bucket, never two. Results
 * retention raises the `!retention` floor first (every reader clamps its range to it, so a
 * part straddling the cutoff shows nothing older) and then deletes the groups, parts, runs
 * and score entries wholly before the cutoff. Deleting a job deletes the summary, score and
 * month partitions (and the one-item-per-result partition `results#<job_id>` of a `DATA_DIR`
 * from before this layout). That partition is never read: a results request on a job that has
 * only such results is refused (500 `illegal_state_exception` naming the job: delete it and run
 * it again), never answered as if the job had none.
 *
 * Renormalization (issue 13; `lib/app/renormalize.ts`, `result-rescore.ts`) rescores final
 * buckets, records and influencers within the renormalization window and keeps `initial_*`. In
 * this layout it reads the window's summaries and, chunk by chunk, its parts, and writes only what
 * changed: the parts holding a changed result (same keys, new scores: its bodies, `zb` with its
 * header's anomaly scores, `zr` and `zi`, in the current format whatever format the part had, every other
 * attribute kept), their score index entries moved (the entry under the new score put, the one
 * under the old deleted; one falling below the floor only deleted) and the summaries whose top
 * scores moved. A reader skips a part whose listed top score is below its threshold, so the
 * writes go: summaries raised to the higher of the old and new tops, then the score index, then
 * the parts, then the summaries with the new tops. Every write is a put or delete of a fixed
 * key with a value computed from the parts and the normalisers, and the score index moves before
 * the parts, so a chunk cut short is finished by running it again (the parts still hold the old
 * scores). What a rerun with other normalisers (the job took data meanwhile) could leave is an
 * entry put under a score it no longer gives: so each chunk first saves its plan (its parts and
 * the score keys it puts) in `job#<job_id>`/`renormplan` and deletes it after its writes; a
 * rerun deletes those of its keys the new state does not hold. Parts and summaries are put only
 * over items that still exist (`attribute_exists`), so a rescored copy never brings back what
 * retention or a job deletion removed meanwhile.
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

/** The UTC month (`YYYY-MM`) of an epoch ms time: a results period partition. */
export const monthKey = (ms: number): string => new Date(ms).toISOString().slice(0, 7);

/**
 * A non-negative score as the 16 hex digits of its IEEE 754 bits: for non-negative doubles
 * the bit patterns sort as the values do, so string order is exact score order (no rounding
 * makes two scores tie that a numeric sort tells apart).
 */
export function scoreHex(score: number): string {
  const buf = Buffer.alloc(8);
  buf.writeDoubleBE(score > 0 ? score : 0);
  return buf.toString('hex');
}

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
  renormalizationPlan: (jobId: string) => ({ pk: `job#${jobId}`, sk: 'renormplan' }),
  snapshotPrefix: 'snapshot#',
  snapshotChunk: (jobId: string, snapshotId: string, n: number) => ({ pk: `job#${jobId}`, sk: `snapstate#${snapshotId}#${pad(n, 4)}` }),
  snapshotChunkPrefix: (snapshotId: string) => `snapstate#${snapshotId}#`,
  // Results (lib/store/results.ts, lib/store/result-parts.ts; layout in the comment above).
  /** The partition of the one-item-per-result layout before issue 12: only deleted (with the job), never read. */
  legacyResultsPartition: (jobId: string) => `results#${jobId}`,
  resultsIndexPartition: (jobId: string) => `resultsidx#${jobId}`,
  resultGroup: (jobId: string, firstMs: number) => ({ pk: `resultsidx#${jobId}`, sk: ts(firstMs) }),
  resultRun: (jobId: string, startMs: number) => ({ pk: `resultsidx#${jobId}`, sk: `${ts(startMs)}#run` }),
  resultInterim: (jobId: string, timestamp: number) => ({ pk: `resultsidx#${jobId}`, sk: `${ts(timestamp)}#interim` }),
  resultsRetention: (jobId: string) => ({ pk: `resultsidx#${jobId}`, sk: '!retention' }),
  resultsPeriodPartition: (jobId: string, month: string) => `results#${jobId}#${month}`,
  resultBucketPart: (jobId: string, firstMs: number) => ({ pk: `results#${jobId}#${monthKey(firstMs)}`, sk: `b#${ts(firstMs)}` }),
  resultPlotPart: (jobId: string, firstMs: number) => ({ pk: `results#${jobId}#${monthKey(firstMs)}`, sk: `p#${ts(firstMs)}` }),
  resultScorePartition: (jobId: string) => `resultscore#${jobId}`,
  bucketScore: (jobId: string, score: number, timestamp: number) => ({ pk: `resultscore#${jobId}`, sk: `b#${scoreHex(score)}#${ts(timestamp)}` }),
  recordScore: (jobId: string, score: number, timestamp: number, detectorIndex: number, n: number) => ({
    pk: `resultscore#${jobId}`,
    sk: `r#${scoreHex(score)}#${ts(timestamp)}#${pad(detectorIndex, 4)}#${pad(n, 4)}`,
  }),
  influencerScore: (jobId: string, score: number, timestamp: number, n: number) => ({
    pk: `resultscore#${jobId}`,
    sk: `i#${scoreHex(score)}#${ts(timestamp)}#${pad(n, 4)}`,
  }),
  command: (commandId: string) => ({ pk: `command#${commandId}`, sk: 'command' }),
  commandPayloadChunk: (commandId: string, nonce: string, n: number) => ({ pk: `command#${commandId}`, sk: `payload#${nonce}#${pad(n, 4)}` }),
  commandPayloadPrefix: 'payload#',
  audit: (jobId: string, timestamp: number, seq: string) => ({ pk: `audit#${jobId}`, sk: `${ts(timestamp)}#${seq}` }),
  auditPartition: (jobId: string) => `audit#${jobId}`,
  user: (username: string) => ({ pk: 'users', sk: `user#${username}` }),
  filter: (filterId: string) => ({ pk: 'filters', sk: `filter#${filterId}` }),
  filterPartition: 'filters',
  filterPrefix: 'filter#',
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
