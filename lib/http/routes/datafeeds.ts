import { deleteDatafeed } from '../../app/delete-datafeed.ts';
import { getDatafeedStats, getDatafeeds } from '../../app/get-datafeeds.ts';
import { datafeedRequestContext, putDatafeed } from '../../app/put-datafeed.ts';
import { startDatafeed } from '../../app/start-datafeed.ts';
import { previewDatafeed } from '../../app/preview-datafeed.ts';
import { stopDatafeeds } from '../../app/stop-datafeed.ts';
import { updateDatafeed } from '../../app/update-datafeed.ts';
import { dateParam, objectBody, requireBody } from '../body.ts';
import type { HttpRequest, RouteHandler } from '../chain.ts';
import { booleanParam, checkBodyTimeout, timeParam, waitLimit } from '../params.ts';
import { deprecationWarning, withWarning } from '../warnings.ts';

const DATAFEED = '/_ml/datafeeds/{datafeed_id}';
const INDICES_OPTIONS_PARAMS = ['ignore_unavailable', 'allow_no_indices', 'ignore_throttled', 'expand_wildcards'];

const datafeedId = (req: HttpRequest): string => req.pathParams.datafeed_id ?? '';

/** Elasticsearch's deprecation of the `ignore_throttled` parameter (datafeeds_crud.yml checks it). */
const IGNORE_THROTTLED_WARNING = deprecationWarning(
  '[ignore_throttled] parameter is deprecated because frozen indices have been deprecated. Consider cold or frozen tiers in place of frozen indices.',
);

/** The deprecation warning a put or update of a datafeed answers with (errors too) when given `ignore_throttled`. */
const paramWarning = (req: HttpRequest): string | undefined => (req.query.ignore_throttled === undefined ? undefined : IGNORE_THROTTLED_WARNING);

const getRoute: RouteHandler = {
  params: ['allow_no_match', 'exclude_generated'],
  handle: async (req) => ({
    status: 200,
    body: await getDatafeeds(req.pathParams.datafeed_id ?? '_all', booleanParam(req.query.allow_no_match, true), booleanParam(req.query.exclude_generated, false)),
  }),
};

const statsRoute: RouteHandler = {
  params: ['allow_no_match'],
  handle: async (req) => ({ status: 200, body: await getDatafeedStats(req.pathParams.datafeed_id ?? '_all', booleanParam(req.query.allow_no_match, true)) }),
};

const START_PARSER = 'xpack/ml/datafeed';

/**
 * Start: with a body only the body is read (`DatafeedParams.PARSER`, lenient: `start`, `end`,
 * `timeout` as strings); otherwise the query string. `start` defaults to `0`; dates are
 * epoch ms, ISO 8601 or `now`.
 */
const startRoute: RouteHandler = {
  params: ['start', 'end', 'timeout'],
  handle: async (req) => {
    const now = Date.now();
    let raw: { start?: string; end?: string; timeout?: string };
    if (req.body !== undefined) {
      const body = objectBody(req.body, START_PARSER, { datafeed_id: 'string', start: 'string', end: 'string', timeout: 'string' }, { lenient: true, check: checkBodyTimeout });
      raw = { start: body.start as string | undefined, end: body.end as string | undefined, timeout: body.timeout as string | undefined };
    } else {
      raw = { start: req.query.start, end: req.query.end, timeout: req.query.timeout };
    }
    const timeout = waitLimit(timeParam(raw.timeout, 'timeout'));
    const startMs = dateParam(raw.start ?? '0', 'start', now) ?? 0;
    const endMs = dateParam(raw.end, 'end', now);
    return { status: 200, body: await startDatafeed(datafeedId(req), { startMs, ...(endMs !== undefined ? { endMs } : {}), ...(timeout ? { timeout } : {}) }) };
  },
};

const STOP_PARSER = 'cluster:admin/xpack/ml/datafeed/stop';

