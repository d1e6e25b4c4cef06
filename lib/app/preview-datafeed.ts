/**
 * GET|POST _ml/datafeeds/<id>/_preview and _ml/datafeeds/_preview (`TransportPreviewDatafeedAction`):
 * the records a datafeed would post to its job, read through the same extractor as the lookback.
 */
import { histogramIntervalMs } from '../domain/datafeed/aggregations.ts';
import { buildDatafeedConfig, type BuildContext, type DatafeedBuilder, parseDatafeedConfigBody } from '../domain/datafeed/parser.ts';
import type { DatafeedConfig } from '../domain/datafeed/types.ts';
import { ActionRequestValidationError, EsError, IllegalArgumentError, Messages, ResourceNotFoundError, XContentParseLocatedError } from '../domain/errors.ts';
import { parsePutJobRequest } from '../domain/job/put-job.ts';
import type { JobConfig } from '../domain/job/types.ts';
import { isJsonObject, locate } from '../domain/json/plain-values.ts';
import { syntaxError } from '../domain/json/syntax-errors.ts';
import { readJson } from '../domain/json/tokenizer.ts';
import { getClusterSettings } from '../store/cluster.ts';
import { getJobConfig } from '../store/jobs.ts';
import { checkDataExtractor, dataTimeSpan, extractChunk, extractedFields, recordsBody, searchWindow } from './datafeed-extractor.ts';
import { chunkSpanMs } from './datafeed-lookback.ts';
import { requireDatafeed } from './datafeed-lookup.ts';

/** The parser name of the preview body (`PreviewDatafeedAction.Request.PARSER`). */
const PREVIEW_PARSER = 'preview_datafeed_action';
/** The ids Elasticsearch gives a datafeed and a job previewed from a body. */
const PREVIEW_DATAFEED_ID = 'preview_id';
const PREVIEW_JOB_ID = 'preview_job_id';

/** A preview request: a stored datafeed by id, or a body (`source`); `start`/`end` as the query string gives them. */
export interface PreviewRequest {
  datafeedId?: string;
  source?: string;
  /** The `start` and `end` query parameters; they win over the body's. */
  start?: string;
  end?: string;
  /** The REST layer's date parser (epoch ms, ISO 8601, `now`) for `start`/`end`. */
  parseDate: (value: string, name: string) => number;
  /** Roles of the caller, for a `datafeed_config` built from the body. */
  ctx: BuildContext;
}

/** What a preview body holds. */
interface PreviewBody {
  datafeed?: DatafeedConfig;
  job?: JobConfig;
  start?: string;
  end?: string;
}

/** A body field read by a nested strict parser, its error wrapped as ObjectParser wraps it (`[l:c] [preview_datafeed_action] failed to parse field [<f>]`). */
function nested<T>(source: string, field: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof EsError) throw new XContentParseLocatedError(locate(source, [field]) ?? null, `[${PREVIEW_PARSER}] failed to parse field [${field}]`, err);
    throw err;
  }
}

/**
 * The datafeed and job a preview body describes (`PreviewDatafeedAction.Request.PARSER` and
 * `Builder.build`): `datafeed_config` gets the id `preview_id` and, without a `job_id`, the job
 * `preview_job_id` of `job_config`; a `job_config` gets the id `preview_job_id`, and its own
 * `datafeed_config` (when the body has none) is the datafeed, with that id and job; `start` and
 * `end` are strings (or numbers) as in `_start`.
 * @throws XContentParseLocatedError "[l:c] [preview_datafeed_action] unknown field [<f>]" and the nested parsers' errors (wrapped);
 *   IllegalArgumentError "[datafeed_config.job_id] must be set or a [job_config] must be provided",
 *   "[datafeed_config] must be present when a [job_config.datafeed_config] is not present",
 *   "[datafeed_config] must not be present when a [job_config.datafeed_config] is present",
 *   "[datafeed_id] cannot be supplied when either [job_config] or [datafeed_config] is present"
 */
