import { describe, expect, it } from 'vitest';
import { buildJobConfig } from '../../../lib/domain/job/put-job.ts';
import type { JobConfig } from '../../../lib/domain/job/types.ts';
import { jobConfigView } from '../../../lib/domain/job/view.ts';
import {
  applyJobUpdate,
  checkGroupsAreNotJobIds,
  isLiveProcessUpdate,
  jobUpdatedAuditMessage,
  LIVE_UPDATE_FIELDS,
  parseJobUpdate,
  updatedFieldNames,
  type UpdateContext,
} from '../../../lib/domain/update.ts';
import { catchEs, expectEsError } from './es-error.ts';

const NOW = 1_700_000_000_000;
const MIB = 1024 * 1024;

/** Puts a job from a body object (the put parser's defaults and normalisations apply). */
function job(body: Record<string, unknown>, id = 'upd-job'): JobConfig {
  return buildJobConfig(id, body, { nowMs: NOW });
}

const countJob = (extra: Record<string, unknown> = {}, analysis: Record<string, unknown> = {}): JobConfig =>
  job({ analysis_config: { detectors: [{ function: 'count' }], ...analysis }, data_description: {}, ...extra });

/** Two detectors: `mean(responsetime) by airline` and `count by mlcategory`, on a categorization job. */
const categorizationJob = (extra: Record<string, unknown> = {}, analysis: Record<string, unknown> = {}): JobConfig =>
  job({
    analysis_config: {
      detectors: [
        { function: 'mean', field_name: 'responsetime', by_field_name: 'airline' },
        { function: 'count', by_field_name: 'mlcategory' },
      ],
      categorization_field_name: 'some_category',
      ...analysis,
    },
    data_description: {},
    ...extra,
  });

const closed: UpdateContext = { jobState: 'closed', otherJobIds: [] };
const ctx = (extra: Partial<UpdateContext> = {}): UpdateContext => ({ ...closed, ...extra });

/** Parses `body` (raw JSON text) and applies it. */
const apply = (base: JobConfig, body: string, c: UpdateContext = closed): JobConfig => applyJobUpdate(base, parseJobUpdate(body), c);

describe('parseJobUpdate: body and unknown fields', () => {
  it('refuses an empty body with parse_exception "request body is required"', () => {
    expectEsError(() => parseJobUpdate(''), { type: 'parse_exception', status: 400, reason: 'request body is required' });
  });

  it('refuses an unknown field at its key, suggesting a close field name', () => {
    expectEsError(() => parseJobUpdate('{"foo":1}'), {
      type: 'x_content_parse_exception',
      status: 400,
      reason: '[1:2] [job_update] unknown field [foo]',
    });
    expectEsError(() => parseJobUpdate('{"groups":[],\n "group":["a"]}'), {
      type: 'x_content_parse_exception',
      reason: '[2:2] [job_update] unknown field [group] did you mean [groups]?',
    });
  });

  it.each(['model_snapshot_id', 'model_snapshot_min_version', 'job_version', 'clear_job_finish_time', 'blocked'])('rejects the internal-only field %s as unknown', (field) => {
    const value = field === 'blocked' ? '{"reason":"none"}' : field === 'clear_job_finish_time' ? 'true' : '"x"';
    const e = expectEsError(() => parseJobUpdate(`{"${field}":${value}}`), {
      type: 'x_content_parse_exception',
      status: 400,
      reason: new RegExp(`^\\[1:2\\] \\[job_update\\] unknown field \\[${field}\\]( did you mean .*)?$`),
    });
    expect(e.rootCause()).toBe(e);
  });

  it('rejects a value of the wrong token type with "doesn\'t support values of type"', () => {
    expectEsError(() => parseJobUpdate('{"allow_lazy_open":1}'), {
      type: 'x_content_parse_exception',
      reason: "[1:20] [job_update] allow_lazy_open doesn't support values of type: VALUE_NUMBER",
    });
    expectEsError(() => parseJobUpdate('{"groups":null}'), {
      type: 'x_content_parse_exception',
      reason: "[1:11] [job_update] groups doesn't support values of type: VALUE_NULL",
    });
  });

  it('wraps a bad number in "[job_update] failed to parse field [<f>]"', () => {
    const e = expectEsError(() => parseJobUpdate('{"job_id":"j","results_retention_days":"abc"}'), {
      type: 'x_content_parse_exception',
      reason: '[1:40] [job_update] failed to parse field [results_retention_days]',
    });
    expect(e.cause?.type).toBe('illegal_argument_exception');
  });

  it('parses system_annotations_retention_days as a long (JobUpdate, Elasticsearch 7.13+)', () => {
    expect(parseJobUpdate('{"system_annotations_retention_days":"5"}')).toEqual({ system_annotations_retention_days: 5 });
    expectEsError(() => parseJobUpdate('{"system_annotations_retention_days":"abc"}'), {
      type: 'x_content_parse_exception',
      reason: '[1:38] [job_update] failed to parse field [system_annotations_retention_days]',
    });
  });

  it('reads a single string as a one-element groups list', () => {
    expect(parseJobUpdate('{"groups":"g"}').groups).toEqual(['g']);
  });

  it('keeps only the keys present, job_id included (it is ignored later)', () => {
    expect(parseJobUpdate('{"job_id":"other","description":null}')).toEqual({ job_id: 'other', description: null });
  });
});

