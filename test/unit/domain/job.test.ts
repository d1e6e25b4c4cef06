import { describe, expect, it } from 'vitest';
import type { EsError } from '../../../lib/domain/errors.ts';
import { buildJobConfig, parsePutJobRequest, type PutJobContext } from '../../../lib/domain/job/put-job.ts';
import type { JobConfig } from '../../../lib/domain/job/types.ts';
import { validateJobConfig } from '../../../lib/domain/job/validation.ts';
import { jobConfigView, jobFieldsUsed } from '../../../lib/domain/job/view.ts';
import { ES_VERSION } from '../../../lib/domain/version.ts';
import { catchEs, expectEsError } from './es-error.ts';

const NOW = 1_700_000_000_000;
const ctx = (extra: Partial<PutJobContext> = {}): PutJobContext => ({ nowMs: NOW, ...extra });

/** Puts a job from raw JSON text, so locations are exact. */
function put(text: string, id = 'job-1', extra: Partial<PutJobContext> = {}): JobConfig {
  return buildJobConfig(id, JSON.parse(text), ctx({ source: text, ...extra }));
}

/** A minimal valid body with some fields replaced/added. */
function body(extra: Record<string, unknown> = {}, analysis: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    analysis_config: { detectors: [{ function: 'count' }], ...analysis },
    data_description: {},
    ...extra,
  };
}

const putValue = (b: unknown, id = 'job-1', extra: Partial<PutJobContext> = {}): JobConfig => buildJobConfig(id, b, ctx(extra));

/** The error body as Elasticsearch would send it. */
const errorBody = (fn: () => unknown) => catchEs(fn).toBody();

describe('put job: the seed job', () => {
  it('normalises to the GET shape, keys in Elasticsearch order', () => {
    const seed =
      '{"analysis_config":{"bucket_span":"1h","summary_count_field_name":"doc_count","detectors":[{"function":"low_count"}]},"data_description":{"time_field":"timestamp","time_format":"epoch_ms"}}';
    const job = put(seed, 'seed');
    const expected = {
      job_id: 'seed',
      job_type: 'anomaly_detector',
      job_version: ES_VERSION.number,
      create_time: NOW,
      analysis_config: {
        bucket_span: '1h',
        summary_count_field_name: 'doc_count',
        detectors: [{ detector_description: 'low_count', function: 'low_count', detector_index: 0 }],
        influencers: [],
      },
      analysis_limits: { model_memory_limit: '1024mb', categorization_examples_limit: 4 },
      data_description: { time_field: 'timestamp', time_format: 'epoch_ms' },
      model_snapshot_retention_days: 10,
      daily_model_snapshot_retention_after_days: 1,
      results_index_name: 'shared',
      allow_lazy_open: false,
    };
    expect(JSON.stringify(job)).toBe(JSON.stringify(expected));
    expect(JSON.stringify(jobConfigView(job))).toBe(JSON.stringify(expected));
  });

  it('gives the same result with and without the raw source', () => {
    const b = body({}, { bucket_span: '1h' });
    expect(putValue(b)).toEqual(buildJobConfig('job-1', b, ctx({ source: JSON.stringify(b, null, 2) })));
  });
});

describe('put job: defaults', () => {
  it('defaults bucket_span to 5m and echoes a given one in its unit', () => {
    expect(putValue(body()).analysis_config.bucket_span).toBe('5m');
    expect(putValue(body({}, { bucket_span: '3600s' })).analysis_config.bucket_span).toBe('3600s');
  });

  it('defaults data_description to time/epoch_ms without a format key', () => {
    expect(putValue(body()).data_description).toEqual({ time_field: 'time', time_format: 'epoch_ms' });
    expect(putValue(body({ data_description: { format: 'xcontent' } })).data_description).toEqual({
      time_field: 'time',
      time_format: 'epoch_ms',
    });
  });

  it('does not fill model_prune_window, latency, renormalization, results or system annotations retention', () => {
    const job = putValue(body());
    expect(job.analysis_config.model_prune_window).toBeUndefined();
    expect(job.analysis_config.latency).toBeUndefined();
    expect(job.renormalization_window_days).toBeUndefined();
    expect(job.results_retention_days).toBeUndefined();
    expect(job).not.toHaveProperty('system_annotations_retention_days');
    expect(jobConfigView(job)).not.toHaveProperty('system_annotations_retention_days');
    expect(job.groups).toBeUndefined();
    expect(job.model_plot_config).toBeUndefined();
  });

  it('sets daily retention to 1 only when absent and retention is above 1', () => {
    expect(putValue(body({ model_snapshot_retention_days: 1 })).daily_model_snapshot_retention_after_days).toBeUndefined();
    expect(putValue(body({ model_snapshot_retention_days: 2 })).daily_model_snapshot_retention_after_days).toBe(1);
    expect(putValue(body({ model_snapshot_retention_days: 3, daily_model_snapshot_retention_after_days: 2 })).daily_model_snapshot_retention_after_days).toBe(2);
  });

  it('prefixes a user results index name with custom- once', () => {
    expect(putValue(body({ results_index_name: 'mine' })).results_index_name).toBe('custom-mine');
    expect(putValue(body({ results_index_name: 'custom-mine' })).results_index_name).toBe('custom-mine');
    expect(putValue(body({ results_index_name: 'shared' })).results_index_name).toBe('shared');
  });

  it('keeps allow_lazy_open, description, groups and custom_settings in order', () => {
    const job = putValue(body({ allow_lazy_open: true, description: 'd', groups: ['g1', 'g2'], custom_settings: { z: 1, a: { y: 2, b: 3 } } }));
    expect(job.allow_lazy_open).toBe(true);
    expect(job.description).toBe('d');
    expect(job.groups).toEqual(['g1', 'g2']);
    expect(JSON.stringify(job.custom_settings)).toBe('{"z":1,"a":{"y":2,"b":3}}');
  });

  it('defaults annotations_enabled to the value of enabled', () => {
    expect(putValue(body({ model_plot_config: { enabled: false, terms: 'a,b' } })).model_plot_config).toEqual({
      enabled: false,
      terms: 'a,b',
      annotations_enabled: false,
    });
    expect(putValue(body({ model_plot_config: { enabled: true, annotations_enabled: false } })).model_plot_config).toEqual({
      enabled: true,
      annotations_enabled: false,
    });
  });

  it('echoes background_persist_interval and latency in the unit given', () => {
    const job = putValue(body({ background_persist_interval: '3h' }, { latency: '120s' }));
    expect(job.background_persist_interval).toBe('3h');
    expect(job.analysis_config.latency).toBe('120s');
  });
});

