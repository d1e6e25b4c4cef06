import { describe, expect, it } from 'vitest';
import { esClient, esError, uniqueId } from './client.ts';
import { direct } from './direct.ts';

const es = esClient();
const T0 = Date.UTC(2026, 0, 5);

/** Rewrites the first byte (the format version) of the job's live model state. */
async function setStateVersion(jobId: string, version: number): Promise<void> {
  const jobs = await direct(() => import('../../lib/store/jobs.ts'));
  const { db, tableName } = await direct(() => import('../../lib/store/db.ts'));
  const { keys } = await direct(() => import('../../lib/store/keys.ts'));
  const { GetCommand, PutCommand } = await import('@aws-sdk/lib-dynamodb');
  const ptr = (await jobs.getJobRuntime(jobId))?.model;
  if (!ptr) throw new Error('the job has no model state');
  const key = keys.modelChunk(jobId, ptr.generation, 0);
  const item = (await db().send(new GetCommand({ TableName: tableName(), Key: key, ConsistentRead: true }))).Item!;
  const data = Uint8Array.from(item.data as Uint8Array);
  data[0] = version;
  await db().send(new PutCommand({ TableName: tableName(), Item: { ...item, data } }));
}

describe('a model state of an older model version', () => {
  it('refuses to open the job with the error Elasticsearch gives for a model snapshot too old', async () => {
    const id = uniqueId('oldstate');
    await es.ml.putJob({
      job_id: id,
      analysis_config: { bucket_span: '1h', detectors: [{ function: 'count' }] },
      data_description: { time_field: 'timestamp', time_format: 'epoch_ms' },
    });
    await es.ml.openJob({ job_id: id });
    await es.ml.postData({ job_id: id, body: Array.from({ length: 30 }, (_, h) => ({ timestamp: T0 + h * 3_600_000 })) });
    await es.ml.closeJob({ job_id: id });
    const snapshot = (await es.ml.getJobs({ job_id: id })).jobs[0]!.model_snapshot_id;
    // Model v1 wrote state versions 1 and 2.
    await setStateVersion(id, 2);
    const e = await esError(es.ml.openJob({ job_id: id }));
    expect(e).toMatchObject({
      status: 400,
      type: 'status_exception',
    });
    expect(e.reason).toMatch(
      new RegExp(`^\\[${id}\\] job model snapshot \\[${snapshot ?? '\\d+'}\\] has min version before \\[[0-9.]+\\], please revert to a newer model snapshot or reset the job$`),
    );
    expect((await es.ml.getJobStats({ job_id: id })).jobs[0]!.state).toBe('closed');
  });
});
