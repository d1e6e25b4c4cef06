import { describe, expect, it } from 'vitest';
import type { Command } from '../../lib/domain/command.ts';
import { esClient, esError, hourlyCounts, uniqueId } from './client.ts';
import { direct } from './direct.ts';

const es = esClient();
const T0 = Date.UTC(2026, 0, 5);
const JOB = { analysis_config: { bucket_span: '1h', detectors: [{ function: 'count' }] }, data_description: { time_field: 'timestamp' } };
const update = (job_id: string, body: Record<string, unknown>) => es.transport.request<any>({ method: 'POST', path: `/_ml/anomaly_detectors/${job_id}/_update`, body });

/**
 * Waits for a command within the wait cap (28 s by default). A command held behind a
 * message that the worker keeps failing waits for the queue's visibility timeout (360 s),
 * so it ends with `gateway_cap`, not `finished`.
 */
async function finished(commandId: string): Promise<Command> {
  const { awaitCommand } = await direct(() => import('../../lib/app/commands.ts'));
  const out = await awaitCommand(commandId, undefined);
  expect(out.kind).toBe('finished');
  if (out.kind !== 'finished') throw new Error('unreachable');
  return out.command;
}

describe('content that cannot be stored is refused at the HTTP side', () => {
  it('an update with a 4 MB description is a 400 naming the field and the limit, and the job is unchanged', async () => {
    const id = uniqueId('huge-desc');
    await es.ml.putJob({ job_id: id, description: 'before', ...JOB });
    // Under the 5 MiB body limit (a bigger body is a 413 before anything reads it), far over the 300 KB config limit.
    const err = await esError(update(id, { description: 'x'.repeat(4_000_000) }));
    expect(err.status).toBe(400);
    expect(err.type).toBe('illegal_argument_exception');
    expect(err.reason).toBe('[description] is too large: the job configuration would be [4000018] bytes, over the limit of [307200] bytes');
    expect((await es.ml.getJobs({ job_id: id })).jobs[0]!.description).toBe('before');
    expect((await update(id, { description: 'after' })).description).toBe('after');
  });

  it('a put job and a put filter that cannot be stored are refused', async () => {
    const id = uniqueId('huge-put');
    const put = await esError(es.ml.putJob({ job_id: id, ...JOB, custom_settings: { notes: 'n'.repeat(500_000) } }));
    expect(put).toMatchObject({ status: 400, type: 'illegal_argument_exception' });
    expect(put.reason).toMatch(/^\[custom_settings\.notes\] is too large: the job configuration would be \[\d+\] bytes, over the limit of \[307200\] bytes$/);
    expect(await esError(es.ml.getJobs({ job_id: id }))).toMatchObject({ status: 404 });
    const items = Array.from({ length: 3_000 }, (_, i) => `${i}-${Buffer.from(crypto.getRandomValues(new Uint8Array(150))).toString('base64')}`);
    const filter = await esError(es.ml.putFilter({ filter_id: `${id}-f`, items }));
    expect(filter.reason).toMatch(
      new RegExp(`^\\[items\\] is too large: filter \\[${id}-f\\] would be \\[\\d+\\] compressed bytes, over the limit of \\[307200\\] compressed bytes$`),
    );
  });
});