describe('parseJobUpdate: time values', () => {
  it('fails model_prune_window "8w" with the unit error under "[job_update] failed to parse field [model_prune_window]"', () => {
    const body = catchEs(() => parseJobUpdate('{"job_id":"j","model_prune_window":"8w"}')).toBody();
    expect(body).toEqual({
      error: {
        root_cause: [{ type: 'x_content_parse_exception', reason: '[1:36] [job_update] failed to parse field [model_prune_window]' }],
        type: 'x_content_parse_exception',
        reason: '[1:36] [job_update] failed to parse field [model_prune_window]',
        caused_by: {
          type: 'illegal_argument_exception',
          reason: 'failed to parse setting [model_prune_window] with value [8w] as a time value: unit is missing or unrecognized',
        },
      },
      status: 400,
    });
  });

  it('wraps the deferred setter error in "failed to build [job_update]" when the body has no job_id', () => {
    const body = catchEs(() => parseJobUpdate('{"model_prune_window":"8w"}')).toBody();
    expect(body).toEqual({
      error: {
        root_cause: [{ type: 'x_content_parse_exception', reason: '[1:23] [job_update] failed to parse field [model_prune_window]' }],
        type: 'x_content_parse_exception',
        reason: '[1:23] failed to build [job_update] after last required field arrived',
        caused_by: {
          type: 'x_content_parse_exception',
          reason: '[1:23] [job_update] failed to parse field [model_prune_window]',
          caused_by: {
            type: 'illegal_argument_exception',
            reason: 'failed to parse setting [model_prune_window] with value [8w] as a time value: unit is missing or unrecognized',
          },
        },
      },
      status: 400,
    });
  });

  it('reports the last of two bad deferred time values first (queued setters run last-first)', () => {
    const e = catchEs(() => parseJobUpdate('{"model_prune_window":"8w","background_persist_interval":"1y"}'));
    expect(e.cause?.message).toBe('[1:58] [job_update] failed to parse field [background_persist_interval]');
  });

  it('keeps time values in the unit given', () => {
    const u = parseJobUpdate('{"background_persist_interval":"3h","model_prune_window":"60d"}');
    expect(u.background_persist_interval?.rep).toBe('3h');
    expect(u.model_prune_window?.rep).toBe('60d');
  });
});

describe('parseJobUpdate: detectors, analysis_limits and nested objects', () => {
  it('wraps a bad rule twice (job_update → detector_update → status_exception) with the status_exception as root cause', () => {
    const body = catchEs(() => parseJobUpdate('{"detectors":[{"detector_index":0,"custom_rules":[{}]}]}')).toBody();
    expect(body).toEqual({
      error: {
        root_cause: [{ type: 'status_exception', reason: 'Invalid detector rule: at least scope or a condition is required' }],
        type: 'x_content_parse_exception',
        reason: '[1:52] [job_update] failed to parse field [detectors]',
        caused_by: {
          type: 'x_content_parse_exception',
          reason: '[1:52] [detector_update] failed to parse field [custom_rules]',
          caused_by: { type: 'status_exception', reason: 'Invalid detector rule: at least scope or a condition is required' },
        },
      },
      status: 400,
    });
  });

  it('checks force_time_shift params of a rule while parsing', () => {
    const e = catchEs(() =>
      parseJobUpdate('{"detectors":[{"detector_index":0,"custom_rules":[{"actions":["force_time_shift"],"conditions":[{"applies_to":"time","operator":"gt","value":1}]}]}]}'),
    );
    expect(e.rootCause().message).toBe('Invalid detector rule: actions contain force_time_shift, but corresponding parameters are missing');
  });

  it('refuses an unknown key in a detector update under [detector_update]', () => {
    const e = catchEs(() => parseJobUpdate('{"detectors":[{"detector_index":0,"function":"count"}]}'));
    expect(e.message).toBe('[1:35] [job_update] failed to parse field [detectors]');
    expect(e.cause?.message).toBe('[1:35] [detector_update] unknown field [function]');
  });

  it('fails a detector update without detector_index while building it (the Java null unboxing)', () => {
    const e = catchEs(() => parseJobUpdate('{"detectors":[{"description":"x"}]}'));
    expect(e.message).toBe('[1:33] [job_update] failed to parse field [detectors]');
    expect(e.cause?.message).toBe('Failed to build [detector_update] after last required field arrived');
    expect(e.cause?.cause?.type).toBe('null_pointer_exception');
    expect(e.rootCause().message).toBe('Failed to build [detector_update] after last required field arrived');
  });

  it('refuses model_memory_limit below 1 MiB while parsing, root cause the status_exception', () => {
    const e = catchEs(() => parseJobUpdate('{"analysis_limits":{"model_memory_limit":"500kb"}}'));
    expect(e.message).toBe('[1:49] [job_update] failed to parse field [analysis_limits]');
    expect(e.cause?.message).toBe('Failed to build [analysis_limits] after last required field arrived');
    expect(e.rootCause().type).toBe('status_exception');
    expect(e.rootCause().status).toBe(400);
    expect(e.rootCause().message).toBe('model_memory_limit must be at least 1 MiB. Value = 0');
  });

  it('refuses a negative categorization_examples_limit while parsing', () => {
    const e = catchEs(() => parseJobUpdate('{"analysis_limits":{"categorization_examples_limit":-1}}'));
    expect(e.rootCause().message).toBe('categorization_examples_limit cannot be less than 0. Value = -1');
    expect(e.rootCause().type).toBe('status_exception');
  });

  it('reads model_memory_limit as MiB from a number and floors a byte string to MiB', () => {
    expect(parseJobUpdate('{"analysis_limits":{"model_memory_limit":20}}').analysis_limits).toEqual({ model_memory_limit: 20 });
    expect(parseJobUpdate('{"analysis_limits":{"model_memory_limit":"1500kb"}}').analysis_limits).toEqual({ model_memory_limit: 1 });
  });

  it('collects the fractional byte size deprecation warning', () => {
    const warnings: string[] = [];
    parseJobUpdate('{"analysis_limits":{"model_memory_limit":"1.5gb"}}', warnings);
    expect(warnings).toEqual(['Fractional bytes values are deprecated. Use non-fractional bytes values instead: [1.5gb] found for setting [model_memory_limit]']);
  });

  it('defaults model_plot_config.annotations_enabled to enabled', () => {
    expect(parseJobUpdate('{"model_plot_config":{"enabled":false,"terms":"foobar"}}').model_plot_config).toEqual({
      enabled: false,
      terms: 'foobar',
      annotations_enabled: false,
    });
  });

  it('refuses stop_on_warn without enabled in per_partition_categorization', () => {
    const e = catchEs(() => parseJobUpdate('{"per_partition_categorization":{"enabled":false,"stop_on_warn":true}}'));
    expect(e.rootCause().message).toBe('stop_on_warn cannot be true in per_partition_categorization when enabled is false');
  });

  it('reads custom_settings in Java HashMap order, as p.map() does', () => {
    const u = parseJobUpdate('{"custom_settings":{"b":1,"a":{"z":1,"c":2}}}');
    expect(JSON.stringify(u.custom_settings)).toBe('{"a":{"c":2,"z":1},"b":1}');
  });
});