describe('put job: analysis_limits', () => {
  it('defaults to 1024mb and 4 examples', () => {
    expect(putValue(body()).analysis_limits).toEqual({ model_memory_limit: '1024mb', categorization_examples_limit: 4 });
  });

  it.each([
    [2048, '2048mb'],
    ['3000g', '3072000mb'],
    ['8g', '8192mb'],
    ['10g', '10240mb'],
  ])('stores model_memory_limit %j as %j', (mml, stored) => {
    expect(putValue(body({ analysis_limits: { model_memory_limit: mml } })).analysis_limits.model_memory_limit).toBe(stored);
  });

  it('caps the default to a smaller max setting', () => {
    expect(putValue(body(), 'job-1', { maxModelMemoryLimitMiB: 512 }).analysis_limits.model_memory_limit).toBe('512mb');
  });

  it('refuses a limit over the max setting and accepts one equal to it', () => {
    expectEsError(() => putValue(body({ analysis_limits: { model_memory_limit: '10g' } }), 'job-1', { maxModelMemoryLimitMiB: 9216 }), {
      type: 'status_exception',
      status: 400,
      reason: 'model_memory_limit [10gb] must be less than the value of the xpack.ml.max_model_memory_limit setting [9gb]',
    });
    expect(putValue(body({ analysis_limits: { model_memory_limit: '9g' } }), 'job-1', { maxModelMemoryLimitMiB: 9216 }).analysis_limits.model_memory_limit).toBe('9216mb');
  });

  it('refuses less than 1 MiB while parsing, with the status_exception as root cause', () => {
    const b = errorBody(() => put('{"analysis_config":{"detectors":[{"function":"count"}]},"data_description":{},"analysis_limits":{"model_memory_limit":"500kb"}}'));
    expect(b.status).toBe(400);
    expect(b.error.type).toBe('x_content_parse_exception');
    expect(b.error.reason).toBe('[1:126] [job_details] failed to parse field [analysis_limits]');
    expect(b.error.caused_by?.reason).toBe('Failed to build [analysis_limits] after last required field arrived');
    expect(b.error.root_cause).toEqual([{ type: 'status_exception', reason: 'model_memory_limit must be at least 1 MiB. Value = 0' }]);
  });

  it('refuses a negative categorization_examples_limit', () => {
    const e = catchEs(() => putValue(body({ analysis_limits: { categorization_examples_limit: -1 } })));
    expect(e.rootCause().message).toBe('categorization_examples_limit cannot be less than 0. Value = -1');
    expect(e.rootCause().type).toBe('status_exception');
  });

  it('refuses a boolean model_memory_limit as an unsupported token', () => {
    const e = catchEs(() => putValue(body({ analysis_limits: { model_memory_limit: true } })));
    expect(e.toBody().error.caused_by?.caused_by).toEqual({ type: 'illegal_argument_exception', reason: 'Unsupported token [VALUE_BOOLEAN]' });
  });

  it('returns the fractional byte size deprecation warning', () => {
    const warnings: string[] = [];
    const result = parsePutJobRequest('job-1', body({ analysis_limits: { model_memory_limit: '1.5gb' } }), ctx({ warnings }));
    expect(result.job.analysis_limits.model_memory_limit).toBe('1536mb');
    expect(warnings).toEqual(['Fractional bytes values are deprecated. Use non-fractional bytes values instead: [1.5gb] found for setting [model_memory_limit]']);
  });
});

describe('put job: ids', () => {
  it('takes the id from the path, accepts the same id in the body', () => {
    expect(putValue(body(), 'path-id').job_id).toBe('path-id');
    expect(putValue(body({ job_id: 'path-id' }), 'path-id').job_id).toBe('path-id');
  });

  it('refuses a body job_id that differs from the path', () => {
    expectEsError(() => putValue(body({ job_id: 'other' }), 'path-id'), {
      type: 'illegal_argument_exception',
      status: 400,
      reason: "Inconsistent job_id; 'other' specified in the body differs from 'path-id' specified as a URL argument",
    });
  });

  it('refuses an invalid or too long job id', () => {
    expectEsError(() => putValue(body(), 'Bad_Id'), {
      type: 'illegal_argument_exception',
      reason: "Invalid job_id; 'Bad_Id' can contain lowercase alphanumeric (a-z and 0-9), hyphens or underscores; must start and end with alphanumeric",
    });
    expectEsError(() => putValue(body(), '_all'), { type: 'illegal_argument_exception', reason: /^Invalid job_id; '_all'/ });
    expectEsError(() => putValue(body(), 'a'.repeat(65)), {
      type: 'illegal_argument_exception',
      reason: 'The job id cannot contain more than 64 characters.',
    });
  });

  it('refuses an invalid group and a group named like the job', () => {
    expectEsError(() => putValue(body({ groups: ['ok', 'Not OK'] })), {
      type: 'illegal_argument_exception',
      reason: /^Invalid group id 'Not OK'; must be non-empty string/,
    });
    expectEsError(() => putValue(body({ groups: ['job-1'] })), {
      type: 'resource_already_exists_exception',
      status: 400,
      reason: 'job and group names must be unique but job [job-1] and group [job-1] have the same name',
    });
  });

  it('refuses an invalid results index name', () => {
    expectEsError(() => putValue(body({ results_index_name: 'Bad' })), {
      type: 'illegal_argument_exception',
      reason: /^Invalid results_index_name; 'Bad' can contain/,
    });
  });
});

