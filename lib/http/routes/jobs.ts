import { closeJobs } from '../../app/close.ts';
import type { Queued } from '../../app/commands.ts';
import { deleteJob } from '../../app/delete.ts';
import { flushJob } from '../../app/flush.ts';
import { getJobs } from '../../app/get-jobs.ts';
import { getJobStats } from '../../app/job-stats.ts';
import { getModelSnapshots } from '../../app/model-snapshots.ts';
import { openJob } from '../../app/open.ts';
import { postData } from '../../app/post-data.ts';
import { putJob } from '../../app/put-job.ts';
import { datafeedRequestContext } from '../../app/put-datafeed.ts';
import { getOverallBuckets } from '../../app/overall-buckets.ts';
import { getBucketsJson, getInfluencers, getModelPlot, getNotifications, getRecords } from '../../app/results.ts';
import { updateJob } from '../../app/update.ts';
import { EsError } from '../../domain/errors.ts';
import { checkTopN } from '../../domain/overall-buckets.ts';
import { javaParseDouble, parseTimeValue } from '../../domain/units.ts';
import { dateParam, flushTimeParam, objectBody, requireBody, validateFlush, type BodyField } from '../body.ts';
import type { HttpRequest, HttpResult, RouteHandler } from '../chain.ts';
import { booleanParam, checkBodyTimeout, intParam, timeParam, waitLimit } from '../params.ts';
import { deleteExpiredDataRoute } from './delete-expired-data.ts';
import { deprecationWarning, POST_DATA_WARNING, withWarning } from '../warnings.ts';

const JOB = '/_ml/anomaly_detectors/{job_id}';

/** 200 with the response, or 202 `{task}` when the command outlived the gateway's wait (DESIGN §2.2). */
function queued<T>(q: Queued<T>, headers?: Record<string, string>): HttpResult {
  if (q.kind === 'done') return { status: 200, body: q.response, headers };
  // Asked for (wait_for_completion=false): Elasticsearch's 200 {"task"}; the gateway cap ran out: 202.
  return { status: q.requested ? 200 : 202, body: { task: q.taskId }, headers };
}

const jobId = (req: HttpRequest): string => req.pathParams.job_id ?? '';

const getJobsRoute: RouteHandler = {
  params: ['allow_no_match', 'exclude_generated'],
  handle: async (req) => ({
    status: 200,
    body: await getJobs(req.pathParams.job_id ?? '_all', booleanParam(req.query.allow_no_match, true), booleanParam(req.query.exclude_generated, false)),
  }),
};

const statsRoute: RouteHandler = {
  params: ['allow_no_match'],
  handle: async (req) => ({ status: 200, body: await getJobStats(req.pathParams.job_id ?? '_all', booleanParam(req.query.allow_no_match, true)) }),
};

const CLOSE_PARSER = 'cluster:admin/xpack/ml/job/close';
const ALLOW_NO_JOBS_WARNING = deprecationWarning('Deprecated field [allow_no_jobs] used, expected [allow_no_match] instead');

/**
 * Close: if the request has any body, only the body is read (`timeout`, `force`,
 * `allow_no_match`, `job_id` which the path overrides; CloseJobAction.Request.PARSER, strict,
 * strings and booleans only); otherwise the query string.
 */
const closeRoute: RouteHandler = {
  params: ['allow_no_match', 'force', 'timeout', 'allow_no_jobs'],
  handle: async (req) => {
    let force: boolean;
    let allowNoMatch: boolean;
    let timeout: ReturnType<typeof timeParam>;
    if (req.body !== undefined) {
      const body = objectBody(req.body, CLOSE_PARSER, { job_id: 'string', timeout: 'string', force: 'boolean', allow_no_match: 'boolean' }, { check: checkBodyTimeout });
      force = (body.force as boolean | undefined) ?? false;
      allowNoMatch = (body.allow_no_match as boolean | undefined) ?? true;
      timeout = timeParam(body.timeout as string | undefined, 'timeout');
    } else {
      force = booleanParam(req.query.force, false);
      allowNoMatch = booleanParam(req.query.allow_no_match ?? req.query.allow_no_jobs, true);
      timeout = timeParam(req.query.timeout, 'timeout');
    }
    timeout = waitLimit(timeout);
    const deprecated = req.body === undefined && req.query.allow_no_jobs !== undefined ? ALLOW_NO_JOBS_WARNING : undefined;
    return withWarning(deprecated, async () => queued(await closeJobs(jobId(req), { force, allowNoMatch, timeout }, Date.now(), req.receivedMs)));
  },
};