async function fromBody(source: string, datafeedId: string | undefined, ctx: BuildContext): Promise<PreviewBody> {
  const { root, fault } = readJson(source);
  if (!root) {
    if (fault) throw syntaxError(fault, 'token');
    return {};
  }
  const body = JSON.parse(source) as unknown;
  if (!isJsonObject(body)) throw new XContentParseLocatedError(root.start, `[${PREVIEW_PARSER}] Expected START_OBJECT but was: ${Array.isArray(body) ? 'START_ARRAY' : 'VALUE'}`);
  const out: PreviewBody = {};
  for (const [key, value] of Object.entries(body)) {
    if (key === 'start' || key === 'end') {
      if (typeof value !== 'string' && typeof value !== 'number') {
        throw new XContentParseLocatedError(
          locate(source, [key]) ?? null,
          `[${PREVIEW_PARSER}] ${key} doesn't support values of type: ${value === null ? 'VALUE_NULL' : Array.isArray(value) ? 'START_ARRAY' : 'START_OBJECT'}`,
        );
      }
      out[key] = String(value);
    } else if (key !== 'datafeed_config' && key !== 'job_config') {
      throw new XContentParseLocatedError(locate(source, [key]) ?? null, `[${PREVIEW_PARSER}] unknown field [${key}]`);
    }
  }
  const rawDatafeed = body.datafeed_config;
  const rawJob = body.job_config;
  let datafeedBuilder =
    rawDatafeed === undefined
      ? undefined
      : nested(source, 'datafeed_config', () => {
          if (!isJsonObject(rawDatafeed)) throw new XContentParseLocatedError(null, '[datafeed_config] Expected START_OBJECT');
          return parseDatafeedConfigBody(JSON.stringify(rawDatafeed));
        });
  let job: JobConfig | undefined;
  let jobDatafeed: DatafeedBuilder | undefined;
  if (rawJob !== undefined) {
    const settings = await getClusterSettings();
    ({ job, jobDatafeed } = nested(source, 'job_config', () => {
      if (!isJsonObject(rawJob)) throw new XContentParseLocatedError(null, '[job_details] Expected START_OBJECT');
      const { job_id: _ignored, ...rest } = rawJob;
      const parsed = parsePutJobRequest(PREVIEW_JOB_ID, rest, { nowMs: Date.now(), maxModelMemoryLimitMiB: settings.max_model_memory_limit_mib });
      if (parsed.datafeedConfig === undefined) return { job: parsed.job, jobDatafeed: undefined };
      const { datafeed_id: _id, job_id: _job, ...feed } = parsed.datafeedConfig;
      return { job: parsed.job, jobDatafeed: parseDatafeedConfigBody(JSON.stringify(feed)) };
    }));
  }
  if (datafeedBuilder && datafeedBuilder.job_id === undefined && !job) throw new IllegalArgumentError('[datafeed_config.job_id] must be set or a [job_config] must be provided');
  if (job) {
    if (!datafeedBuilder && !jobDatafeed) throw new IllegalArgumentError('[datafeed_config] must be present when a [job_config.datafeed_config] is not present');
    if (datafeedBuilder && jobDatafeed) throw new IllegalArgumentError('[datafeed_config] must not be present when a [job_config.datafeed_config] is present');
    if (jobDatafeed) datafeedBuilder = { ...jobDatafeed, job_id: PREVIEW_JOB_ID };
  }
  if (datafeedId !== undefined && (datafeedBuilder || job)) {
    throw new IllegalArgumentError('[datafeed_id] cannot be supplied when either [job_config] or [datafeed_config] is present');
  }
  if (datafeedBuilder) {
    const id = jobDatafeed ? PREVIEW_JOB_ID : PREVIEW_DATAFEED_ID;
    out.datafeed = buildDatafeedConfig(id, { ...datafeedBuilder, job_id: datafeedBuilder.job_id ?? PREVIEW_JOB_ID }, ctx);
  }
  if (job) out.job = job;
  return out;
}

