import { describe, expect, it } from 'vitest';
import { applyFilterPath, compileFilterPath } from '../../../lib/http/filter-path.ts';

const filter = (body: unknown, value: string) => applyFilterPath(body, compileFilterPath(value)!);

const jobs = {
  count: 2,
  jobs: [
    { job_id: 'a', analysis_config: { bucket_span: '15m', detectors: [{ function: 'count' }] }, groups: [] },
    { job_id: 'b', analysis_config: { bucket_span: '1h', detectors: [] }, groups: ['g'] },
  ],
};

describe('filter_path', () => {
  it('is absent for an empty value', () => {
    expect(compileFilterPath(undefined)).toBeUndefined();
    expect(compileFilterPath(' , ')).toBeUndefined();
  });

  it('keeps listed paths through arrays, dropping what matched nothing', () => {
    expect(filter(jobs, 'jobs.job_id')).toEqual({ jobs: [{ job_id: 'a' }, { job_id: 'b' }] });
    expect(filter(jobs, 'count, jobs.analysis_config.bucket_span')).toEqual({
      count: 2,
      jobs: [{ analysis_config: { bucket_span: '15m' } }, { analysis_config: { bucket_span: '1h' } }],
    });
  });

  it('keeps a matched value whole, even an empty array', () => {
    expect(filter(jobs, 'jobs.groups')).toEqual({ jobs: [{ groups: [] }, { groups: ['g'] }] });
  });

  it('matches * inside a segment and ** across levels', () => {
    expect(filter(jobs, 'jobs.job_*')).toEqual({ jobs: [{ job_id: 'a' }, { job_id: 'b' }] });
    expect(filter(jobs, '**.function')).toEqual({ jobs: [{ analysis_config: { detectors: [{ function: 'count' }] } }] });
    expect(filter({ a: { b: { c: 1 } }, d: 2 }, 'a.**')).toEqual({ a: { b: { c: 1 } } });
  });

  it('answers {} when nothing matches', () => {
    expect(filter(jobs, 'nope')).toEqual({});
  });

  it('drops scalars of an array reached by a partial path', () => {
    expect(filter({ a: [1, { b: 2 }] }, 'a.b')).toEqual({ a: [{ b: 2 }] });
  });

  it('excludes with -, dropping containers the exclusion emptied but keeping ones empty before', () => {
    expect(filter(jobs, '-jobs.analysis_config,-count')).toEqual({
      jobs: [
        { job_id: 'a', groups: [] },
        { job_id: 'b', groups: ['g'] },
      ],
    });
    expect(filter({ a: { b: 1 }, c: {} }, '-a.b')).toEqual({ c: {} });
  });

  it('applies inclusions first, then exclusions', () => {
    expect(filter(jobs, 'jobs.analysis_config,-**.detectors')).toEqual({
      jobs: [{ analysis_config: { bucket_span: '15m' } }, { analysis_config: { bucket_span: '1h' } }],
    });
  });
});