/**
 * Open: with a body, only the body is read, by `OpenJobAction.JobParams.PARSER` (named after the
 * task, `xpack/ml/job`, and lenient: unknown fields are skipped); otherwise the query `timeout`.
 */
const openRoute: RouteHandler = {
  params: ['timeout'],
  handle: async (req) => {
    let timeout: ReturnType<typeof timeParam>;
    if (req.body !== undefined) {
      const body = objectBody(req.body, 'xpack/ml/job', { job_id: 'string', timeout: 'string' }, { lenient: true, check: checkBodyTimeout });
      timeout = timeParam(body.timeout as string | undefined, 'timeout');
    } else {
      timeout = timeParam(req.query.timeout, 'timeout');
    }
    return queued(await openJob(jobId(req), waitLimit(timeout), req.receivedMs));
  },
};

const dataRoute: RouteHandler = {
  params: ['reset_start', 'reset_end'],
  handle: async (req) => {
    const body = req.body ?? '';
    // Every _data answer carries the deprecation warning, errors too (spec A.5.5), a bad reset_start or reset_end included.
    return withWarning(POST_DATA_WARNING, async () => {
      const params: { reset_start?: string; reset_end?: string } = {};
      if (req.query.reset_start !== undefined) params.reset_start = String(flushTimeParam(req.query.reset_start, 'reset_start'));
      if (req.query.reset_end !== undefined) params.reset_end = String(flushTimeParam(req.query.reset_end, 'reset_end'));
      return queued(await postData(jobId(req), body, params, req.receivedMs));
    });
  },
};

const FLUSH_KEYS = ['calc_interim', 'start', 'end', 'advance_time', 'skip_time'] as const;

const flushRoute: RouteHandler = {
  params: [...FLUSH_KEYS],
  handle: async (req) => {
    // With a body, only the body is read (RestFlushJobAction); FlushJobAction.Request.PARSER is strict.
    let raw: Record<string, string | undefined> = { ...req.query };
    let calcInterim = booleanParam(req.query.calc_interim, false);
    if (req.body !== undefined) {
      const body = objectBody(req.body, 'cluster:admin/xpack/ml/job/flush', {
        job_id: 'string',
        calc_interim: 'boolean',
        start: 'string',
        end: 'string',
        advance_time: 'string',
        skip_time: 'string',
      });
      raw = { start: body.start as string | undefined, end: body.end as string | undefined };
      raw.advance_time = body.advance_time as string | undefined;
      raw.skip_time = body.skip_time as string | undefined;
      calcInterim = (body.calc_interim as boolean | undefined) ?? false;
    }
    // Elasticsearch validates these in the flush task, after the job is found open (409 first).
    return queued(await flushJob(jobId(req), () => validateFlush(raw, calcInterim), req.receivedMs));
  },
};

const putRoute: RouteHandler = {
  params: ['ignore_unavailable', 'allow_no_indices', 'ignore_throttled', 'expand_wildcards'],
  handle: async (req) => ({ status: 200, body: await putJob(jobId(req), requireBody(req), Date.now(), datafeedRequestContext(req.principal.roles, req.query)) }),
};

const deleteRoute: RouteHandler = {
  params: ['force', 'wait_for_completion', 'delete_user_annotations'],
  handle: async (req) => queued(await deleteJob(jobId(req), booleanParam(req.query.force, false), booleanParam(req.query.wait_for_completion, true), req.receivedMs)),
};

