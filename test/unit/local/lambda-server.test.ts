import { afterEach, describe, expect, it } from 'vitest';
import { functionNameOf, startLambdaServer, type InvokeHandler, type LocalLambdaServer } from '../../../lib/local/lambda-server.ts';

let server: LocalLambdaServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function serve(handler: InvokeHandler, retryAttempts = 2, log: string[] = []): Promise<string> {
  server = await startLambdaServer({
    port: 0,
    region: 'us-east-1',
    functions: { 'command-ingress': { resolve: async () => handler, timeoutMs: 900_000, retryAttempts } },
    log: (l) => log.push(l),
  });
  return `http://127.0.0.1:${server.port}`;
}

const invoke = (url: string, name: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${url}/2015-03-31/functions/${encodeURIComponent(name)}/invocations`, { method: 'POST', body, headers });

describe('the local Lambda Invoke API', () => {
  it('answers a RequestResponse invocation with the handler’s JSON result, the event and a counting-down context passed in', async () => {
    const seen: unknown[] = [];
    const url = await serve(async (event, context) => {
      seen.push(event, context.functionName, context.getRemainingTimeInMillis() > 890_000);
      return { task: 'n:1', status: 200, body: { closed: true } };
    });
    const res = await invoke(url, 'command-ingress', '{"method":"GET","path":"/"}');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-amz-function-error')).toBeNull();
    expect(await res.json()).toEqual({ task: 'n:1', status: 200, body: { closed: true } });
    expect(seen).toEqual([{ method: 'GET', path: '/' }, 'command-ingress', true]);
  });

  it('reports a thrown error as Lambda does: 200, X-Amz-Function-Error Unhandled, errorType and errorMessage', async () => {
    const url = await serve(async () => {
      throw new TypeError('boom');
    });
    const res = await invoke(url, 'command-ingress', '{}');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(await res.json()).toMatchObject({ errorType: 'TypeError', errorMessage: 'boom' });
  });

  it('is 404 ResourceNotFoundException for an unknown function', async () => {
    const url = await serve(async () => ({}));
    const res = await invoke(url, 'nope', '{}');
    expect(res.status).toBe(404);
    expect(res.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
    expect(await res.json()).toEqual({ Type: 'User', message: 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope' });
  });

  it('takes the function by full ARN too', async () => {
    const url = await serve(async () => 'ok');
    const res = await invoke(url, 'arn:aws:lambda:us-east-1:000000000000:function:command-ingress', '{}');
    expect(await res.json()).toBe('ok');
    expect(functionNameOf('command-ingress:$LATEST')).toBe('command-ingress');
    expect(functionNameOf('000000000000:function:command-ingress')).toBe('command-ingress');
  });

  it('is 400 InvalidRequestContentException for a payload that is not JSON, without invoking', async () => {
    let calls = 0;
    const url = await serve(async () => {
      calls++;
    });
    const res = await invoke(url, 'command-ingress', '{nope');
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toBe('InvalidRequestContentException');
    expect(calls).toBe(0);
  });

  it('answers DryRun 204 without invoking', async () => {
    let calls = 0;
    const url = await serve(async () => {
      calls++;
    });
    const res = await invoke(url, 'command-ingress', '{}', { 'x-amz-invocation-type': 'DryRun' });
    expect(res.status).toBe(204);
    expect(calls).toBe(0);
  });

  it('answers an Event invocation 202 at once and retries a failing handler retryAttempts times, then logs the event as dropped', async () => {
    const log: string[] = [];
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let done!: () => void;
    const finished = new Promise<void>((r) => {
      done = r;
    });
    const url = await serve(
      async () => {
        await gate;
        calls++;
        if (calls === 3) setImmediate(done);
        throw new Error('still down');
      },
      2,
      log,
    );
    const res = await invoke(url, 'command-ingress', '{"a":1}', { 'x-amz-invocation-type': 'Event' });
    expect(res.status).toBe(202);
    expect(calls).toBe(0);
    release();
    await finished;
    await new Promise((r) => setImmediate(r));
    expect(calls).toBe(3);
    expect(log.at(-1)).toContain('command-ingress asynchronous invocation dropped after 3 attempts');
  });
});
