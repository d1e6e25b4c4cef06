/**
 * The ML results indices, `.ml-anomalies-*`, as `_search`/`_count` (and so a watch's
 * `search` input) see them. ML results are not documents in mlplane: they live in the
 * results store (lib/store/results.ts). A search of `.ml-anomalies-*`,
 * `.ml-anomalies-shared` or `.ml-anomalies-<job>` reads the bucket and record results and
 * serves each as a hit of `.ml-anomalies-shared` (Elasticsearch's shared results index)
 * with Elasticsearch's document id and the result's Elasticsearch JSON as `_source`, so the
 * query code of the document store evaluates them like any document.
 *
 * Only `bucket`, `record` and `influencer` results are served (not model_plot,
 * model_size_stats, …): a query on another `result_type` finds nothing.
 */
import { DocumentStoreUnsupportedError, IndexNotFoundError, IllegalArgumentError } from '../domain/errors.ts';
import { simpleMatch } from '../domain/ids.ts';
import type { Mappings } from '../domain/documents/mappings.ts';
import { timeWindow, type Query } from '../domain/search/query.ts';
import type { Candidate } from '../domain/search/request.ts';
import { emptyBucketResult } from '../detect/index.ts';
import { getJobConfig, listJobConfigs } from '../store/jobs.ts';
import { queryBuckets, queryInfluencers, queryRecords } from '../store/results.ts';

/** The index every result hit names, as in Elasticsearch (the per-job names are aliases of it). */
export const ML_RESULTS_INDEX = '.ml-anomalies-shared';
const PREFIX = '.ml-anomalies-';

/**
 * Most results one search reads. A search with no `range` on `timestamp` and no `term` on
 * `job_id` reads every job's whole history; past this many results it is refused with a
 * 400 asking for a narrower query, never answered from a truncated read.
 */
export const MAX_ML_RESULTS_READ = 50_000;

/**
 * The results the ML part of an index expression names: every job's (`all`), the named jobs'
 * (`jobs`, from `.ml-anomalies-<job>`) and the jobs matching `patterns` (job id patterns, from
 * `.ml-anomalies-<pattern>*`).
 */
export interface MlResultsScope {
  all: boolean;
  jobs: string[];
  patterns: string[];
}

/** Whether `index` is one of the ML results index names (write targets are refused for these). */
export function isMlResultsIndex(index: string): boolean {
  return index.startsWith(PREFIX);
}

/**
 * Splits an index expression into its ML results part and the rest (a comma list of the
 * other tokens, or undefined when there are none). `.ml-anomalies-shared` and any dotted
 * wildcard matching it (`.ml-anomalies-*`, `.ml-*`) mean every job; `.ml-anomalies-<job>` is
 * Elasticsearch's per-job alias (filtered on `job_id`), and a wildcard of it matches job ids.
 * `_all` and `*` do not reach the results, as in Elasticsearch, where `.ml-anomalies-*` are
 * hidden indices (only a pattern starting with `.` matches them).
 * @throws DocumentStoreUnsupportedError for the other ML indices (`.ml-notifications-*`,
 *   `.ml-state*`, `.ml-config`, `.ml-annotations-*`, …), which mlplane does not serve as
 *   indices: a 400 rather than an empty answer that looks like "no notifications"
 */
export function splitMlResults(expression: string | undefined): { ml?: MlResultsScope; rest?: string } {
  if (expression === undefined) return {};
  const scope: MlResultsScope = { all: false, jobs: [], patterns: [] };
  const rest: string[] = [];
  let ml = false;
  for (const token of expression.split(',')) {
    if (token === ML_RESULTS_INDEX || (token.startsWith('.') && token.includes('*') && simpleMatch(token, ML_RESULTS_INDEX))) scope.all = true;
    else if (token.startsWith(PREFIX) && token.includes('*')) scope.patterns.push(token.slice(PREFIX.length));
    else if (token.startsWith(PREFIX)) scope.jobs.push(token.slice(PREFIX.length));
    else if (token.startsWith('.ml-')) throw new DocumentStoreUnsupportedError(token, 'index');
    else {
      rest.push(token);
      continue;
    }
    ml = true;
  }
  if (!ml) return { rest: expression };
  return { ml: scope, ...(rest.length > 0 ? { rest: rest.join(',') } : {}) };
}