/**
 * List parameters from the query string and, over them, a JSON body read with the request's
 * ObjectParser (named after the action, strict and typed; `page` holds `from` and `size`).
 * The official client sends `from`/`size` in the query and the other fields in the body, so
 * both are honoured. Values come back in their query-string form.
 */
function listParams(req: HttpRequest, parser: string, spec: Readonly<Record<string, BodyField>>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...req.query };
  if (req.body === undefined) return out;
  const body = objectBody(req.body, parser, { job_id: 'string', ...spec, page: 'page' });
  for (const [k, v] of Object.entries(body)) {
    if (k === 'page' || v === null || typeof v === 'object') continue;
    out[k] = String(v);
  }
  const page = body.page as { from?: number; size?: number } | undefined;
  if (page?.from !== undefined) out.from = String(page.from);
  if (page?.size !== undefined) out.size = String(page.size);
  return out;
}

const SNAPSHOT_KEYS = ['from', 'size', 'start', 'end', 'sort', 'desc', 'snapshot_id'] as const;
const snapshotsRoute: RouteHandler = {
  params: SNAPSHOT_KEYS,
  handle: async (req) => {
    const p = listParams(req, 'cluster:monitor/xpack/ml/job/model_snapshots/get', {
      snapshot_id: 'string',
      start: 'string',
      end: 'string',
      sort: 'string',
      desc: 'boolean',
    });
    return {
      status: 200,
      body: await getModelSnapshots(jobId(req), {
        snapshotId: req.pathParams.snapshot_id ?? p.snapshot_id,
        start: dateParam(p.start, 'start'),
        end: dateParam(p.end, 'end'),
        sort: p.sort ?? 'timestamp',
        desc: booleanParam(p.desc, true),
        from: intParam(p.from, 'from', 0),
        size: intParam(p.size, 'size', 100),
      }),
    };
  },
};

/**
 * A double query parameter as Java's `Double.parseDouble` reads it (RestGetBucketsAction,
 * RestGetRecordsAction, RestGetInfluencersAction, RestGetOverallBucketsAction).
 * @throws 400 number_format_exception `For input string: "<v>"`
 */
function doubleParam(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = javaParseDouble(value);
  if (n === undefined) throw new EsError('number_format_exception', 400, `For input string: "${value}"`);
  return n;
}

const BUCKET_KEYS = ['from', 'size', 'start', 'end', 'sort', 'desc', 'anomaly_score', 'exclude_interim', 'expand', 'timestamp'] as const;
const bucketsRoute: RouteHandler = {
  params: BUCKET_KEYS,
  handle: async (req) => {
    const p = listParams(req, 'cluster:monitor/xpack/ml/job/results/buckets/get', {
      timestamp: 'string',
      expand: 'boolean',
      exclude_interim: 'boolean',
      start: 'stringOrNull',
      end: 'stringOrNull',
      anomaly_score: 'double',
      sort: 'string',
      desc: 'boolean',
    });
    const ts = req.pathParams.timestamp ?? p.timestamp;
    return {
      status: 200,
      json: await getBucketsJson(jobId(req), {
        timestamp: dateParam(ts, 'timestamp'),
        start: dateParam(p.start, 'start'),
        end: dateParam(p.end, 'end'),
        anomalyScore: doubleParam(p.anomaly_score, 0),
        excludeInterim: booleanParam(p.exclude_interim, false),
        expand: booleanParam(p.expand, false),
        sort: p.sort ?? 'timestamp',
        desc: booleanParam(p.desc, false),
        from: intParam(p.from, 'from', 0),
        size: intParam(p.size, 'size', 100),
      }),
    };
  },
};