describe('applyJobUpdate: groups (step 4 and step 8)', () => {
  it('refuses a group named like another job with resource_already_exists_exception', () => {
    expectEsError(() => apply(countJob(), '{"groups":["other-job"]}', ctx({ otherJobIds: ['other-job'] })), {
      type: 'resource_already_exists_exception',
      status: 400,
      reason: 'job and group names must be unique but job [other-job] and group [other-job] have the same name',
    });
  });

  it('refuses a group equal to the job own id with the same text', () => {
    expectEsError(() => apply(countJob(), '{"groups":["upd-job"]}'), {
      type: 'resource_already_exists_exception',
      reason: 'job and group names must be unique but job [upd-job] and group [upd-job] have the same name',
    });
  });

  it('checks job-id groups before group validity (step 4 runs before the job is read)', () => {
    expectEsError(() => apply(countJob(), '{"groups":["Bad Group","other-job"]}', ctx({ otherJobIds: ['other-job'] })), {
      type: 'resource_already_exists_exception',
      reason: 'job and group names must be unique but job [other-job] and group [other-job] have the same name',
    });
  });

  it('checks job-id groups before the analysis_limits gate', () => {
    expectEsError(() => apply(countJob(), '{"groups":["other-job"],"analysis_limits":{"model_memory_limit":20}}', ctx({ jobState: 'opened', otherJobIds: ['other-job'] })), {
      type: 'resource_already_exists_exception',
      reason: /job and group names must be unique/,
    });
  });

  it('refuses an invalid group name with illegal_argument_exception', () => {
    expectEsError(() => apply(countJob(), '{"groups":["Bad"]}'), {
      type: 'illegal_argument_exception',
      status: 400,
      reason: "Invalid group id 'Bad'; must be non-empty string and may contain lowercase alphanumeric (a-z and 0-9), hyphens or underscores; must start and end with alphanumeric",
    });
  });

  it('replaces the groups and drops the key for an empty list', () => {
    const base = countJob({ groups: ['g1', 'g2'] });
    expect(apply(base, '{"groups":["g3"]}').groups).toEqual(['g3']);
    expect(apply(base, '{"groups":[]}').groups).toBeUndefined();
  });

  it('exposes the step-4 check on its own for callers that run it before loading the job', () => {
    expect(() => checkGroupsAreNotJobIds(parseJobUpdate('{"groups":["a","b"]}'), ['b'])).toThrow('job and group names must be unique but job [b] and group [b] have the same name');
    expect(() => checkGroupsAreNotJobIds(parseJobUpdate('{"groups":["a"]}'), ['b'])).not.toThrow();
  });
});