/** Stop: with a body only the body is read (strict, spec A.0); otherwise the query string. */
const stopRoute: RouteHandler = {
  params: ['allow_no_match', 'force', 'timeout'],
  handle: async (req) => {
    const startedMs = Date.now();
    let force: boolean;
    let allowNoMatch: boolean;
    let timeout: ReturnType<typeof timeParam>;
    if (req.body !== undefined) {
      const body = objectBody(req.body, STOP_PARSER, { datafeed_id: 'string', timeout: 'string', force: 'boolean', allow_no_match: 'boolean' }, { check: checkBodyTimeout });
      force = (body.force as boolean | undefined) ?? false;
      allowNoMatch = (body.allow_no_match as boolean | undefined) ?? true;
      timeout = timeParam(body.timeout as string | undefined, 'timeout');
    } else {
      force = booleanParam(req.query.force, false);
      allowNoMatch = booleanParam(req.query.allow_no_match, true);
      timeout = timeParam(req.query.timeout, 'timeout');
    }
    return { status: 200, body: await stopDatafeeds(datafeedId(req), { force, allowNoMatch, ...(timeout ? { timeout } : {}) }, startedMs) };
  },
};

/**
 * Preview: `start` and `end` from the query string or the body (epoch ms, ISO 8601 or `now`); a
 * body `{datafeed_config, job_config}` previews a datafeed that is not stored. Answers a JSON array.
 */
const previewRoute: RouteHandler = {
  params: ['start', 'end'],
  handle: async (req) => {
    const now = Date.now();
    const records = await previewDatafeed({
      ...(req.pathParams.datafeed_id !== undefined ? { datafeedId: req.pathParams.datafeed_id } : {}),
      ...(req.body !== undefined ? { source: req.body } : {}),
      ...(req.query.start !== undefined ? { start: req.query.start } : {}),
      ...(req.query.end !== undefined ? { end: req.query.end } : {}),
      parseDate: (value, name) => dateParam(value, name, now) as number,
      ctx: { roles: req.principal.roles },
    });
    return { status: 200, body: records };
  },
};

/** The datafeed APIs (spec A.5.8, A.3): configuration, state, start, stop and preview. */
/** The `datafeeds` routes (topology `fn: 'datafeeds'`), by route key; served by `functions/http/datafeeds.ts` and the command ingress. */
export const datafeedsRoutes: Record<string, RouteHandler> = {
  'GET /_ml/datafeeds': getRoute,
  [`GET ${DATAFEED}`]: getRoute,
  'GET /_ml/datafeeds/_stats': statsRoute,
  [`GET ${DATAFEED}/_stats`]: statsRoute,
  [`PUT ${DATAFEED}`]: {
    params: INDICES_OPTIONS_PARAMS,
    handle: async (req) =>
      withWarning(paramWarning(req), async () => ({
        status: 200,
        body: await putDatafeed(datafeedId(req), requireBody(req), datafeedRequestContext(req.principal.roles, req.query)),
      })),
  },
  [`POST ${DATAFEED}/_update`]: {
    params: INDICES_OPTIONS_PARAMS,
    handle: async (req) =>
      withWarning(paramWarning(req), async () => ({
        status: 200,
        body: await updateDatafeed(datafeedId(req), requireBody(req), datafeedRequestContext(req.principal.roles, req.query)),
      })),
  },
  [`DELETE ${DATAFEED}`]: {
    params: ['force'],
    handle: async (req) => ({ status: 200, body: await deleteDatafeed(datafeedId(req), booleanParam(req.query.force, false)) }),
  },
  [`POST ${DATAFEED}/_start`]: startRoute,
  [`POST ${DATAFEED}/_stop`]: stopRoute,
  [`GET ${DATAFEED}/_preview`]: previewRoute,
  [`POST ${DATAFEED}/_preview`]: previewRoute,
  'GET /_ml/datafeeds/_preview': previewRoute,
  'POST /_ml/datafeeds/_preview': previewRoute,
};
