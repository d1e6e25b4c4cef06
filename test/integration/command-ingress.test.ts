import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { Client } from '@elastic/elasticsearch';
import { esClient, esError, uniqueId } from './client.ts';

const es = esClient();
const lambdaUrl = inject('lambdaUrl');

/** Invokes the command ingress through the local Lambda Invoke API, as `aws lambda invoke` does. */
async function invoke(event: unknown): Promise<{ functionError: string | null; payload: any }> {
  const res = await fetch(`${lambdaUrl}/2015-03-31/functions/command-ingress/invocations`, { method: 'POST', body: JSON.stringify(event) });
  expect(res.status).toBe(200);
  return { functionError: res.headers.get('x-amz-function-error'), payload: await res.json() };
}

const task = (id: string) => es.transport.request<any>({ method: 'GET', path: `/_tasks/${id}` });
const notes = async (job: string): Promise<string[]> =>
  (await es.transport.request<any>({ method: 'GET', path: `/_ml/anomaly_detectors/${job}/_notifications`, querystring: { size: 1000 } })).notifications.map(
    (n: { message: string }) => n.message,
  );
const state = async (id: string) => (await es.ml.getJobStats({ job_id: id })).jobs[0]!.state;

async function openJob(id: string): Promise<void> {
  await es.ml.putJob({
    job_id: id,
    analysis_config: { bucket_span: '1h', detectors: [{ function: 'count' }] },
    data_description: { time_field: 'timestamp', time_format: 'epoch_ms' },
  });
  await es.ml.openJob({ job_id: id });
}

const setUpgradeMode = (enabled: boolean) =>
  es.transport.request<any>({ method: 'POST', path: '/_ml/set_upgrade_mode', querystring: { enabled: String(enabled), timeout: '30s' } });

afterAll(async () => {
  // Nothing here may leave upgrade mode on for the next file.
  await setUpgradeMode(false);
});

