import { describe, expect, it } from 'vitest';
import {
  applyFilterUpdate,
  checkFilterDocumentId,
  filterExistsError,
  filterInUseError,
  filtersUsedBy,
  filterView,
  MAX_FILTER_ITEMS,
  parseFilterUpdate,
  parsePutFilter,
  unknownFilterError,
  type MlFilter,
} from '../../../lib/domain/filter.ts';
import { buildJobConfig } from '../../../lib/domain/job/put-job.ts';
import { catchEs, expectEsError } from './es-error.ts';

const items = (n: number, prefix = 'item-'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('parsePutFilter', () => {
  it('stores items as a sorted set in UTF-16 code unit order', () => {
    const f = parsePutFilter('f', JSON.stringify({ items: ['b', 'a', 'B', 'b', '\u{1F600}', '\uFF5E', ''] }));
    // Java String.compareTo: the surrogate pair of U+1F600 (0xD83D…) sorts before U+FF5E.
    expect(f.items).toEqual(['', 'B', 'a', 'b', '\u{1F600}', '\uFF5E']);
  });

  it('takes the id from the path and keeps a description', () => {
    expect(parsePutFilter('safe_domains', '{"description":"A list of safe domains","items":["*.google.com","wikipedia.org"]}')).toEqual({
      filter_id: 'safe_domains',
      description: 'A list of safe domains',
      items: ['*.google.com', 'wikipedia.org'],
    });
  });

  it('has no description key when none (or null) is given, and no items means an empty list', () => {
    expect(parsePutFilter('f', '{}')).toEqual({ filter_id: 'f', items: [] });
    expect(parsePutFilter('f', '{"description":null,"items":"one"}')).toEqual({ filter_id: 'f', items: ['one'] });
  });

  it('accepts a body filter_id equal to the path id and a type marker', () => {
    expect(parsePutFilter('f', '{"filter_id":"f","type":"filter","items":[]}')).toEqual({ filter_id: 'f', items: [] });
  });

  it('refuses a body filter_id that differs from the path', () => {
    expectEsError(() => parsePutFilter('url-id', '{"filter_id":"body-id"}'), {
      type: 'illegal_argument_exception',
      status: 400,
      reason: "Inconsistent filter_id; 'body-id' specified in the body differs from 'url-id' specified as a URL argument",
    });
  });

  it('refuses an invalid id with a 400 status_exception', () => {
    expectEsError(() => parsePutFilter('Bad_Id', '{"items":[]}'), {
      type: 'status_exception',
      status: 400,
      reason: "Invalid filter_id; 'Bad_Id' can contain lowercase alphanumeric (a-z and 0-9), hyphens or underscores; must start and end with alphanumeric",
    });
    expectEsError(() => parsePutFilter('_all', '{}'), { type: 'status_exception', reason: /^Invalid filter_id; '_all'/ });
  });

  it('checks the id mismatch before the id validity', () => {
    expectEsError(() => parsePutFilter('ok', '{"filter_id":"Bad"}'), { type: 'illegal_argument_exception', reason: /^Inconsistent filter_id/ });
  });

  it('allows 10,000 distinct items and refuses 10,001', () => {
    expect(parsePutFilter('f', JSON.stringify({ items: items(MAX_FILTER_ITEMS) })).items).toHaveLength(10000);
    expectEsError(() => parsePutFilter('f', JSON.stringify({ items: items(MAX_FILTER_ITEMS + 1) })), {
      type: 'status_exception',
      status: 400,
      reason: 'Filter [f] contains too many items; up to [10,000] items are allowed',
    });
  });

  it('counts items after removing duplicates', () => {
    expect(parsePutFilter('f', JSON.stringify({ items: [...items(MAX_FILTER_ITEMS), 'item-0'] })).items).toHaveLength(10000);
  });

  it('refuses an unknown field under the parser name [type], with a suggestion when close', () => {
    expectEsError(() => parsePutFilter('f', '{"foo":1}'), {
      type: 'x_content_parse_exception',
      status: 400,
      reason: '[1:2] [type] unknown field [foo]',
    });
    expectEsError(() => parsePutFilter('f', '{"item":["a"]}'), {
      type: 'x_content_parse_exception',
      reason: '[1:2] [type] unknown field [item] did you mean [items]?',
    });
  });

  it('refuses null items as a token type error', () => {
    expectEsError(() => parsePutFilter('f', '{"items":null}'), {
      type: 'x_content_parse_exception',
      reason: "[1:10] [type] items doesn't support values of type: VALUE_NULL",
    });
  });

  it('refuses an empty body', () => {
    expectEsError(() => parsePutFilter('f', ''), {
      type: 'parse_exception',
      status: 400,
      reason: 'request body or source parameter is required',
    });
  });
});

describe('parseFilterUpdate', () => {
  it('reads description, add_items and remove_items', () => {
    expect(parseFilterUpdate('{"description":"d","add_items":["a"],"remove_items":"b"}')).toEqual({
      description: 'd',
      add_items: ['a'],
      remove_items: ['b'],
    });
  });

  it('refuses an unknown field under the action name', () => {
    expectEsError(() => parseFilterUpdate('{"items":["a"]}'), {
      type: 'x_content_parse_exception',
      status: 400,
      reason: '[1:2] [cluster:admin/xpack/ml/filters/update] unknown field [items] did you mean [add_items]?',
    });
  });

  it('refuses a body filter_id that differs from the path', () => {
    expect(parseFilterUpdate('{"filter_id":"f"}', 'f')).toEqual({ filter_id: 'f' });
    expectEsError(() => parseFilterUpdate('{"filter_id":"g"}', 'f'), {
      type: 'illegal_argument_exception',
      reason: "Inconsistent filter_id; 'g' specified in the body differs from 'f' specified as a URL argument",
    });
  });

  it('refuses an empty body', () => {
    expectEsError(() => parseFilterUpdate(''), { type: 'parse_exception', reason: 'request body or source parameter is required' });
  });
});

describe('applyFilterUpdate', () => {
  const base: MlFilter = { filter_id: 'safe', description: 'old', items: ['a', 'c'] };

  it('adds then removes, keeping the set sorted, and replaces the description', () => {
    expect(applyFilterUpdate(base, { description: 'new', add_items: ['d', 'b', 'a'], remove_items: ['c'] })).toEqual({
      filter_id: 'safe',
      description: 'new',
      items: ['a', 'b', 'd'],
    });
  });

  it('lets an item added by the same request be removed', () => {
    expect(applyFilterUpdate(base, { add_items: ['x'], remove_items: ['x'] }).items).toEqual(['a', 'c']);
  });

  it('keeps the description when the update has none or null', () => {
    expect(applyFilterUpdate(base, { description: null, add_items: ['b'] }).description).toBe('old');
  });

  it('refuses removing an absent item, naming the first missing one in sorted order', () => {
    expectEsError(() => applyFilterUpdate(base, { remove_items: ['z', 'y', 'a'] }), {
      type: 'status_exception',
      status: 400,
      reason: 'Cannot remove item [y] as it is not present in filter [safe]',
    });
  });

  it('refuses an update that would exceed 10,000 items', () => {
    const full: MlFilter = { filter_id: 'big', items: items(MAX_FILTER_ITEMS).sort() };
    expectEsError(() => applyFilterUpdate(full, { add_items: ['another'] }), {
      type: 'status_exception',
      status: 400,
      reason: 'Filter [big] contains too many items; up to [10,000] items are allowed',
    });
    expect(applyFilterUpdate(full, { add_items: ['another'], remove_items: ['item-1'] }).items).toHaveLength(10000);
  });

  it('returns the filter unchanged for an empty update and does not modify its input', () => {
    const snapshot = structuredClone(base);
    expect(applyFilterUpdate(base, {})).toEqual(base);
    applyFilterUpdate(base, { add_items: ['q'], remove_items: ['a'] });
    expect(base).toEqual(snapshot);
  });

  it('drops the description key when the filter had none', () => {
    expect(applyFilterUpdate({ filter_id: 'f', items: [] }, { add_items: ['a'] })).toEqual({ filter_id: 'f', items: ['a'] });
  });
});

describe('filter errors', () => {
  it('refuses deleting a filter in use with a 409 listing the jobs like a Java list', () => {
    const e = filterInUseError('safe_domains', ['job-a', 'job-b']);
    expect(e.type).toBe('status_exception');
    expect(e.status).toBe(409);
    expect(e.message).toBe('Cannot delete filter [safe_domains] currently used by jobs [job-a, job-b]');
  });

  it('gives each filter API its own not-found text, all 404 resource_not_found_exception', () => {
    const texts = (['update', 'get', 'delete'] as const).map((op) => {
      const e = unknownFilterError('nope', op);
      expect(e.type).toBe('resource_not_found_exception');
      expect(e.status).toBe(404);
      return e.message;
    });
    expect(texts).toEqual(['No filter with id [nope] exists', 'Unable to find filter [nope]', 'Could not delete filter with ID [nope] because it does not exist']);
    expect(unknownFilterError('nope').message).toBe('No filter with id [nope] exists');
  });

  it('reports a taken id as resource_already_exists_exception', () => {
    const e = catchEs(() => {
      throw filterExistsError('f');
    });
    expect(e.type).toBe('resource_already_exists_exception');
    expect(e.status).toBe(400);
    expect(e.message).toBe('A filter with id [f] already exists');
  });
});

describe('filtersUsedBy and filterView', () => {
  it('lists the filter ids referenced by any rule scope, sorted and deduplicated', () => {
    const job = buildJobConfig(
      'j',
      {
        analysis_config: {
          detectors: [
            {
              function: 'count',
              by_field_name: 'b',
              partition_field_name: 'p',
              custom_rules: [{ scope: { b: { filter_id: 'zeta' }, p: { filter_id: 'alpha', filter_type: 'exclude' } } }],
            },
            { function: 'count', by_field_name: 'c', custom_rules: [{ scope: { c: { filter_id: 'zeta' } } }] },
            { function: 'count', custom_rules: [{ conditions: [{ applies_to: 'time', operator: 'gt', value: 1 }] }] },
          ],
        },
        data_description: {},
      },
      { nowMs: 0 },
    );
    expect(filtersUsedBy(job)).toEqual(['alpha', 'zeta']);
    expect(filtersUsedBy(buildJobConfig('k', { analysis_config: { detectors: [{ function: 'count' }] }, data_description: {} }, { nowMs: 0 }))).toEqual([]);
  });

  it('shows filter_id, description (only when present) and items, in that order', () => {
    expect(JSON.stringify(filterView({ filter_id: 'f', description: 'd', items: ['a'] }))).toBe('{"filter_id":"f","description":"d","items":["a"]}');
    expect(JSON.stringify(filterView({ filter_id: 'f', items: [] }))).toBe('{"filter_id":"f","items":[]}');
  });
});

describe('checkFilterDocumentId (IndexRequest.validate on the document filter_<id>)', () => {
  it('accepts an id whose document id is 512 bytes', () => {
    expect(() => checkFilterDocumentId('a'.repeat(505))).not.toThrow();
  });

  it('refuses a longer one as TransportPutFilterAction reports the index failure: a 500 caused by the validation error', () => {
    const id = 'a'.repeat(506);
    const body = catchEs(() => checkFilterDocumentId(id)).toBody();
    expect(body).toEqual({
      status: 500,
      error: {
        root_cause: [{ type: 'status_exception', reason: `Error putting filter with id [${id}]` }],
        type: 'status_exception',
        reason: `Error putting filter with id [${id}]`,
        caused_by: {
          type: 'action_request_validation_exception',
          reason: `Validation Failed: 1: id [filter_${id}] is too long, must be no longer than 512 bytes but was: 513;`,
        },
      },
    });
  });
});