const RECORD_KEYS = ['from', 'size', 'start', 'end', 'sort', 'desc', 'record_score', 'exclude_interim'] as const;
const recordsRoute: RouteHandler = {
  params: RECORD_KEYS,
  handle: async (req) => {
    const p = listParams(req, 'cluster:monitor/xpack/ml/job/results/records/get', {
      start: 'stringOrNull',
      end: 'stringOrNull',
      sort: 'string',
      desc: 'boolean',
      exclude_interim: 'boolean',
      record_score: 'double',
    });
    return {
      status: 200,
      body: await getRecords(jobId(req), {
        start: dateParam(p.start, 'start'),
        end: dateParam(p.end, 'end'),
        recordScore: doubleParam(p.record_score, 0),
        excludeInterim: booleanParam(p.exclude_interim, false),
        sort: p.sort ?? 'record_score',
        desc: booleanParam(p.desc, true),
        from: intParam(p.from, 'from', 0),
        size: intParam(p.size, 'size', 100),
      }),
    };
  },
};

const INFLUENCER_KEYS = ['from', 'size', 'start', 'end', 'sort', 'desc', 'influencer_score', 'exclude_interim'] as const;
/** GET|POST results/influencers: query parameters, with a body over them (GetInfluencersAction.Request.PARSER). */
const influencersRoute: RouteHandler = {
  params: INFLUENCER_KEYS,
  handle: async (req) => {
    const p = listParams(req, 'cluster:monitor/xpack/ml/job/results/influencers/get', {
      start: 'stringOrNull',
      end: 'stringOrNull',
      exclude_interim: 'boolean',
      influencer_score: 'double',
      sort: 'string',
      desc: 'boolean',
    });
    return {
      status: 200,
      body: await getInfluencers(jobId(req), {
        start: dateParam(p.start, 'start'),
        end: dateParam(p.end, 'end'),
        influencerScore: doubleParam(p.influencer_score, 0),
        excludeInterim: booleanParam(p.exclude_interim, false),
        sort: p.sort ?? 'influencer_score',
        desc: booleanParam(p.desc, true),
        from: intParam(p.from, 'from', 0),
        size: intParam(p.size, 'size', 100),
      }),
    };
  },
};

const OVERALL_PARSER = 'cluster:monitor/xpack/ml/job/results/overall_buckets/get';
/**
 * GET|POST results/overall_buckets (RestGetOverallBucketsAction): with a body, only the body is
 * read (GetOverallBucketsAction.Request.PARSER, strict; a bad `top_n`, `start`, `end` or
 * `bucket_span` is wrapped in `failed to parse field [<f>]`); otherwise the query string.
 */
const overallBucketsRoute: RouteHandler = {
  params: ['top_n', 'bucket_span', 'overall_score', 'exclude_interim', 'start', 'end', 'allow_no_match', 'allow_no_jobs'],
  handle: async (req) => {
    let raw: { top_n?: number; bucket_span?: string; overall_score?: number; exclude_interim?: boolean; start?: string; end?: string; allow_no_match?: boolean };
    if (req.body !== undefined) {
      raw = objectBody(
        req.body,
        OVERALL_PARSER,
        { job_id: 'string', top_n: 'int', bucket_span: 'string', overall_score: 'double', exclude_interim: 'boolean', start: 'string', end: 'string', allow_no_match: 'boolean' },
        {
          check: (field, v) => {
            if (field === 'top_n') checkTopN(v as number);
            else if (field === 'bucket_span') parseTimeValue(v as string, 'bucket_span');
            else if (field === 'start' || field === 'end') dateParam(v as string, field);
          },
        },
      ) as typeof raw;
    } else {
      const q = req.query;
      raw = {
        top_n: checkTopN(intParam(q.top_n, 'top_n', 1)),
        bucket_span: q.bucket_span,
        overall_score: doubleParam(q.overall_score, 0),
        exclude_interim: booleanParam(q.exclude_interim, false),
        start: q.start,
        end: q.end,
        allow_no_match: booleanParam(q.allow_no_match ?? q.allow_no_jobs, true),
      };
    }
    const deprecated = req.body === undefined && req.query.allow_no_jobs !== undefined ? ALLOW_NO_JOBS_WARNING : undefined;
    return withWarning(deprecated, async () => ({
      status: 200,
      body: await getOverallBuckets(
        jobId(req),
        {
          topN: raw.top_n ?? 1,
          bucketSpanMs: raw.bucket_span === undefined ? undefined : parseTimeValue(raw.bucket_span, 'bucket_span').ms,
          overallScore: raw.overall_score ?? 0,
          excludeInterim: raw.exclude_interim ?? false,
          start: dateParam(raw.start, 'start'),
          end: dateParam(raw.end, 'end'),
        },
        raw.allow_no_match ?? true,
      ),
    }));
  },
};