describe('applyJobUpdate: analysis_limits gate (step 6)', () => {
  it('refuses model_memory_limit while the job is exactly opened', () => {
    const e = expectEsError(() => apply(countJob(), '{"analysis_limits":{"model_memory_limit":"20mb"}}', ctx({ jobState: 'opened' })), {
      type: 'status_exception',
      status: 400,
      reason: 'Cannot update analysis_limits while the job is open',
    });
    expect(e.toBody().error.root_cause).toEqual([{ type: 'status_exception', reason: 'Cannot update analysis_limits while the job is open' }]);
  });

  it.each(['opening', 'closing', 'failed', 'closed'] as const)('lets a %s job change model_memory_limit', (state) => {
    expect(apply(countJob(), '{"analysis_limits":{"model_memory_limit":"20mb"}}', ctx({ jobState: state })).analysis_limits.model_memory_limit).toBe('20mb');
  });

  it('skips the gate for analysis_limits without model_memory_limit on an opened job', () => {
    const updated = apply(countJob(), '{"analysis_limits":{"categorization_examples_limit":10}}', ctx({ jobState: 'opened' }));
    expect(updated.analysis_limits).toEqual({ model_memory_limit: '1024mb', categorization_examples_limit: 10 });
  });

  it('goes 10mb → 20mb → 15mb while closed when usage is below 10mb', () => {
    const c = ctx({ modelBytes: 8 * MIB + 123 });
    const j10 = apply(countJob(), '{"analysis_limits":{"model_memory_limit":"10mb"}}', c);
    const j20 = apply(j10, '{"analysis_limits":{"model_memory_limit":"20mb"}}', c);
    const j15 = apply(j20, '{"analysis_limits":{"model_memory_limit":"15mb"}}', c);
    expect([j10, j20, j15].map((j) => j.analysis_limits.model_memory_limit)).toEqual(['10mb', '20mb', '15mb']);
  });

  it('refuses a limit below floor(model_bytes / 1 MiB) with human sizes', () => {
    expectEsError(() => apply(countJob(), '{"analysis_limits":{"model_memory_limit":"15mb"}}', ctx({ modelBytes: 20 * MIB + 5 })), {
      type: 'status_exception',
      status: 400,
      reason: 'Invalid update value for analysis_limits: model_memory_limit cannot be decreased below current usage; current usage [20mb], update had [15mb]',
    });
    expectEsError(() => apply(countJob(), '{"analysis_limits":{"model_memory_limit":1024}}', ctx({ modelBytes: 1536 * MIB })), {
      type: 'status_exception',
      reason: 'Invalid update value for analysis_limits: model_memory_limit cannot be decreased below current usage; current usage [1.5gb], update had [1gb]',
    });
  });

  it('accepts a limit equal to the floored usage', () => {
    expect(apply(countJob(), '{"analysis_limits":{"model_memory_limit":20}}', ctx({ modelBytes: 21 * MIB - 1 })).analysis_limits.model_memory_limit).toBe('20mb');
  });

  it('runs the open-job gate before the detector checks of the merge', () => {
    expectEsError(() => apply(countJob(), '{"detectors":[{"detector_index":5}],"analysis_limits":{"model_memory_limit":20}}', ctx({ jobState: 'opened' })), {
      type: 'status_exception',
      reason: 'Cannot update analysis_limits while the job is open',
    });
  });
});

describe('applyJobUpdate: analysis_limits merge', () => {
  it('resets a missing model_memory_limit to 1024mb, or to the max when that is smaller', () => {
    const base = apply(countJob(), '{"analysis_limits":{"model_memory_limit":"20mb"}}');
    expect(apply(base, '{"analysis_limits":{"categorization_examples_limit":7}}').analysis_limits).toEqual({
      model_memory_limit: '1024mb',
      categorization_examples_limit: 7,
    });
    expect(apply(base, '{"analysis_limits":{}}', ctx({ maxModelMemoryLimitMiB: 512 })).analysis_limits.model_memory_limit).toBe('512mb');
  });

  it('resets a missing categorization_examples_limit to 4', () => {
    const base = apply(countJob(), '{"analysis_limits":{"categorization_examples_limit":9}}');
    expect(apply(base, '{"analysis_limits":{"model_memory_limit":30}}').analysis_limits).toEqual({
      model_memory_limit: '30mb',
      categorization_examples_limit: 4,
    });
  });

  it('refuses a limit above xpack.ml.max_model_memory_limit and accepts an equal one', () => {
    expectEsError(() => apply(countJob(), '{"analysis_limits":{"model_memory_limit":"10g"}}', ctx({ maxModelMemoryLimitMiB: 9216 })), {
      type: 'status_exception',
      status: 400,
      reason: 'model_memory_limit [10gb] must be less than the value of the xpack.ml.max_model_memory_limit setting [9gb]',
    });
    expect(apply(countJob(), '{"analysis_limits":{"model_memory_limit":"9g"}}', ctx({ maxModelMemoryLimitMiB: 9216 })).analysis_limits.model_memory_limit).toBe('9216mb');
  });
});

