/**
 * What the local runtime needs to call a function the way Lambda does: the handler
 * signatures of the three function kinds, a `Context` whose clock runs down like
 * Lambda's, and loading a handler module by its path in the repository.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context, SQSBatchResponse, SQSEvent, ScheduledEvent } from 'aws-lambda';

/** An HTTP function (API Gateway HTTP API, payload format 2.0). */
export type HttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResultV2>;
/** An SQS consumer with partial batch responses (`ReportBatchItemFailures`). */
export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;
/** An EventBridge-scheduled function. */
export type ScheduleHandler = (event: ScheduledEvent, context: Context) => Promise<void>;
/** The command-ingress function: a command event (bare or in an EventBridge envelope) in, its outcome out. */
export type CommandHandler = (event: unknown, context: Context) => Promise<unknown>;

/** The account id the local runtime puts in ARNs and request contexts (fauxqs uses the same). */
export const LOCAL_ACCOUNT_ID = '000000000000';

/** The repository root, resolved from this file (`lib/local/` is two levels down). */
export const REPO_ROOT_URL = new URL('../../', import.meta.url);

export interface LambdaContextOptions {
  functionName: string;
  /** The function timeout, in ms; `getRemainingTimeInMillis()` counts down from it. */
  timeoutMs: number;
  memoryMiB?: number;
  region: string;
}

/**
 * A Lambda `Context` for one invocation. `getRemainingTimeInMillis()` counts down from
 * `timeoutMs` starting now (never below 0), as Lambda's does, so handlers that stop
 * near their time limit behave locally as they do in AWS.
 */
export function createLambdaContext(opts: LambdaContextOptions): Context {
  const deadline = Date.now() + opts.timeoutMs;
  const requestId = randomUUID();
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: opts.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${opts.region}:${LOCAL_ACCOUNT_ID}:function:${opts.functionName}`,
    memoryLimitInMB: String(opts.memoryMiB ?? 1024),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${opts.functionName}`,
    logStreamName: `${day}/[$LATEST]${requestId.replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * Imports `export const handler` from a module given by its repository-relative path
 * (`functions/http/jobs.ts`). The import is dynamic so that it happens after the local
 * runtime has set `process.env`, as a Lambda cold start reads its configuration.
 * Throws an Error naming the file when the module cannot be loaded or has no `handler`.
 */
export async function loadHandler<H>(relativePath: string): Promise<H> {
  const url = new URL(relativePath, REPO_ROOT_URL);
  let mod: { handler?: unknown };
  try {
    mod = (await import(url.href)) as { handler?: unknown };
  } catch (err) {
    throw new Error(`${relativePath} could not be loaded: ${(err as Error).message}`, { cause: err });
  }
  if (typeof mod.handler !== 'function') throw new Error(`${relativePath} does not export a handler function`);
  return mod.handler as H;
}

/**
 * Memoizes `loadHandler` per path (one cold start per function). A failed load is
 * forgotten, so the next invocation tries again (and reports the error again).
 */
export function handlerCache<H>(): (relativePath: string) => Promise<H> {
  const cache = new Map<string, Promise<H>>();
  return (relativePath) => {
    let p = cache.get(relativePath);
    if (!p) {
      p = loadHandler<H>(relativePath);
      p.catch(() => cache.delete(relativePath));
      cache.set(relativePath, p);
    }
    return p;
  };
}