const updateRoute: RouteHandler = {
  params: ['timeout', 'master_timeout'],
  handle: async (req) => queued(await updateJob(jobId(req), requireBody(req), req.receivedMs)),
};

const notificationsRoute: RouteHandler = {
  params: ['from', 'size'],
  handle: async (req) => ({ status: 200, body: await getNotifications(jobId(req), intParam(req.query.from, 'from', 0), intParam(req.query.size, 'size', 100)) }),
};

const modelPlotRoute: RouteHandler = {
  params: ['start', 'end', 'terms', 'from', 'size'],
  handle: async (req) => ({
    status: 200,
    body: await getModelPlot(jobId(req), {
      start: dateParam(req.query.start, 'start'),
      end: dateParam(req.query.end, 'end'),
      terms: req.query.terms,
      from: intParam(req.query.from, 'from', 0),
      size: intParam(req.query.size, 'size', 10_000),
    }),
  }),
};

/** The anomaly detection job APIs (spec A.1, A.5.1–A.5.9). */
/** The `jobs` routes (topology `fn: 'jobs'`), by route key; served by `functions/http/jobs.ts` and the command ingress. */
export const jobsRoutes: Record<string, RouteHandler> = {
  'GET /_ml/anomaly_detectors': getJobsRoute,
  'GET /_ml/anomaly_detectors/_stats': statsRoute,
  [`PUT ${JOB}`]: putRoute,
  [`GET ${JOB}`]: getJobsRoute,
  [`DELETE ${JOB}`]: deleteRoute,
  [`GET ${JOB}/_stats`]: statsRoute,
  [`POST ${JOB}/_open`]: openRoute,
  [`POST ${JOB}/_data`]: dataRoute,
  [`POST ${JOB}/_flush`]: flushRoute,
  [`POST ${JOB}/_close`]: closeRoute,
  [`GET ${JOB}/model_snapshots`]: snapshotsRoute,
  [`POST ${JOB}/model_snapshots`]: snapshotsRoute,
  [`GET ${JOB}/model_snapshots/{snapshot_id}`]: snapshotsRoute,
  [`POST ${JOB}/model_snapshots/{snapshot_id}`]: snapshotsRoute,
  [`GET ${JOB}/results/buckets`]: bucketsRoute,
  [`POST ${JOB}/results/buckets`]: bucketsRoute,
  [`GET ${JOB}/results/buckets/{timestamp}`]: bucketsRoute,
  [`POST ${JOB}/results/buckets/{timestamp}`]: bucketsRoute,
  [`GET ${JOB}/results/records`]: recordsRoute,
  [`POST ${JOB}/results/records`]: recordsRoute,
  [`GET ${JOB}/results/influencers`]: influencersRoute,
  [`POST ${JOB}/results/influencers`]: influencersRoute,
  [`GET ${JOB}/results/overall_buckets`]: overallBucketsRoute,
  [`POST ${JOB}/results/overall_buckets`]: overallBucketsRoute,
  [`POST ${JOB}/_update`]: updateRoute,
  [`GET ${JOB}/_notifications`]: notificationsRoute,
  [`GET ${JOB}/results/model_plot`]: modelPlotRoute,
  'DELETE /_ml/_delete_expired_data': deleteExpiredDataRoute,
  'DELETE /_ml/_delete_expired_data/{job_id}': deleteExpiredDataRoute,
};