describe('the command ingress (command events as Elasticsearch requests)', () => {
  it('closes jobs by wildcard: the jobs are closed, the task is completed with the close response, each job audits it', async () => {
    const p = uniqueId('nightly');
    await openJob(`${p}-a`);
    await openJob(`${p}-b`);
    const { functionError, payload } = await invoke({
      method: 'POST',
      path: `/_ml/anomaly_detectors/${p}-*/_close`,
      query: { allow_no_match: true },
      origin: { kind: 'schedule', name: 'close-nightly' },
    });
    expect(functionError).toBeNull();
    expect(payload).toMatchObject({ status: 200, body: { closed: true } });
    expect(payload.task).toMatch(/^mlplane-0:\d+$/);
    expect(await state(`${p}-a`)).toBe('closed');
    expect(await state(`${p}-b`)).toBe('closed');
    const t = await task(payload.task);
    expect(t).toMatchObject({
      completed: true,
      task: {
        action: 'cluster:admin/xpack/ml/job/close',
        description: `command from schedule [close-nightly]: POST /_ml/anomaly_detectors/${p}-*/_close`,
      },
      response: { closed: true },
    });
    expect(t.error).toBeUndefined();
    for (const j of ['a', 'b']) expect(await notes(`${p}-${j}`)).toContain(`Command from schedule [close-nightly] (POST /_ml/anomaly_detectors/${p}-*/_close): done`);
  });

  it('records an unknown job’s 404 as the task’s error and returns normally (no retry)', async () => {
    const { functionError, payload } = await invoke({ method: 'POST', path: '/_ml/anomaly_detectors/no-such-job/_close', origin: { kind: 'schedule', name: 'close-missing' } });
    expect(functionError).toBeNull();
    expect(payload).toMatchObject({ status: 404, body: { error: { type: 'resource_not_found_exception', reason: "No known job with id 'no-such-job'" }, status: 404 } });
    const t = await task(payload.task);
    expect(t).toMatchObject({ completed: true, error: { type: 'resource_not_found_exception', reason: "No known job with id 'no-such-job'" } });
    expect(t.response).toBeUndefined();
  });

  it('records a malformed event as a 400 task naming the field, and returns normally', async () => {
    const { functionError, payload } = await invoke({ method: 'POST', path: '/_ml/anomaly_detectors/x/_close', when: 'now', origin: { kind: 'rule', name: 'typo' } });
    expect(functionError).toBeNull();
    expect(payload).toMatchObject({ status: 400, body: { error: { type: 'illegal_argument_exception', reason: '[command_event] unknown field [when]' } } });
    const t = await task(payload.task);
    expect(t).toMatchObject({
      completed: true,
      task: { action: 'cluster:admin/mlplane/command', description: 'command from rule [typo]: POST /_ml/anomaly_detectors/x/_close' },
      error: { reason: '[command_event] unknown field [when]' },
    });
  });

  it('takes an EventBridge envelope, naming the rule by the event’s source', async () => {
    const id = uniqueId('env');
    await openJob(id);
    const { payload } = await invoke({
      version: '0',
      id: 'e-123',
      'detail-type': 'mlplane command',
      source: 'ops',
      account: '000000000000',
      time: new Date().toISOString(),
      region: 'us-east-1',
      resources: [],
      detail: { method: 'POST', path: `/_ml/anomaly_detectors/${id}/_close` },
    });
    expect(payload).toMatchObject({ status: 200, body: { closed: true } });
    expect((await task(payload.task)).task.description).toBe(`command from rule [ops]: POST /_ml/anomaly_detectors/${id}/_close`);
  });

  it('during upgrade mode gets the 429, recorded on the task, and the job’s audit says so', async () => {
    const id = uniqueId('um');
    await openJob(id);
    try {
      expect(await setUpgradeMode(true)).toEqual({ acknowledged: true });
      const { functionError, payload } = await invoke({ method: 'POST', path: `/_ml/anomaly_detectors/${id}/_close`, origin: { kind: 'schedule', name: 'close-nightly' } });
      expect(functionError).toBeNull();
      const reason = 'Cannot perform cluster:admin/xpack/ml/job/close action while upgrade mode is enabled';
      expect(payload).toMatchObject({ status: 429, body: { error: { type: 'status_exception', reason } } });
      expect(await task(payload.task)).toMatchObject({ completed: true, error: { reason } });
      expect(await notes(id)).toContain(`Command from schedule [close-nightly] (POST /_ml/anomaly_detectors/${id}/_close): 429 ${reason}`);
    } finally {
      await setUpgradeMode(false);
    }
    expect(await state(id)).toBe('opened');
  });

  it('runs two identical commands that arrive at once as two tasks, with one effect', async () => {
    const id = uniqueId('twice');
    await openJob(id);
    const event = { method: 'POST', path: `/_ml/anomaly_detectors/${id}/_close`, origin: { kind: 'schedule', name: 'close-twice' } };
    const [a, b] = await Promise.all([invoke(event), invoke(event)]);
    expect(a.payload).toMatchObject({ status: 200, body: { closed: true } });
    expect(b.payload).toMatchObject({ status: 200, body: { closed: true } });
    expect(a.payload.task).not.toBe(b.payload.task);
    for (const t of [a.payload.task, b.payload.task]) expect(await task(t)).toMatchObject({ completed: true, response: { closed: true } });
    expect(await state(id)).toBe('closed');
    const messages = await notes(id);
    // One effect: the job was closed once; both commands are audited.
    expect(messages.filter((m) => m === 'Job is closing')).toHaveLength(1);
    expect(messages.filter((m) => m.startsWith('Command from schedule [close-twice]') && m.endsWith(': done'))).toHaveLength(2);
  });

  it('refuses a Watcher command with the default roles: 403 recorded on the task', async () => {
    const { functionError, payload } = await invoke({ method: 'POST', path: '/_watcher/watch/some-watch/_execute', origin: { kind: 'rule', name: 'alarm' } });
    expect(functionError).toBeNull();
    expect(payload).toMatchObject({
      status: 403,
      body: { error: { type: 'security_exception', reason: expect.stringContaining('action [cluster:admin/xpack/watcher/watch/execute] is unauthorized for user [_command]') } },
    });
    expect(await task(payload.task)).toMatchObject({ completed: true, task: { action: 'cluster:admin/xpack/watcher/watch/execute' }, error: { type: 'security_exception' } });
  });

  it('cannot be used from HTTP: the _command user does not authenticate', async () => {
    const asCommand = new Client({ node: inject('esUrl'), auth: { username: '_command', password: '' } });
    const e = await esError(asCommand.ml.getJobs());
    expect(e).toMatchObject({ status: 401, type: 'security_exception' });
  });
});
