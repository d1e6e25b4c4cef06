import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { esClient, hourlyCounts, uniqueId } from './client.ts';
import { direct } from './direct.ts';

const es = esClient();
const T0 = Date.UTC(2026, 0, 5);

const record = (command_id: string, target: string): SQSRecord =>
  ({ messageId: 'm', receiptHandle: 'r', body: JSON.stringify({ command_id, target }), attributes: { MessageGroupId: `job/${target}` } }) as unknown as SQSRecord;

describe('a redelivered command message changes nothing', () => {
  it('post data applied once even when the message comes back after the state was committed', async () => {
    const { submitCommand, awaitCommand } = await direct(() => import('../../lib/app/commands.ts'));
    const { processCommandRecord } = await direct(() => import('../../functions/workers/commands.ts'));
    const { db, tableName } = await direct(() => import('../../lib/store/db.ts'));
    const { UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
    const { keys } = await direct(() => import('../../lib/store/keys.ts'));

    const id = uniqueId('redeliver');
    await es.ml.putJob({ job_id: id, analysis_config: { bucket_span: '1h', detectors: [{ function: 'count' }] }, data_description: { time_field: 'timestamp' } });
    await es.ml.openJob({ job_id: id });
    const body = hourlyCounts(T0, 6, () => 1)
      .map((r) => JSON.stringify({ timestamp: r.timestamp }))
      .join('\n');
    const cmd = await submitCommand({ action: 'data', es_action: 'cluster:admin/xpack/ml/job/data/post', description: 'test', targets: [id], payload: body });
    const done = await awaitCommand(cmd.command_id, 30_000);
    expect(done.kind).toBe('finished');
    const before = (await es.ml.getJobStats({ job_id: id })).jobs[0]!.data_counts;
    expect(before.processed_record_count).toBe(6);

    // Redelivery after the outcome was recorded but before the status roll-up: it finishes the command, nothing else.
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keys.command(cmd.command_id),
        UpdateExpression: 'SET #s = :r',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':r': 'running' },
      }),
    );
    await processCommandRecord(record(cmd.command_id, id));
    expect((await es.tasks.get({ task_id: cmd.task_id })).completed).toBe(true);
    // A crash after the job state was committed but before the outcome was recorded: forget the outcome and redeliver.
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keys.command(cmd.command_id),
        UpdateExpression: 'REMOVE outcomes.#t SET #s = :q',
        ExpressionAttributeNames: { '#t': id, '#s': 'status' },
        ExpressionAttributeValues: { ':q': 'running' },
      }),
    );
    await processCommandRecord(record(cmd.command_id, id));
    const after = (await es.ml.getJobStats({ job_id: id })).jobs[0]!.data_counts;
    expect(after.processed_record_count).toBe(6);
    expect(after.input_bytes).toBe(before.input_bytes);
    const task = await es.tasks.get({ task_id: cmd.task_id });
    expect((task.response as any).processed_record_count).toBe(6);
    await es.ml.closeJob({ job_id: id });
  });

  it('a message for an unknown or expired command is dropped', async () => {
    const { processCommandRecord } = await direct(() => import('../../functions/workers/commands.ts'));
    await expect(processCommandRecord(record('12345', 'nobody'))).resolves.toBeUndefined();
  });

  it('a malformed message is dropped on its first delivery: no retry can cure it, and it names no command to answer', async () => {
    const { processCommandRecord } = await direct(() => import('../../functions/workers/commands.ts'));
    await expect(processCommandRecord({ ...record('1', 'x'), body: '{"command_id":"abc"}' })).resolves.toBeUndefined();
  });
});

