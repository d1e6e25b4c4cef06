import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { DeleteExpiredDataRequest } from '../../../lib/app/maintenance.ts';
import { EsError } from '../../../lib/domain/errors.ts';
import type { HttpRequest } from '../../../lib/http/chain.ts';

const calls: DeleteExpiredDataRequest[] = [];
vi.mock('../../../lib/app/maintenance.ts', () => ({
  deleteExpiredData: async (req: DeleteExpiredDataRequest) => {
    calls.push(req);
    return { kind: 'done', response: { deleted: true } };
  },
}));
const { deleteExpiredDataRoute } = await import('../../../lib/http/routes/delete-expired-data.ts');

const request = (opts: { jobId?: string; query?: Record<string, string>; body?: string }): HttpRequest =>
  ({ pathParams: opts.jobId ? { job_id: opts.jobId } : {}, query: opts.query ?? {}, body: opts.body, receivedMs: 0 }) as unknown as HttpRequest;

async function error(req: HttpRequest): Promise<{ status: number; type: string; reason: string }> {
  try {
    await deleteExpiredDataRoute.handle(req);
  } catch (e) {
    expect(e).toBeInstanceOf(EsError);
    const err = e as EsError;
    return { status: err.status, type: err.type, reason: err.message };
  }
  throw new Error('expected an error');
}

describe('DELETE _ml/_delete_expired_data parameters', () => {
  beforeEach(() => {
    calls.length = 0;
  });

  it('reads requests_per_second and timeout from the query when there is no body', async () => {
    expect(await deleteExpiredDataRoute.handle(request({ jobId: 'a*', query: { requests_per_second: '100000.0', timeout: '10h' } }))).toEqual({
      status: 200,
      body: { deleted: true },
    });
    expect(calls[0]?.jobId).toBe('a*');
    expect(calls[0]?.requestsPerSecond).toBe(100000);
    expect(calls[0]?.timeout?.ms).toBe(36_000_000);
  });

  it('with a body reads only the body, where job_id names the jobs unless the path does', async () => {
    await deleteExpiredDataRoute.handle(request({ query: { requests_per_second: '5' }, body: '{"timeout":"1h","requests_per_second":"-1","job_id":"b"}' }));
    expect(calls[0]).toMatchObject({ jobId: 'b', requestsPerSecond: -1 });
    expect(calls[0]?.timeout?.ms).toBe(3_600_000);
    await deleteExpiredDataRoute.handle(request({ jobId: 'path', body: '{"job_id":"body"}' }));
    expect(calls[1]?.jobId).toBe('path');
    expect(calls[1]?.requestsPerSecond).toBeUndefined();
  });

  it('refuses requests_per_second of 0 or below (except -1), in the query and in the body', async () => {
    const validation = { status: 400, type: 'action_request_validation_exception', reason: 'Validation Failed: 1: [requests_per_second] must either be -1 or greater than 0;' };
    expect(await error(request({ query: { requests_per_second: '0' } }))).toEqual(validation);
    expect(await error(request({ body: '{"requests_per_second":-5}' }))).toEqual(validation);
    expect(calls).toEqual([]);
  });

  it('refuses a query requests_per_second that is no float', async () => {
    expect(await error(request({ query: { requests_per_second: 'lots' } }))).toEqual({
      status: 400,
      type: 'illegal_argument_exception',
      reason: 'Failed to parse float parameter [requests_per_second] with value [lots]',
    });
  });

  it('refuses a bad timeout, an unknown body field and a body value of the wrong type with the parser’s errors', async () => {
    expect(await error(request({ query: { timeout: 'soon' } }))).toMatchObject({
      status: 400,
      reason: expect.stringContaining('failed to parse setting [timeout] with value [soon]'),
    });
    expect(await error(request({ body: '{"timeout":"soon"}' }))).toMatchObject({
      status: 400,
      type: 'x_content_parse_exception',
      reason: '[1:12] [delete_expired_data_request] failed to parse field [timeout]',
    });
    expect(await error(request({ body: '{"speed":1}' }))).toMatchObject({
      status: 400,
      type: 'x_content_parse_exception',
      reason: '[1:2] [delete_expired_data_request] unknown field [speed]',
    });
    expect(await error(request({ body: '{"requests_per_second":true}' }))).toMatchObject({ status: 400, type: 'x_content_parse_exception' });
    expect(calls).toEqual([]);
  });
});
