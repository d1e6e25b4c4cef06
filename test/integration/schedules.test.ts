/**
 * Issue 11 "done when": the local command schedules of a schedules file fire into the real
 * command ingress of the running system (the same runner `npm start` uses with
 * `SCHEDULES_FILE`, triggered through `cron.trigger(name)`), and their commands take effect:
 * a datafeed stopped before a backup, the nightly jobs closed, upgrade mode on and off, each
 * answer recorded as a task.
 *
 * Until the command ingress is built (brief A of issue 11), `functions/commands/ingress.ts` is
 * a placeholder that throws, and this test fails at its first trigger.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSchedulesFile } from '../../lib/runtime/schedules-file.ts';
import type { CronRunner } from '../../lib/local/cron.ts';
import { esClient, uniqueId } from './client.ts';
import { direct } from './direct.ts';

const es = esClient();
const prefix = uniqueId('nightly');
const jobs = [`${prefix}-a`, `${prefix}-b`];
const feed = `datafeed-${jobs[0]}`;
const index = uniqueId('backup-metrics');

/** The schedules file of the test: examples/schedules.json's schedules, aimed at this test's jobs and datafeed. */
const schedulesFile = {
  schedules: [
    { name: 'stop-datafeeds', expression: 'cron(45 1 * * ? *)', command: { method: 'POST', path: `/_ml/datafeeds/${feed}/_stop` } },
    {
      name: 'close-nightly',
      expression: 'cron(0 2 * * ? *)',
      timezone: 'Europe/Berlin',
      command: { method: 'POST', path: `/_ml/anomaly_detectors/${prefix}-*/_close`, query: { allow_no_match: true } },
    },
    { name: 'upgrade-on', expression: 'cron(0 3 * * ? *)', timezone: 'Europe/Berlin', command: { method: 'POST', path: '/_ml/set_upgrade_mode', query: { enabled: true } } },
    { name: 'upgrade-off', expression: 'cron(30 3 * * ? *)', timezone: 'Europe/Berlin', command: { method: 'POST', path: '/_ml/set_upgrade_mode', query: { enabled: false } } },
  ],
};

interface IngressResult {
  task?: string;
  status: number;
  body: unknown;
}

describe('command schedules of a schedules file, fired into the command ingress', () => {
  let cron: CronRunner;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlplane-schedules-it-'));
    const path = join(dir, 'schedules.json');
    writeFileSync(path, JSON.stringify(schedulesFile));
    // The runner as startLocalSystem builds it, in this process, over the shared system's table and queue.
    cron = await direct(async () => {
      const [{ startCommandSchedules }, { startCron }, { loadHandler, createLambdaContext }, { memoryScheduleStateStore }] = await Promise.all([
        import('../../lib/local/command-schedules.ts'),
        import('../../lib/local/cron.ts'),
        import('../../lib/local/lambda.ts'),
        import('../../lib/local/schedule-state.ts'),
      ]);
      const ingress = await loadHandler<(event: unknown, context: unknown) => Promise<unknown>>('functions/commands/ingress.ts');
      const commands = await startCommandSchedules({
        schedules: readSchedulesFile(path),
        state: memoryScheduleStateStore(),
        invoke: (event) => ingress(event, createLambdaContext({ functionName: 'commands-ingress', timeoutMs: 900_000, region: process.env.AWS_REGION ?? 'us-east-1' })),
        log: (line) => process.stderr.write(`[schedules] ${line}\n`),
      });
      return startCron({ schedules: [], region: process.env.AWS_REGION ?? 'us-east-1', resolveHandler: async () => async () => undefined, commands });
    });

    await es.indices.create({ index, mappings: { properties: { '@timestamp': { type: 'date' }, total: { type: 'long' } } } });
    for (const job_id of jobs) {
      await es.ml.putJob({ job_id, analysis_config: { bucket_span: '1h', detectors: [{ function: 'count' }] }, data_description: { time_field: '@timestamp' } });
      await es.ml.openJob({ job_id });
    }
    await es.ml.putDatafeed({ datafeed_id: feed, job_id: jobs[0]!, indices: [index], query_delay: '0s', frequency: '1m' });
    await es.ml.startDatafeed({ datafeed_id: feed, start: String(Date.now() - 3_600_000) });
  });

  afterAll(async () => {
    await cron?.stop();
    // Never leave upgrade mode on for the next test file.
    await es.transport.request({ method: 'POST', path: '/_ml/set_upgrade_mode', querystring: { enabled: 'false' } }).catch(() => undefined);
    await es.ml.stopDatafeed({ datafeed_id: feed, force: true }).catch(() => undefined);
    await es.ml.deleteDatafeed({ datafeed_id: feed, force: true }).catch(() => undefined);
    for (const job_id of jobs) await es.ml.deleteJob({ job_id, force: true }).catch(() => undefined);
    await es.indices.delete({ index }).catch(() => undefined);
  });

  /** Fires a schedule and checks that the ingress answered 200 and recorded a finished task. */
  async function fire(name: string): Promise<IngressResult> {
    const result = (await cron.trigger(name)) as IngressResult | undefined;
    expect(result, `${name}: the ingress failed (see the [schedules] log lines)`).toBeDefined();
    expect(result!.status, JSON.stringify(result!.body)).toBe(200);
    expect(result!.task).toEqual(expect.any(String));
    const task = await es.tasks.get({ task_id: result!.task! });
    expect(task.completed).toBe(true);
    return result!;
  }

  it('stops the datafeed before the backup', async () => {
    expect((await fire('stop-datafeeds')).body).toEqual({ stopped: true });
    const stats = await es.ml.getDatafeedStats({ datafeed_id: feed });
    expect(stats.datafeeds[0]?.state).toBe('stopped');
  });

  it('closes the nightly-* jobs', async () => {
    expect((await fire('close-nightly')).body).toEqual({ closed: true });
    const stats = await es.ml.getJobStats({ job_id: `${prefix}-*` });
    expect(stats.jobs.map((j) => [j.job_id, j.state])).toEqual(jobs.map((j) => [j, 'closed']));
  });

  it('turns upgrade mode on, then off', async () => {
    expect((await fire('upgrade-on')).body).toEqual({ acknowledged: true });
    expect(((await es.ml.info()) as { upgrade_mode: boolean }).upgrade_mode).toBe(true);
    expect((await fire('upgrade-off')).body).toEqual({ acknowledged: true });
    expect(((await es.ml.info()) as { upgrade_mode: boolean }).upgrade_mode).toBe(false);
  });
});