describe('applyJobUpdate: detectors (step 7)', () => {
  it('refuses detector_index 5 of 2 with plain numbers', () => {
    expectEsError(() => apply(categorizationJob(), '{"detectors":[{"detector_index":5,"description":"x"}]}'), {
      type: 'status_exception',
      status: 400,
      reason: 'Supplied detector_index [5] is >= the number of detectors [2]',
    });
    expectEsError(() => apply(categorizationJob(), '{"detectors":[{"detector_index":1000}]}'), {
      type: 'status_exception',
      reason: 'Supplied detector_index [1000] is >= the number of detectors [2]',
    });
  });

  it('fails a negative detector_index as Java list access does (500)', () => {
    expectEsError(() => apply(categorizationJob(), '{"detectors":[{"detector_index":-1}]}'), {
      type: 'index_out_of_bounds_exception',
      status: 500,
      reason: 'Index -1 out of bounds for length 2',
    });
  });

  it('sets detector_description from description, keeps detector_index, and leaves a null description alone', () => {
    const updated = apply(categorizationJob(), '{"detectors":[{"detector_index":1,"description":"updated description"}]}');
    expect(updated.analysis_config.detectors[1]).toEqual({
      detector_description: 'updated description',
      function: 'count',
      by_field_name: 'mlcategory',
      detector_index: 1,
    });
    const same = apply(updated, '{"detectors":[{"detector_index":1,"description":null}]}');
    expect(same.analysis_config.detectors[1]?.detector_description).toBe('updated description');
  });

  it('replaces custom_rules (default action skip_result) and puts them before detector_index', () => {
    const updated = apply(categorizationJob(), '{"detectors":[{"detector_index":0,"custom_rules":[{"conditions":[{"applies_to":"actual","operator":"gt","value":10}]}]}]}');
    const d0 = updated.analysis_config.detectors[0];
    expect(JSON.stringify(d0)).toBe(
      '{"detector_description":"mean(responsetime) by airline","function":"mean","field_name":"responsetime","by_field_name":"airline","custom_rules":[{"actions":["skip_result"],"conditions":[{"applies_to":"actual","operator":"gt","value":10}]}],"detector_index":0}',
    );
    const replaced = apply(updated, '{"detectors":[{"detector_index":0,"custom_rules":[{"actions":["skip_model_update"],"scope":{"airline":{"filter_id":"safe"}}}]}]}');
    expect(replaced.analysis_config.detectors[0]?.custom_rules).toEqual([{ actions: ['skip_model_update'], scope: { airline: { filter_id: 'safe', filter_type: 'include' } } }]);
    expect(apply(replaced, '{"detectors":[{"detector_index":0,"custom_rules":[]}]}').analysis_config.detectors[0]).not.toHaveProperty('custom_rules');
  });

  it('revalidates a rule scope against the patched detector fields', () => {
    expectEsError(() => apply(categorizationJob(), '{"detectors":[{"detector_index":0,"custom_rules":[{"scope":{"x":{"filter_id":"f"}}}]}]}'), {
      type: 'status_exception',
      status: 400,
      reason: "Invalid detector rule: scope field 'x' is invalid; select from [airline]",
    });
    expectEsError(() => apply(countJob(), '{"detectors":[{"detector_index":0,"custom_rules":[{"scope":{"x":{"filter_id":"f"}}}]}]}'), {
      type: 'status_exception',
      reason: "Invalid detector rule: scope field 'x' is invalid; detector has no available fields for scoping",
    });
  });

  it('refuses a non-time condition for a function without rule condition support', () => {
    const rare = job({ analysis_config: { detectors: [{ function: 'rare', by_field_name: 'b' }] }, data_description: {} });
    expectEsError(() => apply(rare, '{"detectors":[{"detector_index":0,"custom_rules":[{"conditions":[{"applies_to":"actual","operator":"gt","value":1}]}]}]}'), {
      type: 'status_exception',
      reason: 'Invalid detector rule: function rare only supports conditions that apply to time',
    });
    const ok = apply(rare, '{"detectors":[{"detector_index":0,"custom_rules":[{"conditions":[{"applies_to":"time","operator":"gt","value":1}]}]}]}');
    expect(ok.analysis_config.detectors[0]?.custom_rules).toHaveLength(1);
  });

  it('patches the stored detector for each update, so a later update to the same index wins whole', () => {
    const updated = apply(
      categorizationJob(),
      '{"detectors":[{"detector_index":1,"description":"first"},{"detector_index":1,"custom_rules":[{"conditions":[{"applies_to":"time","operator":"gt","value":1}]}]}]}',
    );
    expect(updated.analysis_config.detectors[1]?.detector_description).toBe('count by mlcategory');
    expect(updated.analysis_config.detectors[1]?.custom_rules).toHaveLength(1);
  });

  it('checks the detector index before the max model memory limit', () => {
    expectEsError(() => apply(countJob(), '{"detectors":[{"detector_index":3}],"analysis_limits":{"model_memory_limit":"10g"}}', ctx({ maxModelMemoryLimitMiB: 100 })), {
      type: 'status_exception',
      reason: 'Supplied detector_index [3] is >= the number of detectors [1]',
    });
  });
});