describe('what a request writes beside its entity fits too', () => {
  it('a filter update adding 10,000 items to a filter a job uses succeeds, its notification truncated as Elasticsearch does', async () => {
    const id = uniqueId('many-items');
    await es.ml.putFilter({ filter_id: `${id}-f`, items: ['seed'] });
    await es.ml.putJob({
      job_id: id,
      analysis_config: {
        bucket_span: '1h',
        detectors: [{ function: 'count', by_field_name: 'host', custom_rules: [{ actions: ['skip_result'], scope: { host: { filter_id: `${id}-f` } } }] }],
      },
      data_description: { time_field: 'timestamp' },
    });
    const add_items = Array.from({ length: 9_999 }, (_, i) => `host-${i}.eu-west-1.compute.internal.example.com`);
    const updated = await es.ml.updateFilter({ filter_id: `${id}-f`, add_items });
    expect(updated.items).toHaveLength(10_000);
    const notes = await es.transport.request<any>({ method: 'GET', path: `/_ml/anomaly_detectors/${id}/_notifications` });
    const note = JSON.stringify(notes).match(/Filter \[[^\]]+\] has been modified;[^"]*/)?.[0] ?? '';
    expect(note).toMatch(/\.\.\. \(truncated\)$/);
  });
});

describe('a command that fails the same way on every delivery does not hold its job', () => {
  it('an update forced past the HTTP check fails once with its 400, and the next command of the job is applied', async () => {
    const { submitCommand } = await direct(() => import('../../lib/app/commands.ts'));
    const id = uniqueId('poison-update');
    await es.ml.putJob({ job_id: id, description: 'before', ...JOB });
    const big = await submitCommand({
      action: 'update',
      es_action: 'cluster:admin/xpack/ml/job/update',
      description: 'u',
      targets: [id],
      payload: JSON.stringify({ description: 'x'.repeat(600_000) }),
    });
    const next = await submitCommand({
      action: 'update',
      es_action: 'cluster:admin/xpack/ml/job/update',
      description: 'u',
      targets: [id],
      payload: JSON.stringify({ description: 'after' }),
    });
    const failed = await finished(big.command_id);
    expect(failed.status).toBe('failed');
    expect(failed.outcomes[id]?.error).toMatchObject({
      status: 400,
      error: { type: 'illegal_argument_exception', reason: expect.stringMatching(/^\[description\] is too large: the job configuration would be \[\d+\] bytes/) },
    });
    const applied = await finished(next.command_id);
    expect(applied.status).toBe('done');
    expect((await es.ml.getJobs({ job_id: id })).jobs[0]!.description).toBe('after');
  });

  it('a post whose payload is gone fails once with a 500, and a flush queued behind it runs', async () => {
    const { submitCommand } = await direct(() => import('../../lib/app/commands.ts'));
    const { putCommand } = await direct(() => import('../../lib/store/commands.ts'));
    const { enqueueCommand } = await direct(() => import('../../lib/queue/commands.ts'));
    const id = uniqueId('poison-data');
    await es.ml.putJob({ job_id: id, ...JOB });
    await es.ml.openJob({ job_id: id });
    await es.ml.postData({ job_id: id, data: hourlyCounts(T0, 3, () => 1).map((r) => ({ timestamp: r.timestamp })) });
    // A data command whose payload chunk does not exist: reading it throws the same non-Elasticsearch error every time.
    const now = Date.now();
    const broken: Command = {
      command_id: String(now * 1000 + 999),
      task_id: `mlplane-0:${now * 1000 + 999}`,
      action: 'data',
      es_action: 'cluster:admin/xpack/ml/job/data/post',
      description: 'd',
      targets: [id],
      params: {},
      payload_chunks: 1,
      payload_nonce: 'missing',
      status: 'queued',
      outcomes: {},
      created_ms: now,
      expires_at: Math.floor(now / 1000) + 3600,
    };
    expect(await putCommand(broken)).toBe(true);
    await enqueueCommand(broken.command_id, [id]);
    const flush = await submitCommand({ action: 'flush', es_action: 'cluster:admin/xpack/ml/job/flush', description: 'f', targets: [id], params: { calc_interim: false } });
    const failed = await finished(broken.command_id);
    expect(failed.outcomes[id]?.error).toMatchObject({ status: 500, error: { type: 'exception', reason: 'Exception executing cluster:admin/xpack/ml/job/data/post' } });
    expect((await finished(flush.command_id)).status).toBe('done');
    expect((await es.ml.getJobStats({ job_id: id })).jobs[0]!.data_counts.processed_record_count).toBe(3);
    await es.ml.closeJob({ job_id: id });
  });
});