/** The job ids of a scope: every job, the matching ones, and the named ones (each must exist unless `ignoreUnavailable`). */
async function scopeJobs(scope: MlResultsScope, ignoreUnavailable: boolean): Promise<string[]> {
  const out = new Set<string>();
  if (scope.all || scope.patterns.length > 0) {
    for (const j of await listJobConfigs()) if (scope.all || scope.patterns.some((p) => simpleMatch(p, j.job_id))) out.add(j.job_id);
  }
  for (const id of scope.jobs) {
    if (out.has(id)) continue;
    if (await getJobConfig(id)) out.add(id);
    else if (!ignoreUnavailable) throw new IndexNotFoundError(`${PREFIX}${id}`);
  }
  return [...out];
}

/** The fields of the results index a query can name (Elasticsearch's results mappings, the part mlplane serves). */
export const ML_RESULTS_MAPPINGS: Mappings = {
  properties: {
    job_id: { type: 'keyword' },
    result_type: { type: 'keyword' },
    timestamp: { type: 'date' },
    bucket_span: { type: 'long' },
    detector_index: { type: 'integer' },
    is_interim: { type: 'boolean' },
    anomaly_score: { type: 'double' },
    initial_anomaly_score: { type: 'double' },
    record_score: { type: 'double' },
    initial_record_score: { type: 'double' },
    probability: { type: 'double' },
    event_count: { type: 'long' },
    processing_time_ms: { type: 'long' },
    function: { type: 'keyword' },
    function_description: { type: 'keyword' },
    field_name: { type: 'keyword' },
    by_field_name: { type: 'keyword' },
    by_field_value: { type: 'keyword' },
    over_field_name: { type: 'keyword' },
    over_field_value: { type: 'keyword' },
    partition_field_name: { type: 'keyword' },
    partition_field_value: { type: 'keyword' },
    influencer_field_name: { type: 'keyword' },
    influencer_field_value: { type: 'keyword' },
    influencer_score: { type: 'double' },
    initial_influencer_score: { type: 'double' },
    actual: { type: 'double' },
    typical: { type: 'double' },
    multi_bucket_impact: { type: 'double' },
  },
};

/** Java's `String.hashCode` (32-bit). */
function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * Elasticsearch's record document id (AnomalyRecord.getId):
 * `<job>_record_<timestamp ms>_<bucket_span s>_<detector_index>_<hash>_<length>`, where hash is
 * Java's `Objects.hash(by, over, partition field values)` and length the sum of their lengths.
 */
export function recordDocId(r: Record<string, unknown>): string {
  const values = [r.by_field_value, r.over_field_value, r.partition_field_value].map((v) => (typeof v === 'string' ? v : undefined));
  let hash = 1;
  for (const v of values) hash = (Math.imul(31, hash) + (v === undefined ? 0 : javaStringHash(v))) | 0;
  const length = values.reduce((n, v) => n + (v?.length ?? 0), 0);
  return `${r.job_id}_record_${r.timestamp}_${r.bucket_span}_${r.detector_index}_${hash}_${length}`;
}

/**
 * Elasticsearch's influencer document id (Influencer.getId):
 * `<job>_influencer_<timestamp ms>_<bucket_span s>_<influencer_field_name>_<hash>_<length>`, where
 * hash is Java's `String.hashCode` of the value and length its length in UTF-16 units.
 */
export function influencerDocId(i: Record<string, unknown>): string {
  const value = String(i.influencer_field_value ?? '');
  return `${i.job_id}_influencer_${i.timestamp}_${i.bucket_span}_${i.influencer_field_name}_${javaStringHash(value)}_${value.length}`;
}

/** Elasticsearch's bucket document id (Bucket.getId): `<job>_bucket_<timestamp ms>_<bucket_span s>`. */
export function bucketDocId(b: Record<string, unknown>): string {
  return `${b.job_id}_bucket_${b.timestamp}_${b.bucket_span}`;
}