/**
 * The preview (`TransportPreviewDatafeedAction`): the datafeed (stored by id, or from the body's
 * `datafeed_config`) and its job (the body's `job_config`, else the stored job of its `job_id`),
 * then the first data the datafeed would post from `start` (default 0) to `end` (default: after
 * the latest document), as a JSON array of records with the time field in epoch ms and only the
 * fields the job uses:
 *
 * - a datafeed without aggregations answers the first page (`scroll_size` documents, sorted by
 *   time) of the first chunk holding data. Elasticsearch previews with auto chunking, whose first
 *   chunk starts at the earliest document and holds many pages, so the first page is the first
 *   `scroll_size` documents by time in `[start, end)`;
 * - an aggregation datafeed answers the records of the first chunk (its `chunking_config`, or
 *   1,000 histogram buckets) from the earliest document that holds any, as Elasticsearch keeps the
 *   datafeed's chunking for aggregations.
 *
 * `start`/`end` come from the query string, else the body (`PreviewDatafeedAction.Request`).
 * @throws ActionRequestValidationError 400 "Validation Failed: 1: start [<ms>] must be earlier than end [<ms>];";
 *   IllegalArgumentError 400 "[datafeed_id] must not be null." (no id and no body) and the body errors of {@link fromBody};
 *   404 "No datafeed with id [<id>] exists"; 404 "No known job with id '<job>'"; the extractor checks of {@link checkDataExtractor}
 *   (404 "datafeed [<id>] cannot retrieve data because index [<i>] does not exist", …), the search errors
 *   and the aggregation flattening errors (400 "Missing max aggregation for time_field [<f>]", …)
 */
export async function previewDatafeed(req: PreviewRequest): Promise<Record<string, unknown>[]> {
  const hasBody = req.source !== undefined && req.source.trim() !== '';
  const body = hasBody ? await fromBody(req.source as string, req.datafeedId, req.ctx) : {};
  const start = req.start ?? body.start;
  const end = req.end ?? body.end;
  const startMs = start === undefined ? undefined : req.parseDate(start, 'start');
  const endMs = end === undefined ? undefined : req.parseDate(end, 'end');
  if (startMs !== undefined && endMs !== undefined && endMs <= startMs) {
    throw new ActionRequestValidationError([`start [${startMs}] must be earlier than end [${endMs}]`]);
  }
  let { datafeed, job } = body;
  if (!datafeed) {
    if (req.datafeedId === undefined) {
      // RestPreviewDatafeedAction with neither an id nor a datafeed_config: `new Request(null)`.
      throw new IllegalArgumentError(hasBody ? '[datafeed_config] must not be null.' : '[datafeed_id] must not be null.');
    }
    datafeed = (await requireDatafeed(req.datafeedId)).config;
  }
  if (!job) {
    const stored = await getJobConfig(datafeed.job_id);
    if (!stored) throw new ResourceNotFoundError(Messages.unknownJob(datafeed.job_id));
    job = stored.config;
  }
  await checkDataExtractor(datafeed.datafeed_id, datafeed, job);
  return previewRecords(datafeed, job, startMs ?? 0, endMs);
}

/** The records of the preview's first chunk with data; see {@link previewDatafeed}. */
async function previewRecords(datafeed: DatafeedConfig, job: JobConfig, startMs: number, endMs: number | undefined): Promise<Record<string, unknown>[]> {
  const { timeField, fields } = extractedFields(job);
  const span = await dataTimeSpan(datafeed, timeField, startMs, endMs ?? Number.MAX_SAFE_INTEGER);
  if (!span) return [];
  const end = endMs ?? span.latestMs + 1;
  const parse = (ndjson: string): Record<string, unknown>[] => (ndjson === '' ? [] : ndjson.split('\n').map((line) => JSON.parse(line) as Record<string, unknown>));
  if (datafeed.aggregations === undefined) {
    const window = await searchWindow(datafeed, timeField, fields, span.earliestMs, end);
    return parse(recordsBody(window.hits.slice(0, datafeed.scroll_size), timeField, fields));
  }
  const chunkMs = chunkSpanMs(datafeed, 0);
  // From the histogram bucket of the earliest document to the end of the latest one's: a chunk holds whole buckets only.
  const interval = histogramIntervalMs(datafeed.aggregations);
  const aggEnd = endMs ?? (Math.floor(span.latestMs / interval) + 1) * interval;
  for (let cursor = Math.max(startMs, Math.floor(span.earliestMs / interval) * interval); cursor < aggEnd; ) {
    const chunk = await extractChunk(datafeed, job, cursor, Math.min(aggEnd, cursor + chunkMs));
    if (chunk.records > 0) return parse(chunk.ndjson);
    cursor = chunk.toMs > cursor ? chunk.toMs : aggEnd;
  }
  return [];
}