describe('applyJobUpdate: analysis_config fields', () => {
  it('refuses changing per_partition_categorization.enabled and accepts keeping it', () => {
    expectEsError(() => apply(categorizationJob(), '{"per_partition_categorization":{"enabled":true}}'), {
      type: 'status_exception',
      status: 400,
      reason: 'analysis_config.per_partition_categorization.enabled cannot be updated',
    });
    expect(apply(categorizationJob(), '{"per_partition_categorization":{"enabled":false}}').analysis_config.per_partition_categorization).toEqual({
      enabled: false,
    });
    expect(apply(countJob(), '{"per_partition_categorization":{"enabled":false}}').analysis_config).not.toHaveProperty('per_partition_categorization');
  });

  it('refuses categorization_filters on a job whose categorization analyzer absorbed the filters', () => {
    expectEsError(() => apply(categorizationJob(), '{"categorization_filters":["foo.*"]}'), {
      type: 'status_exception',
      status: 400,
      reason: 'categorization_filters cannot be used with categorization_analyzer - instead specify them as pattern_replace char_filters in the analyzer',
    });
  });

  it('refuses categorization_filters on a job without a categorization field', () => {
    expectEsError(() => apply(countJob(), '{"categorization_filters":["foo.*"]}'), {
      type: 'status_exception',
      reason: 'categorization_filters require setting categorization_field_name',
    });
  });

  it('stores categorization_filters in analysis_config key order', () => {
    const updated = apply(countJob(), '{"categorization_filters":[]}');
    expect(Object.keys(updated.analysis_config)).toEqual(['bucket_span', 'categorization_filters', 'detectors', 'influencers']);
  });

  it.each([
    ['2m', '5m', 'model_prune_window [2m] must be a multiple of bucket_span [5m]'],
    ['5m', '5m', 'model_prune_window [5m] must be at least 2 times greater than bucket_span [5m]'],
    ['29m', '15m', 'model_prune_window [29m] must be a multiple of bucket_span [15m]'],
    ['15m', '15m', 'model_prune_window [15m] must be at least 2 times greater than bucket_span [15m]'],
    ['90m', '1h', 'model_prune_window [1.5h] must be a multiple of bucket_span [1h]'],
  ])('refuses model_prune_window %s with bucket_span %s as a 400 status_exception', (pw, bs, reason) => {
    expectEsError(() => apply(countJob({}, { bucket_span: bs }), `{"model_prune_window":"${pw}"}`), {
      type: 'status_exception',
      status: 400,
      reason,
    });
  });

  it('stores model_prune_window in its unit after the other analysis_config keys', () => {
    const updated = apply(countJob(), '{"model_prune_window":"60d"}');
    expect(updated.analysis_config.bucket_span).toBe('5m');
    expect(updated.analysis_config.model_prune_window).toBe('60d');
    expect(Object.keys(updated.analysis_config).at(-1)).toBe('model_prune_window');
    expect(apply(updated, '{"model_prune_window":"12h"}').analysis_config.model_prune_window).toBe('12h');
  });

  it('checks model_prune_window (analysis config) before background_persist_interval (job fields)', () => {
    expectEsError(() => apply(countJob(), '{"background_persist_interval":"30m","model_prune_window":"2m"}'), {
      type: 'status_exception',
      reason: 'model_prune_window [2m] must be a multiple of bucket_span [5m]',
    });
  });
});

describe('applyJobUpdate: job fields (step 8)', () => {
  it('refuses background_persist_interval 30m with grouped numbers', () => {
    expectEsError(() => apply(countJob(), '{"background_persist_interval":"30m"}'), {
      type: 'illegal_argument_exception',
      status: 400,
      reason: 'background_persist_interval cannot be less than 3,600. Value = 1,800',
    });
  });

  it('refuses a background_persist_interval that is not whole seconds', () => {
    expectEsError(() => apply(countJob(), '{"background_persist_interval":"3601500ms"}'), {
      type: 'illegal_argument_exception',
      reason: "background_persist_interval has to be a multiple of 1s; actual was '1h'",
    });
  });

  it('judges "-1s" as the -1 seconds it parsed to, not as the "-1" it would echo', () => {
    expectEsError(() => apply(countJob(), '{"background_persist_interval":"-1s"}'), {
      type: 'illegal_argument_exception',
      reason: 'background_persist_interval cannot be less than 3,600. Value = -1',
    });
    expectEsError(() => apply(countJob(), '{"background_persist_interval":"-1h"}'), {
      type: 'illegal_argument_exception',
      reason: 'background_persist_interval cannot be less than 3,600. Value = -3,600',
    });
  });

  it('sets and replaces system_annotations_retention_days, and lists it in the audit message', () => {
    const once = apply(countJob(), '{"system_annotations_retention_days":3}');
    expect(once.system_annotations_retention_days).toBe(3);
    expect(jobConfigView(once).system_annotations_retention_days).toBe(3);
    expect(apply(once, '{"description":"d"}').system_annotations_retention_days).toBe(3);
    expect(apply(once, '{"system_annotations_retention_days":0}').system_annotations_retention_days).toBe(0);
    expect(jobUpdatedAuditMessage(parseJobUpdate('{"system_annotations_retention_days":3}'))).toBe('Job updated: [system_annotations_retention_days]');
  });

  it('echoes background_persist_interval in the unit given', () => {
    expect(apply(countJob(), '{"background_persist_interval":"3h"}').background_persist_interval).toBe('3h');
    expect(apply(countJob(), '{"background_persist_interval":"3600s"}').background_persist_interval).toBe('3600s');
  });

  it.each([
    'renormalization_window_days',
    'results_retention_days',
    'system_annotations_retention_days',
    'model_snapshot_retention_days',
    'daily_model_snapshot_retention_after_days',
  ])('refuses a negative %s', (field) => {
    expectEsError(() => apply(countJob(), `{"${field}":-1}`), {
      type: 'illegal_argument_exception',
      status: 400,
      reason: `${field} cannot be less than 0. Value = -1`,
    });
  });

  it('refuses daily 31 while retention is 30', () => {
    const base = countJob({ model_snapshot_retention_days: 30, daily_model_snapshot_retention_after_days: 2 });
    const e = expectEsError(() => apply(base, '{"daily_model_snapshot_retention_after_days":31}'), {
      type: 'illegal_argument_exception',
      status: 400,
      reason: 'The value of daily_model_snapshot_retention_after_days [31] cannot be greater than model_snapshot_retention_days [30]',
    });
    expect(e.toBody()).toEqual({
      error: {
        root_cause: [
          {
            type: 'illegal_argument_exception',
            reason: 'The value of daily_model_snapshot_retention_after_days [31] cannot be greater than model_snapshot_retention_days [30]',
          },
        ],
        type: 'illegal_argument_exception',
        reason: 'The value of daily_model_snapshot_retention_after_days [31] cannot be greater than model_snapshot_retention_days [30]',
      },
      status: 400,
    });
  });

  it('refuses retention 1 while daily is 2', () => {
    const base = countJob({ model_snapshot_retention_days: 30, daily_model_snapshot_retention_after_days: 2 });
    expectEsError(() => apply(base, '{"model_snapshot_retention_days":1}'), {
      type: 'illegal_argument_exception',
      reason: 'The value of daily_model_snapshot_retention_after_days [2] cannot be greater than model_snapshot_retention_days [1]',
    });
  });

  it('groups retention numbers of 1000 and more in the message', () => {
    expectEsError(() => apply(countJob(), '{"model_snapshot_retention_days":1000,"daily_model_snapshot_retention_after_days":1001}'), {
      type: 'illegal_argument_exception',
      reason: 'The value of daily_model_snapshot_retention_after_days [1,001] cannot be greater than model_snapshot_retention_days [1,000]',
    });
  });
});