describe('a close that keeps failing', () => {
  it('on its last delivery answers 500 and leaves the job failed, which force close then clears', async () => {
    const { processCommandRecord } = await direct(() => import('../../functions/workers/commands.ts'));
    const { getCommand, putCommand } = await direct(() => import('../../lib/store/commands.ts'));
    const store = await direct(() => import('../../lib/store/jobs.ts'));
    const id = uniqueId('broken-close');
    await es.ml.putJob({ job_id: id, analysis_config: { bucket_span: '1h', detectors: [{ function: 'count' }] }, data_description: { time_field: 'timestamp' } });
    await es.ml.openJob({ job_id: id });
    await es.ml.postData({ job_id: id, data: hourlyCounts(T0, 4, () => 1).map((r) => ({ timestamp: r.timestamp })) });
    // Corrupt the live model pointer so every close attempt throws a non-Elasticsearch error.
    const rt = (await store.getJobRuntime(id))!;
    await store.putJobRuntime({ ...rt, model: { ...rt.model!, chunks: rt.model!.chunks + 3 }, version: rt.version + 1 });
    // A command stored but never queued, so no worker races the test: it plays the event source mapping itself.
    const cmd = {
      command_id: String(Date.now() * 1000 + 1),
      task_id: 'mlplane-0:0',
      action: 'close' as const,
      es_action: 'cluster:admin/xpack/ml/job/close',
      description: 'c',
      targets: [id],
      params: {},
      status: 'queued' as const,
      outcomes: {},
      created_ms: Date.now(),
      expires_at: Math.floor(Date.now() / 1000) + 3600,
    };
    await putCommand(cmd);
    const last = { ...record(cmd.command_id, id), attributes: { MessageGroupId: `job/${id}`, ApproximateReceiveCount: '5' } } as unknown as SQSRecord;
    await expect(processCommandRecord(last)).rejects.toThrow();
    const failed = await getCommand(cmd.command_id);
    expect(failed?.outcomes[id]?.error?.error).toMatchObject({ type: 'exception', reason: 'Exception closing autodetect process' });
    const stats = (await es.ml.getJobStats({ job_id: id })).jobs[0]!;
    expect(stats.state).toBe('failed');
    expect(await es.ml.closeJob({ job_id: id, force: true })).toEqual({ closed: true });
  });
});

describe('the worker rechecks what the HTTP side checked', () => {
  it('a delete queued behind an open is refused once the job is open, and the job stays', async () => {
    const { submitCommand, awaitCommand } = await direct(() => import('../../lib/app/commands.ts'));
    const id = uniqueId('open-then-delete');
    const put = await es.ml.putJob({ job_id: id, analysis_config: { bucket_span: '1h', detectors: [{ function: 'count' }] }, data_description: { time_field: 'timestamp' } });
    const open = await submitCommand({ action: 'open', es_action: 'cluster:admin/xpack/ml/job/open', description: 'o', targets: [id] });
    const del = await submitCommand({
      action: 'delete',
      es_action: 'cluster:admin/xpack/ml/job/delete',
      description: 'd',
      targets: [id],
      params: { force: false, create_time: put.create_time },
    });
    const o = await awaitCommand(open.command_id, 30_000);
    const d = await awaitCommand(del.command_id, 30_000);
    expect(o.kind === 'finished' && o.command.status).toBe('done');
    expect(d.kind === 'finished' && d.command.outcomes[id]?.error?.error).toMatchObject({
      type: 'status_exception',
      reason: `Cannot delete job [${id}] because the job is opened`,
    });
    expect((await es.ml.getJobStats({ job_id: id })).jobs[0]!.state).toBe('opened');
    await es.ml.closeJob({ job_id: id });
  });

  it('a late delete of an earlier incarnation leaves a recreated job alone', async () => {
    const { submitCommand, awaitCommand } = await direct(() => import('../../lib/app/commands.ts'));
    const id = uniqueId('reincarnated');
    await es.ml.putJob({ job_id: id, analysis_config: { bucket_span: '1h', detectors: [{ function: 'count' }] }, data_description: { time_field: 'timestamp' } });
    const del = await submitCommand({
      action: 'delete',
      es_action: 'cluster:admin/xpack/ml/job/delete',
      description: 'd',
      targets: [id],
      params: { force: false, create_time: 1 },
    });
    expect((await awaitCommand(del.command_id, 30_000)).kind).toBe('finished');
    expect((await es.ml.getJobs({ job_id: id })).count).toBe(1);
  });
});