/** The values a query requires `field` to have (a term/terms at the top or in a bool's filter/must), or undefined for any. */
function requiredValues(query: Query, field: string): Set<string> | undefined {
  switch (query.kind) {
    case 'term':
      return query.field === field ? new Set([String(query.value)]) : undefined;
    case 'terms':
      return query.field === field ? new Set(query.values.map(String)) : undefined;
    case 'constant_score':
      return requiredValues(query.filter, field);
    case 'bool': {
      let out: Set<string> | undefined;
      for (const q of [...query.filter, ...query.must]) {
        const v = requiredValues(q, field);
        if (v) out = out ? new Set([...out].filter((x) => v.has(x))) : v;
      }
      return out;
    }
    default:
      return undefined;
  }
}

/**
 * Reads the results a search of the ML results indices needs, as search candidates: only
 * the jobs a `term`/`terms` on `job_id` names (else every job in the scope), only the result
 * types a `term`/`terms` on `result_type` names, only the time window a `range` on
 * `timestamp` covers (date math resolved at `nowMs`). The query itself is then evaluated on
 * them by the caller, so these are only narrowing reads. Buckets of an empty run (stored as
 * one item) are expanded inside the window.
 * @param order the `_doc` order of the first candidate (after the other indices' documents)
 * @throws IndexNotFoundError for `.ml-anomalies-<job>` of an unknown job (unless `ignoreUnavailable`);
 *   IllegalArgumentError when more than MAX_ML_RESULTS_READ results would be read
 */
export async function mlResultCandidates(scope: MlResultsScope, query: Query, nowMs: number, ignoreUnavailable: boolean, order = 0): Promise<Candidate[]> {
  let jobs = await scopeJobs(scope, ignoreUnavailable);
  const wantedJobs = requiredValues(query, 'job_id');
  if (wantedJobs) jobs = jobs.filter((j) => wantedJobs.has(j));
  const types = requiredValues(query, 'result_type');
  const window = timeWindow(query, 'timestamp', { mappings: ML_RESULTS_MAPPINGS, nowMs }, 'strict_date_optional_time||epoch_millis');
  if (window.from !== undefined && window.to !== undefined && window.from > window.to) return [];
  const range = { startMs: window.from, endMs: window.to === undefined ? undefined : window.to + 1 };
  const out: Candidate[] = [];
  const add = (source: Record<string, unknown>, id: string): void => {
    if (out.length >= MAX_ML_RESULTS_READ) {
      throw new IllegalArgumentError(`a search of [${PREFIX}*] may read at most [${MAX_ML_RESULTS_READ}] results; narrow it with a range on [timestamp] or a term on [job_id]`);
    }
    out.push({ doc: { index: ML_RESULTS_INDEX, id, source }, mappings: ML_RESULTS_MAPPINGS, order: order++ });
  };
  for (const jobId of jobs) {
    if (!types || types.has('bucket')) {
      const { buckets, runs } = await queryBuckets(jobId, range);
      const all: Record<string, unknown>[] = buckets.map((b) => ({ ...b }) as Record<string, unknown>);
      for (const run of runs) {
        const span = run.bucket_span * 1000;
        const from = Math.max(run.timestamp, range.startMs === undefined ? run.timestamp : run.timestamp + Math.ceil((range.startMs - run.timestamp) / span) * span);
        const end = range.endMs === undefined ? run.end : Math.min(run.end, range.endMs);
        for (let t = from; t < end; t += span) {
          const { records: _records, ...bucket } = emptyBucketResult(run.job_id, t, run.bucket_span);
          all.push(bucket as Record<string, unknown>);
          if (all.length > MAX_ML_RESULTS_READ) break;
        }
      }
      all.sort((a, b) => (a.timestamp as number) - (b.timestamp as number));
      for (const b of all) add(b, bucketDocId(b));
    }
    if (!types || types.has('record')) {
      for (const r of await queryRecords(jobId, range)) add(r as unknown as Record<string, unknown>, recordDocId(r as unknown as Record<string, unknown>));
    }
    if (!types || types.has('influencer')) {
      for (const i of await queryInfluencers(jobId, range)) add(i, influencerDocId(i));
    }
  }
  return out;
}