describe('applyJobUpdate: simple replacements', () => {
  it('replaces custom_settings whole instead of merging', () => {
    const base = countJob({ custom_settings: { setting1: 'custom1', setting2: 'custom2' } });
    expect(apply(base, '{"custom_settings":{"setting3":"custom3"}}').custom_settings).toEqual({ setting3: 'custom3' });
  });

  it('treats description null as no change and a string as the new description', () => {
    const base = countJob({ description: 'before' });
    expect(apply(base, '{"description":null}').description).toBe('before');
    expect(apply(base, '{"description":"after"}').description).toBe('after');
  });

  it('replaces model_plot_config whole and sets allow_lazy_open', () => {
    const base = countJob({ model_plot_config: { enabled: true, terms: 'a' } });
    const updated = apply(base, '{"model_plot_config":{"enabled":true},"allow_lazy_open":true}');
    expect(updated.model_plot_config).toEqual({ enabled: true, annotations_enabled: true });
    expect(updated.allow_lazy_open).toBe(true);
  });

  it('ignores job_id in the body', () => {
    expect(apply(countJob(), '{"job_id":"someone-else","description":"d"}').job_id).toBe('upd-job');
  });

  it('returns the job unchanged for an empty update', () => {
    const base = countJob();
    expect(apply(base, '{}')).toEqual(base);
  });

  it('does not modify its input, whether it succeeds or fails', () => {
    const base = categorizationJob({ custom_settings: { a: { b: 1 } } });
    const snapshot = structuredClone(base);
    const updated = apply(
      base,
      '{"custom_settings":{"x":1},"detectors":[{"detector_index":0,"custom_rules":[{"conditions":[{"applies_to":"actual","operator":"gt","value":1}]}]}]}',
    );
    (updated.analysis_config.detectors[1] as { detector_description: string }).detector_description = 'mutated';
    expect(() => apply(base, '{"description":"x","background_persist_interval":"30m"}')).toThrow();
    expect(base).toEqual(snapshot);
  });

  it('produces keys in Elasticsearch job order when a new top-level field appears', () => {
    const updated = apply(countJob(), '{"renormalization_window_days":10,"model_plot_config":{"enabled":false},"description":"d","groups":["g"]}');
    expect(JSON.stringify(updated)).toBe(JSON.stringify(jobConfigView(updated)));
    expect(Object.keys(updated).indexOf('description')).toBeLessThan(Object.keys(updated).indexOf('analysis_config'));
    expect(Object.keys(updated).indexOf('model_plot_config')).toBeLessThan(Object.keys(updated).indexOf('renormalization_window_days'));
  });
});

