import type { Context, SQSRecord } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { esClient, uniqueId } from './client.ts';
import { direct } from './direct.ts';

// The test plays SQS for continuations: they are recorded here instead of reaching the running system's worker.
const sent = vi.hoisted(() => [] as { commandId: string; target: string; continued: string }[]);
vi.mock(import('../../lib/queue/commands.ts'), async (original) => ({
  ...(await original()),
  enqueueContinuation: async (commandId: string, target: string, continued: string) => {
    sent.push({ commandId, target, continued });
  },
}));

const es = esClient();
const T0 = Date.UTC(2026, 0, 5);
const HOUR = 3_600_000;

describe('a close that runs short of time hands itself on', () => {
  it('completes after many more invocations than maxReceiveCount, each on its last receive, resuming at its first unfinished step', async () => {
    const { processCommandRecord } = await direct(() => import('../../lib/app/command-runner.ts'));
    const { putCommand, getCommand } = await direct(() => import('../../lib/store/commands.ts'));
    const { commandQueue } = await direct(() => import('../../lib/runtime/topology.ts'));
    const { CLOSE_STEPS } = await direct(() => import('../../lib/domain/state.ts'));
    const { getJobRuntime } = await direct(() => import('../../lib/store/jobs.ts'));

    const id = uniqueId('continued-close');
    await es.ml.putJob({
      job_id: id,
      analysis_config: { bucket_span: '1h', latency: '2h', detectors: [{ function: 'mean', field_name: 'cpu' }] },
      data_description: { time_field: 'timestamp', time_format: 'epoch_ms' },
    });
    await es.ml.openJob({ job_id: id });
    await es.ml.postData({ job_id: id, data: Array.from({ length: 48 }, (_, h) => ({ timestamp: T0 + h * HOUR + 60_000, cpu: 20 + (h % 5) })) });
    // The post's renormalization runs in the job's command order; this test delivers the close itself, so it waits for it.
    await es.ml.flushJob({ job_id: id });

    // A close command recorded but not queued: this test delivers its messages itself.
    const commandId = `${Date.now()}${String(Math.floor(Math.random() * 1000)).padStart(3, '0')}`;
    await putCommand({
      command_id: commandId,
      task_id: `n:${commandId}`,
      action: 'close',
      es_action: 'cluster:admin/xpack/ml/job/close',
      description: 'test',
      targets: [id],
      params: {},
      status: 'queued',
      outcomes: {},
      created_ms: Date.now(),
      expires_at: Math.floor(Date.now() / 1000) + 3600,
    });

    // Every receive is the last one before the DLQ; odd invocations have no time for a step at all, even ones time for one step.
    const record = (messageId: string): SQSRecord =>
      ({
        messageId,
        receiptHandle: 'r',
        body: JSON.stringify({ command_id: commandId, target: id }),
        attributes: { MessageGroupId: `job/${id}`, ApproximateReceiveCount: String(commandQueue.maxReceiveCount) },
      }) as unknown as SQSRecord;
    const invocation = (n: number): Context => {
      let checks = 0;
      return { getRemainingTimeInMillis: () => (n % 2 === 1 || checks++ > 0 ? 1_000 : 600_000) } as unknown as Context;
    };

    let messageId = 'first';
    let invocations = 0;
    const steps: number[] = [];
    for (; invocations < 40; invocations++) {
      await processCommandRecord(record(messageId), invocation(invocations));
      const cmd = await getCommand(commandId);
      if (cmd?.status === 'done' || cmd?.status === 'failed') break;
      steps.push((await getJobRuntime(id))!.close!.next);
      const next = sent.at(-1)!;
      expect(next).toEqual({ commandId, target: id, continued: messageId });
      messageId = `continuation-${invocations}`;
    }
    invocations++;

    const cmd = (await getCommand(commandId))!;
    expect(cmd.status).toBe('done');
    expect(cmd.outcomes[id]).toMatchObject({ status: 'done', response: { closed: true } });
    expect(invocations).toBeGreaterThan(2 * commandQueue.maxReceiveCount);
    // One step per invocation that had time, none in the others; the last (finalize) answers the command.
    expect(invocations).toBe(2 * CLOSE_STEPS.length - 1);
    // The progress saved on the job after each handed-on invocation: each step ran once, in order.
    expect(steps).toEqual(Array.from({ length: CLOSE_STEPS.length - 1 }, (_, i) => [i + 1, i + 1]).flat());
    const stats = (await es.ml.getJobStats({ job_id: id })).jobs[0]!;
    expect(stats.state).toBe('closed');
    expect((await es.ml.getModelSnapshots({ job_id: id })).count).toBe(1);
    expect((await es.ml.getBuckets({ job_id: id })).count).toBe(48);
  });
});