describe('put job: field checks of validateInputFields and PutJobAction', () => {
  it('requires analysis_config and data_description', () => {
    expectEsError(() => putValue({ data_description: {} }), { type: 'illegal_argument_exception', reason: 'An analysis_config must be set' });
    expectEsError(() => putValue({ analysis_config: { detectors: [{ function: 'count' }] } }), {
      type: 'illegal_argument_exception',
      reason: 'A data_description must be set',
    });
  });

  it('refuses the time field inside analysis_config', () => {
    expectEsError(() => putValue(body({ data_description: { time_field: 'responsetime' } }, { detectors: [{ function: 'mean', field_name: 'responsetime' }] })), {
      type: 'illegal_argument_exception',
      reason: 'data_description.time_field may not be used in the analysis_config',
    });
  });

  it.each([
    ['model_snapshot_id', { model_snapshot_id: 'x' }, 'model_snapshot_id'],
    ['create_time', { create_time: 1 }, 'create_time'],
    ['finished_time', { finished_time: '2020-01-01T00:00:00Z' }, 'finished_time'],
    ['all three', { create_time: 1, model_snapshot_id: 'x', finished_time: 2 }, 'model_snapshot_id,finished_time,create_time'],
  ])('refuses creation-only fields: %s', (_name, extra, listed) => {
    expectEsError(() => putValue(body(extra)), {
      type: 'illegal_argument_exception',
      reason: `The job is configured with fields [${listed}] that are illegal to set at job creation`,
    });
  });

  it('refuses duplicate detectors with or without explicit indexes', () => {
    for (const detectors of [
      [{ function: 'count' }, { function: 'count' }],
      [
        { function: 'count', detector_index: 0 },
        { function: 'count', detector_index: 1 },
      ],
    ]) {
      expectEsError(() => putValue(body({}, { detectors })), {
        type: 'illegal_argument_exception',
        reason: 'Duplicate detectors are not allowed: [count]',
      });
    }
  });

  it('accepts detectors that differ only in their description', () => {
    expect(() => putValue(body({}, { detectors: [{ function: 'count' }, { function: 'count', detector_description: 'other' }] }))).not.toThrow();
  });

  it.each([
    ['renormalization_window_days', -1],
    ['results_retention_days', -1],
    ['system_annotations_retention_days', -1],
    ['model_snapshot_retention_days', -1],
    ['daily_model_snapshot_retention_after_days', -1],
  ])('refuses negative %s', (field, v) => {
    expectEsError(() => putValue(body({ [field]: v })), {
      type: 'illegal_argument_exception',
      status: 400,
      reason: `${field} cannot be less than 0. Value = -1`,
    });
  });

  it('refuses daily retention above retention, without quotes around names', () => {
    expectEsError(() => putValue(body({ model_snapshot_retention_days: 3, daily_model_snapshot_retention_after_days: 4 })), {
      type: 'illegal_argument_exception',
      reason: 'The value of daily_model_snapshot_retention_after_days [4] cannot be greater than model_snapshot_retention_days [3]',
    });
  });

  it('groups numbers of the retention message with commas', () => {
    expectEsError(() => putValue(body({ model_snapshot_retention_days: 1000, daily_model_snapshot_retention_after_days: 1001 })), {
      type: 'illegal_argument_exception',
      reason: 'The value of daily_model_snapshot_retention_after_days [1,001] cannot be greater than model_snapshot_retention_days [1,000]',
    });
  });

  it('refuses a background_persist_interval under one hour with grouped seconds', () => {
    expectEsError(() => putValue(body({ background_persist_interval: '30m' })), {
      type: 'illegal_argument_exception',
      reason: 'background_persist_interval cannot be less than 3,600. Value = 1,800',
    });
  });

  it('refuses a background_persist_interval that is not whole seconds', () => {
    expectEsError(() => putValue(body({ background_persist_interval: '3600500ms' })), {
      type: 'illegal_argument_exception',
      reason: "background_persist_interval has to be a multiple of 1s; actual was '1h'",
    });
  });

  it('refuses an unparseable background_persist_interval while parsing', () => {
    const b = errorBody(() => put('{"background_persist_interval":"1x"}'));
    expect(b.error.reason).toBe('[1:32] [job_details] failed to parse field [background_persist_interval]');
    expect(b.error.caused_by).toEqual({
      type: 'illegal_argument_exception',
      reason: 'failed to parse setting [background_persist_interval] with value [1x] as a time value: unit is missing or unrecognized',
    });
    expect(b.error.root_cause[0]?.type).toBe('x_content_parse_exception');
  });

  it('runs the checks in Elasticsearch order (time field before retention before groups)', () => {
    expectEsError(
      () =>
        putValue(
          body({ data_description: { time_field: 'f' }, daily_model_snapshot_retention_after_days: -1, groups: ['job-1'] }, { detectors: [{ function: 'mean', field_name: 'f' }] }),
        ),
      { type: 'illegal_argument_exception', reason: 'data_description.time_field may not be used in the analysis_config' },
    );
    expectEsError(() => putValue(body({ daily_model_snapshot_retention_after_days: -1, groups: ['job-1'] })), {
      type: 'illegal_argument_exception',
      reason: 'daily_model_snapshot_retention_after_days cannot be less than 0. Value = -1',
    });
  });

  it('reports a parse error before the id mismatch', () => {
    expectEsError(() => putValue(body({ job_id: 'other', foo: 1 }), 'job-1'), {
      type: 'x_content_parse_exception',
      reason: /\[job_details\] unknown field \[foo\]$/,
    });
  });

  it('requires a body', () => {
    expectEsError(() => buildJobConfig('job-1', undefined, ctx()), { type: 'parse_exception', reason: 'request body is required' });
  });

  it('refuses a body that is not an object', () => {
    expectEsError(() => put('[1]'), { type: 'x_content_parse_exception', reason: '[1:1] [job_details] Expected START_OBJECT but was: START_ARRAY' });
  });

  it('refuses malformed JSON with the Jackson text, inside the field being read', () => {
    const b = errorBody(() => buildJobConfig('job-1', undefined, ctx({ source: '{"analysis_config":{"detectors":[{"function":"count",}]}}' })));
    // The wrappers carry the last token read ("count"); Jackson's own error points after the '}'.
    expect(b.error.reason).toBe('[1:46] [job_details] failed to parse field [analysis_config]');
    expect(b.error.root_cause[0]?.reason).toMatch(/^\[1:55\] Unexpected character \('\}' \(code 125\)\): was expecting double-quote to start field name\n at \[Source: /);
  });
});

describe('put job: strict parsing and parser names', () => {
  it('refuses an unknown top-level field at its key location', () => {
    expectEsError(() => put('{\n  "analysis_config": {"detectors": [{"function": "count"}]},\n  "data_description": {},\n  "foo": 1\n}'), {
      type: 'x_content_parse_exception',
      status: 400,
      reason: '[4:3] [job_details] unknown field [foo]',
    });
  });

  it('suggests the closest field names', () => {
    expectEsError(() => put('{"descriptio":"x"}'), {
      type: 'x_content_parse_exception',
      reason: '[1:2] [job_details] unknown field [descriptio] did you mean any of [description, data_description]?',
    });
  });

  it.each([
    ['analysis_config', '{"analysis_config":{"detectors":[{"function":"count"}],"bogus":1}}', '[1:56] [analysis_config] unknown field [bogus]'],
    ['detector', '{"analysis_config":{"detectors":[{"function":"count","bogus":1}]}}', '[1:54] [detector] unknown field [bogus]'],
    ['data_description', '{"data_description":{"bogus":1}}', '[1:22] [data_description] unknown field [bogus]'],
    ['analysis_limits', '{"analysis_limits":{"bogus":1}}', '[1:21] [analysis_limits] unknown field [bogus]'],
    ['model_plot_config', '{"model_plot_config":{"enabled":true,"bogus":1}}', '[1:38] [model_plot_config] unknown field [bogus]'],
    ['detection_rule', '{"analysis_config":{"detectors":[{"function":"count","custom_rules":[{"bogus":1}]}]}}', '[1:71] [detection_rule] unknown field [bogus]'],
    ['rule_condition', '{"analysis_config":{"detectors":[{"function":"count","custom_rules":[{"conditions":[{"bogus":1}]}]}]}}', '[1:86] [rule_condition] unknown field [bogus]'],
    [
      'filter_ref (located in the re-serialised scope entry, keys in HashMap order)',
      '{"analysis_config":{"detectors":[{"function":"count","by_field_name":"b","custom_rules":[{"scope":{"b":{"filter_id":"f","bogus":1}}}]}]}}',
      '[1:2] [filter_ref] unknown field [bogus]',
    ],
  ])('names the nested parser: %s', (_name, text, innermost) => {
    const e = catchEs(() => put(text));
    expect(e.type).toBe('x_content_parse_exception');
    expect(e.rootCause().message).toBe(innermost);
  });

  it('chains failed to parse field wrappers down to the nested error', () => {
    const b = errorBody(() => put('{"analysis_config":{"detectors":[{"function":"foo"}]},"data_description":{}}'));
    expect(b.error).toEqual({
      root_cause: [{ type: 'x_content_parse_exception', reason: '[1:46] [detector] failed to parse field [function]' }],
      type: 'x_content_parse_exception',
      reason: '[1:46] [job_details] failed to parse field [analysis_config]',
      caused_by: {
        type: 'x_content_parse_exception',
        reason: '[1:46] [analysis_config] failed to parse field [detectors]',
        caused_by: {
          type: 'x_content_parse_exception',
          reason: '[1:46] [detector] failed to parse field [function]',
          caused_by: { type: 'illegal_argument_exception', reason: "Unknown function 'foo'" },
        },
      },
    });
  });

  it('refuses a value of the wrong token type without wrapping', () => {
    expectEsError(() => put('{"description":5}'), {
      type: 'x_content_parse_exception',
      reason: "[1:16] [job_details] description doesn't support values of type: VALUE_NUMBER",
    });
    expectEsError(() => put('{"groups":null}'), {
      type: 'x_content_parse_exception',
      reason: "[1:11] [job_details] groups doesn't support values of type: VALUE_NULL",
    });
  });

  it('wraps coercion failures in failed to parse field', () => {
    const b = errorBody(() => put('{"results_retention_days":"abc"}'));
    expect(b.error.reason).toBe('[1:27] [job_details] failed to parse field [results_retention_days]');
    expect(b.error.caused_by).toEqual({ type: 'illegal_argument_exception', reason: 'For input string: "abc"' });
    const b2 = errorBody(() => put('{"allow_lazy_open":"yes"}'));
    expect(b2.error.caused_by).toEqual({
      type: 'illegal_argument_exception',
      reason: 'Failed to parse value [yes] as only [true] or [false] are allowed.',
    });
  });

  it('parses system_annotations_retention_days as a long, like results_retention_days', () => {
    const b = errorBody(() => put('{"system_annotations_retention_days":"abc"}'));
    expect(b.error.reason).toBe('[1:38] [job_details] failed to parse field [system_annotations_retention_days]');
    expect(b.error.caused_by).toEqual({ type: 'illegal_argument_exception', reason: 'For input string: "abc"' });
    expect(putValue(body({ system_annotations_retention_days: '7' })).system_annotations_retention_days).toBe(7);
    expectEsError(() => put('{"system_annotations_retention_days":null}'), {
      type: 'x_content_parse_exception',
      reason: "[1:38] [job_details] system_annotations_retention_days doesn't support values of type: VALUE_NULL",
    });
  });

  it('accepts 0 days of system annotations retention', () => {
    expect(putValue(body({ system_annotations_retention_days: 0 })).system_annotations_retention_days).toBe(0);
  });

  it('coerces numeric strings and strings booleans like Elasticsearch', () => {
    const job = putValue(body({ results_retention_days: '40', allow_lazy_open: 'true' }));
    expect(job.results_retention_days).toBe(40);
    expect(job.allow_lazy_open).toBe(true);
  });

  it('reports the first failing field in document order', () => {
    expectEsError(() => put('{"zzz":1,"description":5}'), { type: 'x_content_parse_exception', reason: '[1:2] [job_details] unknown field [zzz]' });
    expectEsError(() => put('{"description":5,"zzz":1}'), {
      type: 'x_content_parse_exception',
      reason: "[1:16] [job_details] description doesn't support values of type: VALUE_NUMBER",
    });
  });

  it('requires detectors in analysis_config', () => {
    const e = catchEs(() => put('{"analysis_config":{"bucket_span":"5m"},"data_description":{}}'));
    expect(e.message).toBe('[1:39] [job_details] failed to parse field [analysis_config]');
    expect(e.cause?.message).toBe('Required [detectors]');
    const e2 = catchEs(() => putValue(body({}, { detectors: [] })));
    expect(e2.rootCause().message).toBe('No detectors configured');
  });
});

describe('put job: bucket_span and model_prune_window', () => {
  it.each([
    ['0s', 'bucket_span cannot be less or equal than 0. Value = 0s'],
    ['-1', 'bucket_span cannot be less or equal than 0. Value = -1'],
    ['1500ms', "bucket_span has to be a multiple of 1s; actual was '1.5s'"],
  ])('refuses bucket_span %j', (bs, reason) => {
    const b = errorBody(() => putValue(body({}, { bucket_span: bs })));
    expect(b.error.reason).toMatch(/\[job_details\] failed to parse field \[analysis_config\]$/);
    expect(b.error.caused_by).toEqual({ type: 'illegal_argument_exception', reason });
    expect(b.error.root_cause[0]?.type).toBe('x_content_parse_exception');
  });

  it('accepts a prune window that is a multiple of and at least twice the bucket span', () => {
    expect(putValue(body({}, { bucket_span: '15m', model_prune_window: '14d' })).analysis_config.model_prune_window).toBe('14d');
  });

  it.each([
    ['15m', '29m', 'model_prune_window [29m] must be a multiple of bucket_span [15m]'],
    ['5m', '2m', 'model_prune_window [2m] must be a multiple of bucket_span [5m]'],
    ['15m', '15m', 'model_prune_window [15m] must be at least 2 times greater than bucket_span [15m]'],
    ['5m', '5m', 'model_prune_window [5m] must be at least 2 times greater than bucket_span [5m]'],
    ['1h', '90m', 'model_prune_window [1.5h] must be a multiple of bucket_span [1h]'],
    ['3600s', '60m', 'model_prune_window [1h] must be at least 2 times greater than bucket_span [1h]'],
  ])('with bucket_span %s refuses model_prune_window %s as a status_exception', (bs, pw, reason) => {
    const b = errorBody(() => putValue(body({}, { bucket_span: bs, model_prune_window: pw })));
    expect(b.status).toBe(400);
    expect(b.error.type).toBe('x_content_parse_exception');
    expect(b.error.root_cause).toEqual([{ type: 'status_exception', reason }]);
  });

  it('refuses an unparseable prune window with the parse exception as root cause', () => {
    const b = errorBody(() => put('{"analysis_config":{"bucket_span":"15m","detectors":[{"function":"count"}],"model_prune_window":"8w"}}'));
    expect(b.error.reason).toMatch(/\[job_details\] failed to parse field \[analysis_config\]$/);
    expect(b.error.root_cause[0]?.reason).toMatch(/^\[1:\d+\] \[analysis_config\] failed to parse field \[model_prune_window\]$/);
    expect(JSON.stringify(b)).toContain('failed to parse setting [model_prune_window] with value [8w] as a time value: unit is missing or unrecognized');
  });

  it('replays fields given before detectors once detectors arrive', () => {
    const b = errorBody(() => put('{"analysis_config":{"bucket_span":"1x","detectors":[{"function":"count"}]}}'));
    expect(b.error.caused_by?.reason).toBe('[1:73] [analysis_config] failed to parse field [detectors]');
    expect(b.error.caused_by?.caused_by?.reason).toBe('[1:35] failed to build [analysis_config] after last required field arrived');
    expect(b.error.root_cause[0]?.reason).toBe('[1:35] [analysis_config] failed to parse field [bucket_span]');
  });

  it('refuses a negative latency', () => {
    const e = catchEs(() => putValue(body({}, { latency: '-1' })));
    expect(e.cause?.message).toBe('latency cannot be less than 0. Value = -1');
  });
});

describe('put job: detectors', () => {
  const detector = (d: Record<string, unknown>) => putValue(body({}, { detectors: [d] })).analysis_config.detectors[0];
  const detectorError = (d: Record<string, unknown>): EsError => catchEs(() => putValue(body({}, { detectors: [d] }))).rootCause();

  it.each([
    ['nzc', 'non_zero_count'],
    ['low_nzc', 'low_non_zero_count'],
    ['high_nzc', 'high_non_zero_count'],
  ])('expands the shortcut %s to %s', (short, full) => {
    expect(detector({ function: short, by_field_name: 'b' })?.function).toBe(full);
  });

  it.each([
    ['dc', 'distinct_count'],
    ['low_dc', 'low_distinct_count'],
    ['high_dc', 'high_distinct_count'],
  ])('expands the shortcut %s to %s', (short, full) => {
    expect(detector({ function: short, field_name: 'f' })?.function).toBe(full);
  });

  it('does not know a c shortcut', () => {
    const e = catchEs(() => putValue(body({}, { detectors: [{ function: 'c' }] })));
    expect(e.toBody().error.root_cause[0]?.reason).toMatch(/\[detector\] failed to parse field \[function\]$/);
    expect(JSON.stringify(e.toBody())).toContain("Unknown function 'c'");
  });

  it.each([
    [{ function: 'mean' }, 'Unless a count or temporal function is used one of field_name, by_field_name or over_field_name must be set'],
    [{ function: 'mean', by_field_name: 'b' }, "field_name must be set when the 'mean' function is used"],
    [{ function: 'count', field_name: 'f' }, "field_name cannot be used with function 'count'"],
    [{ function: 'rare', field_name: 'f' }, "field_name cannot be used with function 'rare'"],
    [{ function: 'rare', over_field_name: 'o' }, "by_field_name must be set when the 'rare' function is used"],
    [{ function: 'freq_rare', by_field_name: 'b' }, "over_field_name must be set when the 'freq_rare' function is used"],
    [{ function: 'nzc', over_field_name: 'o' }, "over_field_name cannot be used with function 'non_zero_count'"],
    [{ field_name: 'f' }, "field_name cannot be used with function 'null'"],
    [{ function: 'count', by_field_name: 'a"b' }, 'Invalid field name \'a"b\'. Field names including over, by and partition fields cannot contain any of these characters: ",\\'],
    [{ function: 'count', by_field_name: 'x', partition_field_name: 'x' }, "partition_field_name and by_field_name cannot be the same: 'x'"],
    [{ function: 'count', over_field_name: 'x', partition_field_name: 'x' }, "partition_field_name and over_field_name cannot be the same: 'x'"],
    [{ function: 'count', by_field_name: 'x', over_field_name: 'x' }, "by_field_name and over_field_name cannot be the same: 'x'"],
    [{ function: 'count', by_field_name: 'count' }, "'count' is not a permitted value for by_field_name"],
    [{ function: 'count', over_field_name: 'by' }, "'by' is not a permitted value for over_field_name"],
  ])('refuses %j', (d, reason) => {
    const e = detectorError(d);
    expect(e.type).toBe('status_exception');
    expect(e.message).toBe(reason);
  });

  it('defaults a missing function to metric when a by field is given', () => {
    expect(detector({ by_field_name: 'b' })).toEqual({ detector_description: 'metric by b', function: 'metric', by_field_name: 'b', detector_index: 0 });
  });

  it('builds the default description as Elasticsearch does', () => {
    expect(detector({ function: 'mean', field_name: 'responsetime', by_field_name: 'airline', partition_field_name: 'region' })?.detector_description).toBe(
      'mean(responsetime) by airline partitionfield=region',
    );
    expect(detector({ function: 'sum', field_name: 'bytes', over_field_name: 'client.ip', use_null: true, exclude_frequent: 'ALL' })?.detector_description).toBe(
      'sum(bytes) over "client.ip" usenull=true excludefrequent=all',
    );
  });

  it('echoes use_null only when true and exclude_frequent lower-cased', () => {
    const d = detector({ function: 'count', by_field_name: 'b', use_null: false, exclude_frequent: 'By' });
    expect(d).toEqual({ detector_description: 'count by b excludefrequent=by', function: 'count', by_field_name: 'b', exclude_frequent: 'by', detector_index: 0 });
  });

  it('refuses an unknown exclude_frequent value', () => {
    expect(JSON.stringify(catchEs(() => putValue(body({}, { detectors: [{ function: 'count', exclude_frequent: 'most' }] }))).toBody())).toContain(
      'No enum constant org.elasticsearch.xpack.core.ml.job.config.Detector.ExcludeFrequent.MOST',
    );
  });

  it('numbers detectors sequentially whatever detector_index says', () => {
    const job = putValue(
      body(
        {},
        {
          detectors: [
            { function: 'count', detector_index: 7 },
            { function: 'low_count', detector_index: 0 },
          ],
        },
      ),
    );
    expect(job.analysis_config.detectors.map((d) => d.detector_index)).toEqual([0, 1]);
  });

  it('keeps a given description', () => {
    expect(detector({ function: 'count', detector_description: 'mine' })?.detector_description).toBe('mine');
  });

  it('defaults influencers to an empty list and keeps given ones', () => {
    expect(putValue(body()).analysis_config.influencers).toEqual([]);
    expect(putValue(body({}, { influencers: ['a', 'b'] })).analysis_config.influencers).toEqual(['a', 'b']);
  });

  it('refuses nested field names clashing with a less nested one', () => {
    const e = catchEs(() => putValue(body({}, { detectors: [{ function: 'count', by_field_name: 'a' }], influencers: ['a.b'] })));
    expect(e.rootCause().message).toBe('Fields [a] and [a.b] cannot both be used in the same analysis_config');
  });

  it('refuses the metric function with a summary count field', () => {
    const e = catchEs(() => putValue(body({}, { summary_count_field_name: 'dc', detectors: [{ function: 'metric', field_name: 'f' }] })));
    expect(e.rootCause().message).toBe("The 'metric' function cannot be used in jobs that will take pre-summarized input");
  });
});

describe('put job: custom rules (spec A.5.11)', () => {
  const withRules = (rules: unknown, d: Record<string, unknown> = { function: 'mean', field_name: 'f', by_field_name: 'b', partition_field_name: 'p' }) =>
    putValue(body({}, { detectors: [{ ...d, custom_rules: rules }] }));
  const ruleError = (rules: unknown, d?: Record<string, unknown>): EsError => catchEs(() => withRules(rules, d)).rootCause();

  it('defaults actions to skip_result and filter_type to include', () => {
    const rules = withRules([{ scope: { b: { filter_id: 'safe' } }, conditions: [{ applies_to: 'actual', operator: 'gt', value: 10 }] }]).analysis_config.detectors[0]
      ?.custom_rules;
    expect(JSON.stringify(rules)).toBe(
      '[{"actions":["skip_result"],"scope":{"b":{"filter_id":"safe","filter_type":"include"}},"conditions":[{"applies_to":"actual","operator":"gt","value":10}]}]',
    );
  });

  it('reads enum strings case-insensitively, echoes them lower-case, actions in enum order', () => {
    const rules = withRules([{ actions: ['SKIP_MODEL_UPDATE', 'skip_result'], conditions: [{ applies_to: 'TIME', operator: ' LTE ', value: '5' }] }]).analysis_config.detectors[0]
      ?.custom_rules;
    expect(rules).toEqual([{ actions: ['skip_result', 'skip_model_update'], conditions: [{ applies_to: 'time', operator: 'lte', value: 5 }] }]);
  });

  it('keeps an empty actions list', () => {
    expect(withRules([{ actions: [], conditions: [{ applies_to: 'time', operator: 'gt', value: 1 }] }]).analysis_config.detectors[0]?.custom_rules?.[0]?.actions).toEqual([]);
  });

  it('requires a scope or a condition', () => {
    const e = ruleError([{ actions: ['skip_result'] }]);
    expect(e.type).toBe('status_exception');
    expect(e.message).toBe('Invalid detector rule: at least scope or a condition is required');
  });

  it('refuses a scope field that is not a by/over/partition field', () => {
    expect(ruleError([{ scope: { f: { filter_id: 'x' } } }]).message).toBe("Invalid detector rule: scope field 'f' is invalid; select from [b, p]");
    expect(ruleError([{ scope: { f: { filter_id: 'x' } } }], { function: 'count' }).message).toBe(
      "Invalid detector rule: scope field 'f' is invalid; detector has no available fields for scoping",
    );
  });

  it.each(['rare', 'freq_rare'])('allows only time conditions for %s', (fn) => {
    const d = { function: fn, by_field_name: 'b', over_field_name: 'o' };
    expect(ruleError([{ conditions: [{ applies_to: 'typical', operator: 'gt', value: 1 }] }], d).message).toBe(
      `Invalid detector rule: function ${fn} only supports conditions that apply to time`,
    );
    expect(() => withRules([{ conditions: [{ applies_to: 'time', operator: 'gt', value: 1 }] }], d)).not.toThrow();
  });

  it('checks lat_long and metric too', () => {
    for (const fn of ['lat_long', 'metric']) {
      expect(ruleError([{ conditions: [{ applies_to: 'diff_from_typical', operator: 'gt', value: 1 }] }], { function: fn, field_name: 'f' }).message).toBe(
        `Invalid detector rule: function ${fn} only supports conditions that apply to time`,
      );
    }
  });

  it('refuses unknown enum values with the Java enum text', () => {
    expect(ruleError([{ actions: ['drop'], conditions: [{ applies_to: 'time', operator: 'gt', value: 1 }] }]).message).toMatch(/failed to parse field \[actions\]$/);
    const all = JSON.stringify(catchEs(() => withRules([{ conditions: [{ applies_to: 'time', operator: 'eq', value: 1 }] }])).toBody());
    expect(all).toContain('No enum constant org.elasticsearch.xpack.core.ml.job.config.Operator.EQ');
  });

  it('requires applies_to, operator and value in a condition', () => {
    const all = JSON.stringify(catchEs(() => withRules([{ conditions: [{ applies_to: 'time' }] }])).toBody());
    expect(all).toContain('Required [operator, value]');
  });

  it('checks force_time_shift actions against params', () => {
    expect(ruleError([{ actions: ['force_time_shift'], conditions: [{ applies_to: 'time', operator: 'gt', value: 1 }] }]).message).toBe(
      'Invalid detector rule: actions contain force_time_shift, but corresponding parameters are missing',
    );
    expect(ruleError([{ params: { force_time_shift: { time_shift_amount: 60 } }, conditions: [{ applies_to: 'time', operator: 'gt', value: 1 }] }]).message).toBe(
      'Invalid detector rule: actions do not contain force_time_shift, but corresponding parameters are present',
    );
    const rules = withRules([
      { actions: ['force_time_shift'], params: { force_time_shift: { time_shift_amount: 60 } }, conditions: [{ applies_to: 'time', operator: 'gt', value: 1 }] },
    ]).analysis_config.detectors[0]?.custom_rules;
    expect(rules?.[0]?.params).toEqual({ force_time_shift: { time_shift_amount: 60 } });
  });
});

describe('put job: categorization', () => {
  const cat = (analysis: Record<string, unknown>) =>
    putValue(body({}, { categorization_field_name: 'message', detectors: [{ function: 'count', by_field_name: 'mlcategory' }], ...analysis }));

  it('adds the standard analyzer absorbing categorization_filters as pattern_replace char filters', () => {
    const ac = cat({ categorization_filters: ['cat1.*', 'cat2.*'] }).analysis_config;
    expect(ac.categorization_filters).toBeUndefined();
    const analyzer = ac.categorization_analyzer as { char_filter: unknown[]; tokenizer: string; filter: unknown[] };
    expect(JSON.stringify(analyzer.char_filter)).toBe('["first_line_with_letters",{"pattern":"cat1.*","type":"pattern_replace"},{"pattern":"cat2.*","type":"pattern_replace"}]');
    expect(analyzer.tokenizer).toBe('ml_standard');
    expect(JSON.stringify(analyzer.filter[1])).toBe('{"type":"limit","max_token_count":"100"}');
    expect(Object.keys(analyzer.filter[0] as object)).toEqual(['type', 'stopwords']);
    expect(ac.per_partition_categorization).toEqual({ enabled: false });
  });

  it('echoes a named analyzer and a custom one', () => {
    expect(cat({ categorization_analyzer: 'standard' }).analysis_config.categorization_analyzer).toBe('standard');
    expect(cat({ categorization_analyzer: { tokenizer: 'classic', filter: ['lowercase'] } }).analysis_config.categorization_analyzer).toEqual({
      tokenizer: 'classic',
      filter: ['lowercase'],
    });
  });

  it('refuses categorization_filters together with categorization_analyzer', () => {
    const e = catchEs(() => cat({ categorization_filters: ['x'], categorization_analyzer: 'standard' }));
    expect(e.rootCause().message).toBe('categorization_filters cannot be used with categorization_analyzer - instead specify them as pattern_replace char_filters in the analyzer');
  });

  it('requires mlcategory and the categorization field together', () => {
    expect(catchEs(() => putValue(body({}, { detectors: [{ function: 'count', by_field_name: 'mlcategory' }] }))).rootCause().message).toBe(
      'categorization_field_name must be set for mlcategory to be available',
    );
    expect(catchEs(() => putValue(body({}, { categorization_field_name: 'message' }))).rootCause().message).toBe(
      'categorization_field_name is set but mlcategory is not used in any detector by/over/partition field',
    );
  });

  it('refuses an analyzer without a tokenizer', () => {
    const all = JSON.stringify(catchEs(() => cat({ categorization_analyzer: { filter: ['lowercase'] } })).toBody());
    expect(all).toContain('categorization_analyzer that is not a global analyzer must specify a [tokenizer] field');
  });
});

describe('put job: embedded datafeed_config', () => {
  it('returns it with datafeed_id and job_id defaulted', () => {
    const r = parsePutJobRequest('job-1', body({ datafeed_config: { indices: ['x'] } }), ctx());
    expect(r.datafeedConfig).toEqual({ indices: ['x'], datafeed_id: 'job-1', job_id: 'job-1' });
  });
});

describe('jobFieldsUsed', () => {
  it('lists detector fields, influencers and the summary count field, sorted, without mlcategory', () => {
    const job = putValue(
      body(
        {},
        {
          summary_count_field_name: 'doc_count',
          categorization_field_name: 'message',
          influencers: ['host'],
          detectors: [
            { function: 'mean', field_name: 'rt', by_field_name: 'airline', partition_field_name: 'region' },
            { function: 'count', by_field_name: 'mlcategory', over_field_name: 'user' },
          ],
        },
      ),
    );
    expect(jobFieldsUsed(job)).toEqual(['airline', 'doc_count', 'host', 'message', 'region', 'rt', 'user']);
  });
});

describe('jobConfigView', () => {
  const job = putValue(body({ custom_settings: { created_by: 'ml-module', a: 1 }, groups: ['g'] }));

  it('drops generated fields and created_by with exclude_generated', () => {
    const view = jobConfigView({ ...job, finished_time: 5, model_snapshot_id: 's1' }, { excludeGenerated: true, datafeedConfig: { datafeed_id: 'd' } });
    expect(view).not.toHaveProperty('job_type');
    expect(view).not.toHaveProperty('job_version');
    expect(view).not.toHaveProperty('create_time');
    expect(view).not.toHaveProperty('finished_time');
    expect(view).not.toHaveProperty('model_snapshot_id');
    expect(view).not.toHaveProperty('datafeed_config');
    expect(view.custom_settings).toEqual({ a: 1 });
    expect(Object.keys(view)[0]).toBe('job_id');
  });

  it('splices datafeed_config after custom_settings and before groups', () => {
    const view = jobConfigView({ ...job, finished_time: 5 }, { datafeedConfig: { datafeed_id: 'd' } });
    expect(Object.keys(view).slice(0, 8)).toEqual(['job_id', 'job_type', 'job_version', 'create_time', 'finished_time', 'custom_settings', 'datafeed_config', 'groups']);
  });

  it('shows system_annotations_retention_days right after results_retention_days', () => {
    const view = jobConfigView(putValue(body({ system_annotations_retention_days: 1, results_retention_days: 2, model_snapshot_retention_days: 1 })));
    const keys = Object.keys(view);
    expect(view.system_annotations_retention_days).toBe(1);
    expect(keys.indexOf('system_annotations_retention_days')).toBe(keys.indexOf('results_retention_days') + 1);
  });

  it('does not share nested objects with the stored job', () => {
    const view = jobConfigView(job) as { analysis_config: { influencers: string[] } };
    view.analysis_config.influencers.push('x');
    expect(job.analysis_config.influencers).toEqual([]);
  });
});

describe('validateJobConfig (rebuild checks reused by update)', () => {
  const job = putValue(body({ model_snapshot_retention_days: 30, daily_model_snapshot_retention_after_days: 2 }, { bucket_span: '15m' }));

  it('accepts a valid job', () => {
    expect(() => validateJobConfig(job)).not.toThrow();
  });

  it('refuses daily retention above retention after a merge', () => {
    expectEsError(() => validateJobConfig({ ...job, model_snapshot_retention_days: 1 }), {
      type: 'illegal_argument_exception',
      reason: 'The value of daily_model_snapshot_retention_after_days [2] cannot be greater than model_snapshot_retention_days [1]',
    });
  });

  it('refuses a prune window that is too small after a merge', () => {
    expectEsError(() => validateJobConfig({ ...job, analysis_config: { ...job.analysis_config, model_prune_window: '15m' } }), {
      type: 'status_exception',
      reason: 'model_prune_window [15m] must be at least 2 times greater than bucket_span [15m]',
    });
  });

  it('refuses a group equal to the job id', () => {
    expectEsError(() => validateJobConfig({ ...job, groups: [job.job_id] }), { type: 'resource_already_exists_exception', reason: /must be unique/ });
  });
});

describe('put job: data_description', () => {
  it.each(['epoch', 'epoch_ms', 'yyyy-MM-dd HH:mm:ss', "yyyy-MM-dd'T'HH:mm:ssX", 'dd/MMM/yyyy:hh:mm:ss a'])('accepts time_format %j', (f) => {
    expect(putValue(body({ data_description: { time_field: 't', time_format: f } })).data_description).toEqual({ time_field: 't', time_format: f });
  });

  it.each(['yyyy-MM-dd', 'bogus', 'yyyy-MM-dd HH:mm:ss#'])('refuses time_format %j as a status_exception', (f) => {
    const e = catchEs(() => putValue(body({ data_description: { time_format: f } })));
    expect(e.rootCause()).toMatchObject({ type: 'status_exception', message: `Invalid Time format string '${f}'` });
    expect(e.message).toMatch(/\[job_details\] failed to parse field \[data_description\]$/);
  });

  it('refuses an unknown format', () => {
    expect(JSON.stringify(catchEs(() => putValue(body({ data_description: { format: 'json' } }))).toBody())).toContain(
      'No enum constant org.elasticsearch.xpack.core.ml.job.config.DataDescription.DataFormat.JSON',
    );
  });
});

describe('put job: locations with CRLF line ends', () => {
  it('counts \\r\\n as one line break', () => {
    expectEsError(() => put('{\r\n"analysis_config":{"detectors":[{"function":"count"}]},\r\n "x":1}'), {
      type: 'x_content_parse_exception',
      reason: '[3:2] [job_details] unknown field [x]',
    });
  });
});
