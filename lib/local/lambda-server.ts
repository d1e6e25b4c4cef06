/**
 * The local stand-in for the Lambda Invoke API, like `sam local start-lambda`: a loopback
 * HTTP server answering `POST /2015-03-31/functions/<name>/invocations`, so the AWS CLI and
 * SDKs invoke the local functions with `--endpoint-url`:
 *
 * ```sh
 * aws lambda invoke --endpoint-url http://127.0.0.1:9201 --function-name command-ingress \
 *   --cli-binary-format raw-in-base64-out --payload file://event.json out.json
 * ```
 *
 * Lambda's answers: `RequestResponse` (default) 200 with the handler's JSON result, or, when the
 * handler throws, 200 with `X-Amz-Function-Error: Unhandled` and `{errorType, errorMessage,
 * trace}`; `Event` 202 at once, the handler run in the background with the function's retry
 * attempts (Lambda's asynchronous invocation; locally the retries come at once, not after
 * Lambda's one and two minutes, and an event failing them all is logged: there is no local
 * DLQ); `DryRun` 204. Errors as the Lambda API gives them (`x-amzn-ErrorType` header and
 * `{Type, message}` body): 404 `ResourceNotFoundException` for an unknown function, 400
 * `InvalidRequestContentException` for a payload that is not JSON, 400
 * `InvalidParameterValueException` for another invocation type.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Context } from 'aws-lambda';
import { listen } from './listen.ts';
import { createLambdaContext, LOCAL_ACCOUNT_ID } from './lambda.ts';

/** A function the server invokes: any Lambda handler taking a JSON event. */
export type InvokeHandler = (event: unknown, context: Context) => Promise<unknown>;

/** One function served by the local Invoke API. */
export interface LocalLambdaFunction {
  /** Returns the handler (loaded once, like a cold start). */
  resolve: () => Promise<InvokeHandler>;
  /** The function timeout, ms: the context counts down from it. */
  timeoutMs: number;
  memoryMiB?: number;
  /** Retries of a failed `Event` invocation (Lambda's `MaximumRetryAttempts`). */
  retryAttempts: number;
}

/** Options of {@link startLambdaServer}. */
export interface LambdaServerOptions {
  /** Port; 0 picks a free one. */
  port: number;
  /** Interface to bind (default `127.0.0.1`). */
  host?: string;
  region: string;
  /** The functions by name (`command-ingress`). */
  functions: Record<string, LocalLambdaFunction>;
  log?: (line: string) => void;
}

/** A running local Invoke API. */
export interface LocalLambdaServer {
  server: Server;
  port: number;
  /** Stops accepting invocations, lets in-flight synchronous ones finish, then resolves (background `Event` runs are not waited for). */
  stop(): Promise<void>;
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

/** The function name of a name, a partial ARN or a full ARN (`arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`). */
export function functionNameOf(raw: string): string {
  const m = /^(?:arn:[^:]+:lambda:[^:]*:[^:]*:function:|\d{12}:function:)?([^:]+)(?::[^:]+)?$/.exec(raw);
  return m?.[1] ?? raw;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), 'x-amzn-requestid': randomUUID(), ...headers });
  res.end(text);
}

function apiError(res: ServerResponse, status: number, type: string, message: string): void {
  send(res, status, { Type: 'User', message }, { 'x-amzn-errortype': type });
}

function readAll(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** What a Node.js Lambda runtime reports for an error thrown by the handler. */
function errorPayload(err: unknown): { errorType: string; errorMessage: string; trace: string[] } {
  const e = err instanceof Error ? err : new Error(String(err));
  return { errorType: e.name, errorMessage: e.message, trace: (e.stack ?? '').split('\n') };
}

/** Starts the local Invoke API on `opts.port` (see the module comment); resolves once listening. */
export async function startLambdaServer(opts: LambdaServerOptions): Promise<LocalLambdaServer> {
  const log = opts.log ?? (() => undefined);

  const invoke = async (name: string, fn: LocalLambdaFunction, event: unknown): Promise<unknown> => {
    const handler = await fn.resolve();
    const context = createLambdaContext({ functionName: name, timeoutMs: fn.timeoutMs, memoryMiB: fn.memoryMiB, region: opts.region });
    return handler(event, context);
  };

  const inBackground = async (name: string, fn: LocalLambdaFunction, event: unknown): Promise<void> => {
    for (let attempt = 0; attempt <= fn.retryAttempts; attempt++) {
      try {
        await invoke(name, fn, event);
        return;
      } catch (err) {
        log(`lambda: ${name} asynchronous invocation failed (attempt ${attempt + 1} of ${fn.retryAttempts + 1}): ${(err as Error)?.message ?? String(err)}`);
      }
    }
    log(
      `lambda: ${name} asynchronous invocation dropped after ${fn.retryAttempts + 1} attempts (in AWS it goes to the function's dead-letter queue): ${JSON.stringify(event).slice(0, 2000)}`,
    );
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const m = INVOKE_PATH.exec(url.pathname);
    if (req.method !== 'POST' || !m) {
      apiError(res, 404, 'UnknownOperationException', `Unknown operation ${req.method} ${url.pathname}`);
      return;
    }
    const name = functionNameOf(decodeURIComponent(m[1] as string));
    const fn = opts.functions[name];
    if (!fn) {
      apiError(res, 404, 'ResourceNotFoundException', `Function not found: arn:aws:lambda:${opts.region}:${LOCAL_ACCOUNT_ID}:function:${name}`);
      return;
    }
    const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    if (!['RequestResponse', 'Event', 'DryRun'].includes(type)) {
      apiError(
        res,
        400,
        'InvalidParameterValueException',
        `1 validation error detected: Value '${type}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]`,
      );
      return;
    }
    const text = await readAll(req);
    let event: unknown = {};
    if (text !== '') {
      try {
        event = JSON.parse(text);
      } catch (err) {
        apiError(res, 400, 'InvalidRequestContentException', `Could not parse request body into json: ${(err as Error).message}`);
        return;
      }
    }
    if (type === 'DryRun') {
      send(res, 204, undefined);
      return;
    }
    if (type === 'Event') {
      void inBackground(name, fn, event);
      send(res, 202, undefined);
      return;
    }
    try {
      const result = await invoke(name, fn, event);
      send(res, 200, result ?? null, { 'x-amz-executed-version': '$LATEST' });
    } catch (err) {
      log(`lambda: ${name} failed: ${(err as Error)?.stack ?? String(err)}`);
      send(res, 200, errorPayload(err), { 'x-amz-function-error': 'Unhandled', 'x-amz-executed-version': '$LATEST' });
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log(`lambda: request failed: ${(err as Error)?.stack ?? String(err)}`);
      if (!res.headersSent) apiError(res, 500, 'ServiceException', 'internal error');
    });
  });
  return listen(server, opts.port, opts.host);
}
