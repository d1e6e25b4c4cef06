import { describe, expect, it } from 'vitest';
import { ConflictError, IllegalArgumentError, ResourceNotFoundError, StatusError, XContentParseError } from '../../../lib/domain/errors.ts';

describe('Elasticsearch error bodies', () => {
  it('a plain error is its own root cause', () => {
    expect(new ResourceNotFoundError("No known job with id 'foo'").toBody()).toEqual({
      error: {
        root_cause: [{ type: 'resource_not_found_exception', reason: "No known job with id 'foo'" }],
        type: 'resource_not_found_exception',
        reason: "No known job with id 'foo'",
      },
      status: 404,
    });
  });

  it('a wrapped error nests caused_by and picks the innermost as root cause', () => {
    const inner = new StatusError(400, 'Invalid detector rule: at least scope or a condition is required');
    const mid = new XContentParseError('[1:40] [detector_update] failed to parse field [custom_rules]', { cause: inner });
    const top = new XContentParseError('[1:14] [job_update] failed to parse field [detectors]', { cause: mid });
    const body = top.toBody();
    expect(body.status).toBe(400);
    expect(body.error.root_cause).toEqual([{ type: 'status_exception', reason: 'Invalid detector rule: at least scope or a condition is required' }]);
    expect(body.error.caused_by?.caused_by?.type).toBe('status_exception');
    expect(body.error.type).toBe('x_content_parse_exception');
  });

  it('carries the status of its class', () => {
    expect(new ConflictError('x').status).toBe(409);
    expect(new IllegalArgumentError('x').toBody().error.type).toBe('illegal_argument_exception');
  });
});
