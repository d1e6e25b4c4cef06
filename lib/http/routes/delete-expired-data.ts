import { deleteExpiredData } from '../../app/maintenance.ts';
import { parseRequestsPerSecondParam, validateRequestsPerSecond } from '../../domain/retention.ts';
import type { TimeValue } from '../../domain/units.ts';
import { objectBody } from '../body.ts';
import type { RouteHandler } from '../chain.ts';
import { checkBodyTimeout, timeParam } from '../params.ts';

/** `DeleteExpiredDataAction.Request.PARSER`: strict, `requests_per_second` a float, `timeout` and `job_id` strings. */
const PARSER = 'delete_expired_data_request';

/**
 * DELETE _ml/_delete_expired_data[/<job_id>] (Elasticsearch's `RestDeleteExpiredDataAction`):
 * with a body, only the body is read (`requests_per_second`, `timeout`, and `job_id`, which the
 * path overrides); otherwise the query parameters. `requests_per_second` must be -1 or > 0
 * (`action_request_validation_exception`); a query value that is no float is Elasticsearch's
 * "Failed to parse float parameter" 400; a bad `timeout` is TimeValue's 400 (in the body,
 * wrapped by the parser). Elasticsearch 7.x–9.x read the query `timeout` through
 * `paramAsTime(<its own value>)` and so always drop it for the 8h default; mlplane honours it,
 * as its documentation says it works.
 */
export const deleteExpiredDataRoute: RouteHandler = {
  params: ['requests_per_second', 'timeout'],
  handle: async (req) => {
    let jobId = req.pathParams.job_id;
    let requestsPerSecond: number | undefined;
    let timeout: TimeValue | undefined;
    if (req.body !== undefined) {
      const body = objectBody(req.body, PARSER, { requests_per_second: 'double', timeout: 'string', job_id: 'string' }, { check: checkBodyTimeout });
      if (body.requests_per_second !== undefined) requestsPerSecond = Math.fround(body.requests_per_second as number);
      timeout = timeParam(body.timeout as string | undefined, 'timeout');
      jobId ??= body.job_id as string | undefined;
    } else {
      if (req.query.requests_per_second !== undefined) requestsPerSecond = parseRequestsPerSecondParam(req.query.requests_per_second);
      timeout = timeParam(req.query.timeout, 'timeout');
    }
    validateRequestsPerSecond(requestsPerSecond);
    const q = await deleteExpiredData(
      { ...(jobId === undefined ? {} : { jobId }), ...(requestsPerSecond === undefined ? {} : { requestsPerSecond }), ...(timeout ? { timeout } : {}) },
      Date.now(),
      req.receivedMs,
    );
    if (q.kind === 'done') return { status: 200, body: q.response };
    return { status: 202, body: { task: q.taskId } };
  },
};