describe('applyJobUpdate: the jobs_crud "Test update job" sequence', () => {
  const seed = (): JobConfig =>
    categorizationJob(
      {
        groups: ['group-1', 'group-2'],
        description: 'Pre update description',
        model_plot_config: { enabled: true },
        renormalization_window_days: 1,
        background_persist_interval: '2h',
        model_snapshot_retention_days: 3,
        daily_model_snapshot_retention_after_days: 2,
        results_retention_days: 4,
        custom_settings: { setting1: 'custom1', setting2: 'custom2' },
      },
      { categorization_filters: ['cat1.*', 'cat2.*'] },
    );
  const bigUpdate = JSON.stringify({
    groups: ['group-1', 'group-3'],
    description: 'Post update description',
    detectors: [
      { detector_index: 0, custom_rules: [{ conditions: [{ applies_to: 'actual', operator: 'gt', value: 10 }] }] },
      { detector_index: 1, description: 'updated description' },
    ],
    model_plot_config: { enabled: false, terms: 'foobar' },
    model_prune_window: '60d',
    renormalization_window_days: 10,
    background_persist_interval: '3h',
    model_snapshot_retention_days: 30,
    results_retention_days: 40,
    custom_settings: { setting3: 'custom3' },
  });

  it('applies the big update to an opened job and echoes the representative values', () => {
    const updated = apply(seed(), bigUpdate, ctx({ jobState: 'opened' }));
    expect(updated.groups).toEqual(['group-1', 'group-3']);
    expect(updated.description).toBe('Post update description');
    expect(updated.model_plot_config).toEqual({ enabled: false, terms: 'foobar', annotations_enabled: false });
    expect(updated.renormalization_window_days).toBe(10);
    expect(updated.background_persist_interval).toBe('3h');
    expect(updated.model_snapshot_retention_days).toBe(30);
    expect(updated.daily_model_snapshot_retention_after_days).toBe(2);
    expect(updated.results_retention_days).toBe(40);
    expect(updated.custom_settings).toEqual({ setting3: 'custom3' });
    expect(updated.analysis_config.bucket_span).toBe('5m');
    expect(updated.analysis_config.model_prune_window).toBe('60d');
    expect(updated.analysis_config.detectors[0]?.custom_rules?.[0]?.actions).toEqual(['skip_result']);
    expect(updated.analysis_config.detectors[0]?.detector_index).toBe(0);
    expect(updated.analysis_config.detectors[1]?.detector_description).toBe('updated description');
    expect(updated.analysis_config.detectors[1]?.detector_index).toBe(1);
  });

  it('then follows the YAML steps: limits while open, 20mb, 12h, 5m, 2m, 8w, 15mb, daily 31, retention 1', () => {
    let j = apply(seed(), bigUpdate, ctx({ jobState: 'opened' }));
    expect(() => apply(j, '{"analysis_limits":{"model_memory_limit":"20mb"}}', ctx({ jobState: 'opened' }))).toThrow('Cannot update analysis_limits while the job is open');
    j = apply(j, '{"analysis_limits":{"model_memory_limit":"20mb"}}');
    expect(j.analysis_limits.model_memory_limit).toBe('20mb');
    j = apply(j, '{"model_prune_window":"12h"}');
    expect(j.analysis_config.model_prune_window).toBe('12h');
    expect(() => apply(j, '{"model_prune_window":"5m"}')).toThrow('model_prune_window [5m] must be at least 2 times greater than bucket_span [5m]');
    expect(() => apply(j, '{"model_prune_window":"2m"}')).toThrow('model_prune_window [2m] must be a multiple of bucket_span [5m]');
    expect(() => apply(j, '{"model_prune_window":"8w"}')).toThrow(/\[job_update\] failed to parse field \[model_prune_window\]|failed to build \[job_update\]/);
    j = apply(j, '{"analysis_limits":{"model_memory_limit":"15mb"}}');
    expect(j.analysis_limits.model_memory_limit).toBe('15mb');
    expect(() => apply(j, '{"daily_model_snapshot_retention_after_days":31}')).toThrow(
      'The value of daily_model_snapshot_retention_after_days [31] cannot be greater than model_snapshot_retention_days [30]',
    );
    expect(() => apply(j, '{"model_snapshot_retention_days":1}')).toThrow(
      'The value of daily_model_snapshot_retention_after_days [2] cannot be greater than model_snapshot_retention_days [1]',
    );
  });
});

describe('updatedFieldNames, audit text and live fields', () => {
  it('lists the fields present, sorted, without job_id or a null description', () => {
    const u = parseJobUpdate('{"job_id":"x","groups":["g"],"description":null,"analysis_limits":{},"model_prune_window":"1d","detectors":[]}');
    expect(updatedFieldNames(u)).toEqual(['analysis_limits', 'detectors', 'groups', 'model_prune_window']);
  });

  it('formats the audit message like a Java set', () => {
    expect(jobUpdatedAuditMessage(parseJobUpdate('{"groups":["g"],"description":"d","analysis_limits":{}}'))).toBe('Job updated: [analysis_limits, description, groups]');
    expect(jobUpdatedAuditMessage(parseJobUpdate('{}'))).toBe('Job updated: []');
  });

  it('names the fields that reach a running process', () => {
    expect([...LIVE_UPDATE_FIELDS]).toEqual(['detectors', 'groups', 'model_plot_config', 'per_partition_categorization']);
    expect(isLiveProcessUpdate(parseJobUpdate('{"groups":[]}'))).toBe(true);
    expect(isLiveProcessUpdate(parseJobUpdate('{"description":"d","background_persist_interval":"2h"}'))).toBe(false);
  });
});
