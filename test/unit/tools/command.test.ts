import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLambdaServer, type LocalLambdaServer } from '../../../lib/local/lambda-server.ts';

const run = promisify(execFile);
const TSX = new URL('../../../node_modules/.bin/tsx', import.meta.url).pathname;
const TOOL = new URL('../../../tools/command.ts', import.meta.url).pathname;

/** What the stub ingress received, and answers: the event's `answer` field picks the outcome. */
const received: unknown[] = [];
let server: LocalLambdaServer;
let url = '';

beforeAll(async () => {
  server = await startLambdaServer({
    port: 0,
    region: 'us-east-1',
    functions: {
      'command-ingress': {
        retryAttempts: 0,
        timeoutMs: 900_000,
        resolve: async () => async (event: unknown) => {
          received.push(event);
          const status = (event as { path?: string }).path === '/fail' ? 500 : (event as { path?: string }).path === '/missing' ? 404 : 200;
          if (status === 500) throw new Error('command event failed with status 500 (task n:2): internal error');
          return { task: 'n:1', status, body: status === 200 ? { closed: true } : { error: { type: 'resource_not_found_exception' }, status } };
        },
      },
    },
  });
  url = `http://127.0.0.1:${server.port}`;
});
afterAll(() => server.stop());

async function command(arg: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(TSX, [TOOL, arg], { env: { ...process.env, MLPLANE_LAMBDA_URL: url } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('npm run command', () => {
  it('sends a bare event with the cli origin, prints the task, status and body, and exits 0 on a 2xx', async () => {
    received.length = 0;
    const r = await command('{"method":"POST","path":"/_ml/anomaly_detectors/a/_close"}');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('task n:1 status 200\n{\n  "closed": true\n}\n');
    expect(received).toEqual([{ method: 'POST', path: '/_ml/anomaly_detectors/a/_close', origin: { kind: 'cli', name: 'npm run command' } }]);
  });

  it('keeps an origin the event sets, and an EventBridge envelope as it is', async () => {
    received.length = 0;
    await command('{"method":"GET","path":"/","origin":{"kind":"other","name":"me"}}');
    await command('{"detail-type":"mlplane command","source":"ops","detail":{"method":"GET","path":"/"}}');
    expect(received).toEqual([
      { method: 'GET', path: '/', origin: { kind: 'other', name: 'me' } },
      { 'detail-type': 'mlplane command', source: 'ops', detail: { method: 'GET', path: '/' } },
    ]);
  });

  it('exits 1 on a 4xx outcome, printing it', async () => {
    const r = await command('{"method":"POST","path":"/missing"}');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('task n:1 status 404');
  });

  it('exits 1 when the ingress fails (a 5xx, retried in AWS)', async () => {
    const r = await command('{"method":"POST","path":"/fail"}');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the command ingress failed (it would be retried in AWS): command event failed with status 500 (task n:2): internal error');
  });

  it('exits 1 without sending anything for text that is not JSON', async () => {
    received.length = 0;
    const r = await command('close nightly');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the command event is not JSON');
    expect(received).toEqual([]);
  });
});
