import { beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { esClient, esError, uniqueId } from './client.ts';

/**
 * Hostile request bodies sent to every route that reads a body: each answer is the 400 that
 * Elasticsearch gives (its parser's error), never a 500.
 */
const es = esClient();
const auth = (): string => `Basic ${Buffer.from(`elastic:${inject('elasticPassword')}`).toString('base64')}`;

async function send(method: string, path: string, body: string): Promise<{ status: number; type?: string; reason?: string; body: any }> {
  const res = await fetch(`${inject('esUrl')}${path}`, { method, headers: { authorization: auth(), 'content-type': 'application/json' }, body });
  const text = await res.text();
  const parsed = text ? JSON.parse(text) : undefined;
  return { status: res.status, type: parsed?.error?.type, reason: parsed?.error?.reason, body: parsed };
}

const VALID = "was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')";
const src = (col: number): string => `\n at [Source: REDACTED (\`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION\` disabled); line: 1, column: ${col}]`;
const DEPTH = 'Document nesting depth (1001) exceeds the maximum allowed (1000, from `StreamReadConstraints.getMaxNestingDepth()`)';

const id = uniqueId('hostile');
const J = `/_ml/anomaly_detectors/${id}`;

/** Every body-taking route, with the ObjectParser name Elasticsearch reports for a non-object body. */
const ROUTES: { method: string; path: () => string; parser: string }[] = [
  { method: 'PUT', path: () => `/_ml/anomaly_detectors/${id}-new`, parser: 'job_details' },
  { method: 'POST', path: () => `${J}/_update`, parser: 'job_update' },
  { method: 'POST', path: () => `${J}/_close`, parser: 'cluster:admin/xpack/ml/job/close' },
  { method: 'POST', path: () => `${J}/_open`, parser: 'xpack/ml/job' },
  { method: 'POST', path: () => `${J}/_flush`, parser: 'cluster:admin/xpack/ml/job/flush' },
  { method: 'PUT', path: () => `/_ml/filters/${id}-new`, parser: 'type' },
  { method: 'POST', path: () => `/_ml/filters/${id}/_update`, parser: 'cluster:admin/xpack/ml/filters/update' },
  { method: 'PUT', path: () => '/_cluster/settings', parser: 'cluster_update_settings_request' },
  { method: 'POST', path: () => `${J}/model_snapshots`, parser: 'cluster:monitor/xpack/ml/job/model_snapshots/get' },
  { method: 'POST', path: () => `${J}/results/buckets`, parser: 'cluster:monitor/xpack/ml/job/results/buckets/get' },
  { method: 'POST', path: () => `${J}/results/records`, parser: 'cluster:monitor/xpack/ml/job/results/records/get' },
  { method: 'POST', path: () => `${J}/results/influencers`, parser: 'cluster:monitor/xpack/ml/job/results/influencers/get' },
  { method: 'POST', path: () => `${J}/results/overall_buckets`, parser: 'cluster:monitor/xpack/ml/job/results/overall_buckets/get' },
];

beforeAll(async () => {
  await es.ml.putJob({ job_id: id, analysis_config: { bucket_span: '1h', detectors: [{ function: 'count' }] }, data_description: { time_field: 'timestamp' } });
  await es.ml.putFilter({ filter_id: id, items: ['a'] });
});

describe.each(ROUTES)('$method $parser route: a hostile body is its parser’s 400', ({ method, path, parser }) => {
  it.each([
    ['true', 'VALUE_BOOLEAN'],
    ['null', 'VALUE_NULL'],
    ['1', 'VALUE_NUMBER'],
    ['"x"', 'VALUE_STRING'],
  ])('the bare literal %s is Expected START_OBJECT but was: %s', async (body, token) => {
    expect(await send(method, path(), body)).toMatchObject({
      status: 400,
      type: 'x_content_parse_exception',
      reason: `[1:1] [${parser}] Expected START_OBJECT but was: ${token}`,
    });
  });

  it('an unrecognized token is Jackson’s error', async () => {
    expect(await send(method, path(), 'abc')).toMatchObject({ status: 400, type: 'x_content_parse_exception', reason: `[1:4] Unrecognized token 'abc': ${VALID}${src(4)}` });
  });

  it('10,000 levels of nesting are refused at the 1,001st, not a stack overflow', async () => {
    const r = await send(method, path(), `{"a":${'['.repeat(10_000)}`);
    expect(r.status).toBe(400);
    // Depending on the parser the limit is met bare or inside "failed to parse field"/"unknown field".
    expect(['stream_constraints_exception', 'x_content_parse_exception']).toContain(r.type);
    if (r.type === 'stream_constraints_exception') expect(r.reason).toBe(DEPTH);
  });

  it('a 2,000-digit number, NaN and a lone minus are 400s', async () => {
    for (const body of [`{"a":${'9'.repeat(2000)}}`, '{"a":NaN}', '-', '[1', '{"a":']) {
      const r = await send(method, path(), body);
      expect(r.status, `${body.slice(0, 20)} → ${r.type}: ${r.reason}`).toBe(400);
    }
  });
});

describe('list bodies are typed like their ObjectParsers', () => {
  const BUCKETS = 'cluster:monitor/xpack/ml/job/results/buckets/get';
  it('a wrong nested type is refused at its value', async () => {
    expect(await send('POST', `${J}/results/buckets`, '{"desc":{"a":1}}')).toMatchObject({
      status: 400,
      type: 'x_content_parse_exception',
      reason: `[1:9] [${BUCKETS}] desc doesn't support values of type: START_OBJECT`,
    });
    expect(await send('POST', `${J}/results/records`, '{"sort":["a"]}')).toMatchObject({
      status: 400,
      reason: "[1:9] [cluster:monitor/xpack/ml/job/results/records/get] sort doesn't support values of type: START_ARRAY",
    });
    const e = await send('POST', `${J}/results/buckets`, '{"page":{"from":"x"}}');
    expect(e).toMatchObject({ status: 400, type: 'x_content_parse_exception', reason: `[1:17] [${BUCKETS}] failed to parse field [page]` });
    expect(e.body.error.caused_by).toMatchObject({ type: 'x_content_parse_exception', reason: '[1:17] [page] failed to parse field [from]' });
  });

  it('well-typed bodies still work, with the client putting from/size in the query', async () => {
    expect(await es.ml.getBuckets({ job_id: id, size: 5, desc: true, start: '0' })).toMatchObject({ count: 0 });
    expect(await send('POST', `${J}/results/buckets`, '{"page":{"from":0,"size":5},"anomaly_score":"1.5","expand":"true"}')).toMatchObject({ status: 200 });
  });
});

describe('_data with hostile bodies', () => {
  it.each(['true', 'null', 'abc', '1', '"x"', '['.repeat(10_000), '9'.repeat(5000)])('%j on an open job is a 4xx, not a 500', async (body) => {
    const job = uniqueId('hostile-data');
    await es.ml.putJob({ job_id: job, analysis_config: { bucket_span: '1h', detectors: [{ function: 'count' }] }, data_description: { time_field: 'timestamp' } });
    await es.ml.openJob({ job_id: job });
    const r = await send('POST', `/_ml/anomaly_detectors/${job}/_data`, body);
    expect(r.status, `${r.type}: ${r.reason}`).toBeGreaterThanOrEqual(200);
    expect(r.status, `${r.type}: ${r.reason}`).toBeLessThan(500);
    await es.ml.closeJob({ job_id: job, force: true });
  });
});

describe('flush parameters are validated like FlushJobParams (query and body)', () => {
  const job = uniqueId('flush-params');
  beforeAll(async () => {
    await es.ml.putJob({ job_id: job, analysis_config: { bucket_span: '1h', detectors: [{ function: 'count' }] }, data_description: { time_field: 'timestamp' } });
    await es.ml.openJob({ job_id: job });
  });

  it.each([
    [{ calc_interim: 'true', start: '2000', end: '1000' }, 'illegal_argument_exception', "Invalid time range: end time '1000' is earlier than start time '2000'."],
    [{ start: '1000' }, 'illegal_argument_exception', "Invalid flush parameters: unexpected 'start'."],
    [{ end: '1000' }, 'illegal_argument_exception', "Invalid flush parameters: unexpected 'end'."],
    [{ calc_interim: 'true', end: '1000' }, 'illegal_argument_exception', "Invalid flush parameters: 'start' has not been specified."],
    [{ advance_time: '1000', skip_time: '2000' }, 'status_exception', 'advance_time [1000] must be later than skip_time [2000]'],
  ])('query %j is 400 %s', async (query, type, reason) => {
    expect(await esError(es.transport.request({ method: 'POST', path: `/_ml/anomaly_detectors/${job}/_flush`, querystring: query }))).toMatchObject({ status: 400, type, reason });
  });

  it('the body form gives the same errors, and only the body is read when there is one', async () => {
    expect(await esError(es.ml.flushJob({ job_id: job, calc_interim: true, start: '2000', end: '1000' }))).toMatchObject({
      status: 400,
      type: 'illegal_argument_exception',
      reason: "Invalid time range: end time '1000' is earlier than start time '2000'.",
    });
    const e = await send('POST', `/_ml/anomaly_detectors/${job}/_flush?calc_interim=true&start=1000`, '{"start":1000}');
    expect(e).toMatchObject({
      status: 400,
      type: 'x_content_parse_exception',
      reason: "[1:10] [cluster:admin/xpack/ml/job/flush] start doesn't support values of type: VALUE_NUMBER",
    });
    expect(await es.ml.flushJob({ job_id: job, calc_interim: true, start: '1000', end: '2000' })).toMatchObject({ flushed: true });
  });
});

describe('put job reads its body as located JSON, as its ObjectParser does', () => {
  it('an unknown field before a too-deep value is the unknown field error, not the depth error', async () => {
    const deep = `${'['.repeat(1001)}${']'.repeat(1001)}`;
    const e = await send('PUT', `/_ml/anomaly_detectors/${id}-order`, `{"foo":1,"custom_settings":${deep}}`);
    expect(e).toMatchObject({ status: 400, type: 'x_content_parse_exception', reason: '[1:2] [job_details] unknown field [foo]' });
  });

  it('an out-of-range number is wrapped in the field it belongs to', async () => {
    const body = '{"analysis_config":{"bucket_span":"1h","detectors":[{"function":"count"}]},"data_description":{"time_field":"t"},"results_retention_days":1e400}';
    const e = await send('PUT', `/_ml/anomaly_detectors/${id}-range`, body);
    expect(e).toMatchObject({ status: 400, type: 'x_content_parse_exception', reason: '[1:139] [job_details] failed to parse field [results_retention_days]' });
  });
});

describe('flush parameters of a job that is not open', () => {
  it('are checked only once the job is found open: 409 first, as in the flush task', async () => {
    // `id` is never opened; the parameters would be a 400 on an open job.
    const e = await esError(es.transport.request({ method: 'POST', path: `${J}/_flush`, querystring: { calc_interim: 'true', start: '2000', end: '1000' } }));
    expect(e).toMatchObject({ status: 409, reason: `Cannot perform requested action because job [${id}] is not open` });
  });
});

describe('timeout -1 is "no timeout", not an immediate timeout', () => {
  it('close with timeout=-1 (query and body) closes the job', async () => {
    for (const form of ['query', 'body'] as const) {
      const job = uniqueId(`close-minus-one-${form}`);
      await es.ml.putJob({ job_id: job, analysis_config: { bucket_span: '1h', detectors: [{ function: 'count' }] }, data_description: { time_field: 'timestamp' } });
      await es.ml.openJob({ job_id: job });
      const res =
        form === 'query'
          ? await send('POST', `/_ml/anomaly_detectors/${job}/_close?timeout=-1`, '')
          : await send('POST', `/_ml/anomaly_detectors/${job}/_close`, '{"timeout":"-1"}');
      // Done within the gateway cap: closed; otherwise a task to follow (202). Never the timeout error.
      expect([200, 202], JSON.stringify(res.body)).toContain(res.status);
      if (res.status === 200) expect(res.body).toEqual({ closed: true });
    }
  });

  it('open with timeout=-1 opens the job', async () => {
    const job = uniqueId('open-minus-one');
    await es.ml.putJob({ job_id: job, analysis_config: { bucket_span: '1h', detectors: [{ function: 'count' }] }, data_description: { time_field: 'timestamp' } });
    const res = await send('POST', `/_ml/anomaly_detectors/${job}/_open`, '{"timeout":"-1"}');
    expect([200, 202], JSON.stringify(res.body)).toContain(res.status);
    await es.ml.closeJob({ job_id: job, force: true });
  });

  it('a body timeout of the wrong type or unit is the ObjectParser’s 400', async () => {
    expect(await send('POST', `${J}/_close`, '{"timeout":30}')).toMatchObject({
      status: 400,
      type: 'x_content_parse_exception',
      reason: "[1:12] [cluster:admin/xpack/ml/job/close] timeout doesn't support values of type: VALUE_NUMBER",
    });
    const e = await send('POST', `${J}/_close`, '{"timeout":"8w"}');
    expect(e).toMatchObject({ status: 400, type: 'x_content_parse_exception', reason: '[1:12] [cluster:admin/xpack/ml/job/close] failed to parse field [timeout]' });
    expect(e.body.error.caused_by).toMatchObject({
      type: 'illegal_argument_exception',
      reason: 'failed to parse setting [timeout] with value [8w] as a time value: unit is missing or unrecognized',
    });
  });
});
