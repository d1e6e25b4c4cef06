import { describe, expect, it } from 'vitest';
import { expandIds, simpleMatch, tokenizeExpression, unknownJobError, validateGroupId, validateJobId } from '../../../lib/domain/ids.ts';
import { expectEsError } from './es-error.ts';

const invalidJob = (id: string): string => `Invalid job_id; '${id}' can contain lowercase alphanumeric (a-z and 0-9), hyphens or underscores; must start and end with alphanumeric`;

describe('validateJobId (spec A.0)', () => {
  it.each(['a', 'job-1', 'job_1', 'a.b', '0', 'x'.repeat(64)])('accepts %j', (id) => {
    expect(() => validateJobId(id)).not.toThrow();
  });

  it.each(['_all', 'Job', '-a', 'a-', 'a b', '', '.a', 'a.', 'é', '*'])('refuses %j', (id) => {
    expectEsError(() => validateJobId(id), { type: 'illegal_argument_exception', status: 400, reason: invalidJob(id) });
  });

  it('refuses ids longer than 64 characters after the pattern check', () => {
    expectEsError(() => validateJobId('x'.repeat(65)), {
      type: 'illegal_argument_exception',
      reason: 'The job id cannot contain more than 64 characters.',
    });
  });

  it('reports the pattern error first for a long invalid id', () => {
    const id = `${'x'.repeat(65)}-`;
    expectEsError(() => validateJobId(id), { type: 'illegal_argument_exception', reason: invalidJob(id) });
  });
});

describe('validateGroupId', () => {
  it('accepts a valid group name', () => {
    expect(() => validateGroupId('group-1')).not.toThrow();
  });

  it('refuses an invalid group name with the group text', () => {
    expectEsError(() => validateGroupId('Bad'), {
      type: 'illegal_argument_exception',
      reason: "Invalid group id 'Bad'; must be non-empty string and may contain lowercase alphanumeric (a-z and 0-9), hyphens or underscores; must start and end with alphanumeric",
    });
  });
});

describe('expandIds (spec A.0 expansion of id expressions)', () => {
  const jobs = [{ id: 'foo-1', groups: ['g-foo'] }, { id: 'foo-2', groups: ['g-foo', 'shared'] }, { id: 'bar-1', groups: ['shared'] }, { id: 'baz' }];

  it('splits on commas, trims and drops empty tokens', () => {
    expect(tokenizeExpression(' a , ,b,')).toEqual(['a', 'b']);
  });

  it.each(['_all', '*', '', ' , '])('expands %j to every id, sorted', (expr) => {
    expect(expandIds(expr, jobs, { allowNoMatch: true })).toEqual({ ids: ['bar-1', 'baz', 'foo-1', 'foo-2'], missing: [] });
  });

  it('matches wildcards against ids and group names', () => {
    expect(expandIds('*-1', jobs, { allowNoMatch: true }).ids).toEqual(['bar-1', 'foo-1']);
    expect(expandIds('g-*', jobs, { allowNoMatch: true }).ids).toEqual(['foo-1', 'foo-2']);
  });

  it('expands a plain group name to its members', () => {
    expect(expandIds('shared', jobs, { allowNoMatch: false })).toEqual({ ids: ['bar-1', 'foo-2'], missing: [] });
  });

  it('deduplicates jobs matched by several tokens', () => {
    expect(expandIds('foo-1,g-foo,foo*', jobs, { allowNoMatch: true }).ids).toEqual(['foo-1', 'foo-2']);
  });

  it('requires plain tokens to match whatever allow_no_match says', () => {
    expect(expandIds('foo-1,nope', jobs, { allowNoMatch: true })).toEqual({ ids: ['foo-1'], missing: ['nope'] });
  });

  it('lets unmatched wildcards pass only with allow_no_match', () => {
    expect(expandIds('missing-*', jobs, { allowNoMatch: true })).toEqual({ ids: [], missing: [] });
    expect(expandIds('missing-*', jobs, { allowNoMatch: false })).toEqual({ ids: [], missing: ['missing-*'] });
  });

  it('shows * for _all when nothing exists and allow_no_match is false', () => {
    expect(expandIds('_all', [], { allowNoMatch: false })).toEqual({ ids: [], missing: ['*'] });
    expect(expandIds('_all', [], { allowNoMatch: true })).toEqual({ ids: [], missing: [] });
  });

  it('lists every unmatched token in expression order', () => {
    expect(expandIds('x,foo-1,y*,z', jobs, { allowNoMatch: false }).missing).toEqual(['x', 'y*', 'z']);
  });

  it('treats only * as special in wildcards', () => {
    expect(simpleMatch('a.b*', 'a.bc')).toBe(true);
    expect(simpleMatch('a.b*', 'axbc')).toBe(false);
    expect(simpleMatch('*', '')).toBe(true);
  });
});

describe('unknownJobError', () => {
  it('is a 404 resource_not_found_exception joining the tokens with commas', () => {
    const e = unknownJobError(['missing-*', 'x']);
    expect(e.type).toBe('resource_not_found_exception');
    expect(e.status).toBe(404);
    expect(e.message).toBe("No known job with id 'missing-*,x'");
  });
});
