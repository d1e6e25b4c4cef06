/**
 * The whole of mlplane in one process, wired as AWS wires it: DynamoDB Local for the
 * table, fauxqs for the queues, a local API Gateway for the HTTP functions, an SQS event
 * source mapping for the worker, and cron for the EventBridge schedules. Every resource
 * comes from `lib/runtime/topology.ts`, like the CDK stack's.
 */
import { randomInt } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { interceptLocalhostDns } from 'fauxqs';
import { config, resetConfig } from '../runtime/config.ts';
import type { CommandSchedule } from '../domain/command-schedule.ts';
import { ScheduleConfigError } from '../domain/errors.ts';
import { readSchedulesFile } from '../runtime/schedules-file.ts';
import { commandIngress, routes, schedules as topologySchedules, table, workers, type HttpFunctionName, type ScheduleFunctionName } from '../runtime/topology.ts';
import { startCommandSchedules } from './command-schedules.ts';
import { startCron, type CronRunner } from './cron.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { createLocalDynamoDbClient, ensureTable, startDynamoDbLocal, type LocalDynamoDb } from './dynamodb.ts';
import { startEventSource, type EventSource } from './event-source.ts';
import { startHttpServer, type LocalHttpServer } from './http-server.ts';
import { startLambdaServer, type InvokeHandler, type LocalLambdaServer } from './lambda-server.ts';
import { type CommandHandler, createLambdaContext, handlerCache, REPO_ROOT_URL, type HttpHandler, type ScheduleHandler, type SqsHandler } from './lambda.ts';
import { assertPortFree } from './port-check.ts';
import { fileScheduleStateStore, memoryScheduleStateStore } from './schedule-state.ts';
import { createLocalSqsClient, startLocalSqs, type LocalSqs } from './sqs.ts';

/** What {@link LocalSystemOptions.onStarted} receives. */
export interface LocalSystemContext {
  env: Record<string, string>;
  dynamodb: LocalDynamoDb;
  sqs: LocalSqs;
  dataDir: string | undefined;
}

/** Options of {@link startLocalSystem}. */
export interface LocalSystemOptions {
  /** HTTP port (default 9200; 0 = any free port). */
  port?: number;
  /** Interface the HTTP server binds (default `127.0.0.1`). */
  host?: string;
  /**
   * Port of the local Lambda Invoke API (`lib/local/lambda-server.ts`; always on 127.0.0.1):
   * default 9201, or 0 (any free port) when `port` is 0, so systems started on free ports
   * (tests) never collide on it.
   */
  lambdaPort?: number;
  /**
   * Keep the DynamoDB data in `<dataDir>/dynamodb`; without it everything is in memory.
   * The folder is locked (`<dataDir>/mlplane.lock`) for as long as the system runs.
   */
  dataDir?: string;
  /** How long DynamoDB Local may take to answer, in ms (default: `startDynamoDbLocal`'s, 300 000). */
  dynamoDbReadyTimeoutMs?: number;
  /** Password of the bootstrap superuser `elastic` (default `ELASTIC_PASSWORD`, else a generated one). */
  elasticPassword?: string;
  /** Default `AWS_REGION`, else `us-east-1`. */
  region?: string;
  /** Concurrent SQS pollers of the worker (default 4). */
  pollers?: number;
  /** Visibility timeout of the command queue, in s (default: the topology's 360); tests lower it to see redeliveries. */
  visibilityTimeoutSeconds?: number;
  /** Run the schedules (default true). */
  cron?: boolean;
  /**
   * Where events out go, as JSON lines (the EventBridge envelope): default `EVENTS_FILE`, else
   * `<dataDir>/events.jsonl` with a data folder, else `<tmpdir>/mlplane-events-<pid>.jsonl`.
   */
  eventsFile?: string;
  /**
   * A schedules file (`SCHEDULES_FILE`; format in `lib/domain/command-schedule.ts`): its
   * command schedules fire into the command ingress while `cron` is on, with their state (for
   * runs missed while down) in `<dataDir>/schedules-state.json`. Checked before anything
   * starts: a bad file is a `ScheduleConfigError` naming the file, the schedule and the field.
   */
  schedulesFile?: string;
  /** Command schedules given directly (tests), besides those of `schedulesFile`. */
  commandSchedules?: readonly CommandSchedule[];
  /** Where log lines go (default: nowhere). */
  log?: (line: string) => void;
  /**
   * Called once the table (with the superuser) and the queues exist, before the
   * worker, cron and HTTP start. fauxqs loses its messages on restart: with a data
   * folder, this is where queued Command items are sent again.
   */
  onStarted?: (ctx: LocalSystemContext) => Promise<void> | void;
}

/** A running local system. */
export interface LocalSystem {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** `http://127.0.0.1:<port>` of the local Lambda Invoke API, serving {@link COMMAND_INGRESS_LOCAL_NAME}. */
  lambdaUrl: string;
  elasticPassword: string;
  /** True when the password was generated here (print it once). */
  generatedPassword: boolean;
  /**
   * The environment the functions run with (also set on `process.env`): AWS_REGION,
   * dummy credentials, AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_SQS (the
   * `sqs.<region>.localhost` origin of the queue URLs), TABLE_NAME, COMMAND_QUEUE_URL,
   * COMMAND_DLQ_URL, NODE_NAME, and LOCAL_SQS_ENDPOINT (`http://127.0.0.1:<port>`, for
   * clients in other processes, which must pass it as an explicit `endpoint` or call
   * fauxqs's `interceptLocalhostDns()`).
   */
  env: Record<string, string>;
  dynamodb: LocalDynamoDb;
  sqs: LocalSqs;
  /** The file events out are appended to (see {@link LocalSystemOptions.eventsFile}); it exists from the start. */
  eventsFile: string;
  /** The schedules, when `cron` is on (`trigger(name)` runs one now). */
  cron: CronRunner | undefined;
  /** Stops HTTP, cron, the worker (in-flight batches finish), fauxqs and DynamoDB Local, in that order; restores `process.env`. */
  stop(): Promise<void>;
}

/** The name the local Invoke API serves the command ingress under (`aws lambda invoke --function-name command-ingress`). */
export const COMMAND_INGRESS_LOCAL_NAME = 'command-ingress';

const PASSWORD_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A random password of `length` letters and digits (node:crypto). */
export function generatePassword(length = 20): string {
  let out = '';
  for (let i = 0; i < length; i++) out += PASSWORD_ALPHABET[randomInt(PASSWORD_ALPHABET.length)];
  return out;
}

/** The events file of {@link LocalSystemOptions.eventsFile}. */
export function localEventsFile(opts: Pick<LocalSystemOptions, 'eventsFile' | 'dataDir'>, env: NodeJS.ProcessEnv = process.env): string {
  if (opts.eventsFile) return opts.eventsFile;
  // An explicit setting wins over the data folder's default.
  if (env.EVENTS_FILE) return env.EVENTS_FILE;
  if (opts.dataDir) return join(opts.dataDir, 'events.jsonl');
  return join(tmpdir(), `mlplane-events-${process.pid}.jsonl`);
}

/** Sets `vars` on `process.env` and returns a function that puts the previous values back. */
function applyEnv(vars: Record<string, string>): () => void {
  const previous = new Map<string, string | undefined>();
  for (const [k, v] of Object.entries(vars)) {
    previous.set(k, process.env[k]);
    process.env[k] = v;
  }
  return () => {
    for (const [k, v] of previous) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

async function bootstrapSuperuser(password: string, keepExisting: boolean): Promise<boolean> {
  const mod = await import(new URL('lib/app/security.ts', REPO_ROOT_URL).href);
  return (mod as typeof import('../app/security.ts')).ensureBootstrapSuperuser(password, { keepExisting });
}

/** Re-sends the queue messages of commands left unfinished by a previous run (fauxqs keeps nothing across restarts). */
async function requeuePending(log: (line: string) => void): Promise<void> {
  const mod = (await import(new URL('lib/app/recovery.ts', REPO_ROOT_URL).href)) as typeof import('../app/recovery.ts');
  const n = await mod.requeuePendingCommands({ log });
  if (n > 0) log(`recovery: re-enqueued ${n} unfinished command messages`);
}

/**
 * Starts the local system. DynamoDB Local and fauxqs start in parallel; then
 * `process.env` is set (before any function module is imported, so their cold-start
 * configuration sees it), the table is created if missing, the superuser `elastic` is
 * bootstrapped, `onStarted` runs, and the worker's event source, the schedules and the
 * HTTP server start. Two checks come before anything is started: the data folder's
 * lock (`DataDirInUseError` when another live process holds it) and the HTTP port
 * (`PortInUseError`). On any failure everything already started is stopped and the
 * error rethrown (e.g. "DynamoDB Local needs Java 17: …").
 */
export async function startLocalSystem(opts: LocalSystemOptions = {}): Promise<LocalSystem> {
  const log = opts.log ?? (() => undefined);
  const region = opts.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const fromOpts = opts.elasticPassword ?? process.env.ELASTIC_PASSWORD;
  const elasticPassword = fromOpts && fromOpts !== '' ? fromOpts : generatePassword();
  const generatedPassword = !(fromOpts && fromOpts !== '');

  // Undone in reverse order by stop() or on a failed start.
  const teardown: Array<() => Promise<void> | void> = [];
  const unwind = async (): Promise<void> => {
    while (teardown.length > 0) {
      const step = teardown.pop()!;
      try {
        await step();
      } catch (err) {
        log(`stop: ${(err as Error).message}`);
      }
    }
  };

  // Before anything starts: a schedule that EventBridge Scheduler would refuse stops the start.
  const userSchedules = [...(opts.commandSchedules ?? []), ...(opts.schedulesFile ? readSchedulesFile(opts.schedulesFile) : [])];
  for (const s of userSchedules) {
    if (topologySchedules.some((t) => t.name === s.name)) {
      throw new ScheduleConfigError(`${opts.schedulesFile ?? 'schedules'}: schedule [${s.name}]: name: mlplane's own schedule has that name; pick another`);
    }
  }

  try {
    // First of all: a second runtime on the same data folder would corrupt the first one's work.
    if (opts.dataDir) {
      const lock = await lockDataDir(opts.dataDir);
      // A forced exit (second Ctrl-C, uncaught error) skips stop(): release the lock anyway.
      process.on('exit', lock.release);
      teardown.push(() => {
        process.off('exit', lock.release);
        lock.release();
      });
    }
    // Before the JVM: a taken port should not cost a DynamoDB Local start to find out.
    await assertPortFree(opts.port ?? 9200, opts.host ?? '127.0.0.1');
    const lambdaPort = opts.lambdaPort ?? (opts.port === 0 ? 0 : 9201);
    await assertPortFree(lambdaPort, '127.0.0.1', 'LAMBDA_PORT');
    // The pinned SDK warns about Node 20 at the first client; noise for a local runtime.
    teardown.push(applyEnv({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ?? 'true' }));
    // The handlers' SQS clients follow queue URLs to sqs.<region>.localhost.
    const restoreDns = interceptLocalhostDns();
    teardown.push(restoreDns);

    const [dynamo, sqs] = await Promise.allSettled([
      startDynamoDbLocal({ dataDir: opts.dataDir, readyTimeoutMs: opts.dynamoDbReadyTimeoutMs, log }),
      startLocalSqs({ region, visibilityTimeoutSeconds: opts.visibilityTimeoutSeconds }),
    ]);
    if (dynamo.status === 'fulfilled') teardown.push(() => dynamo.value.stop());
    if (sqs.status === 'fulfilled') teardown.push(() => sqs.value.stop());
    if (dynamo.status === 'rejected') throw dynamo.reason;
    if (sqs.status === 'rejected') throw sqs.reason;
    const dynamodb = dynamo.value;
    const queues = sqs.value;
    // Events out go to a file locally (lib/queue/events.ts); created now so `tail -f` can follow it from the start.
    const eventsFile = localEventsFile(opts);
    appendFileSync(eventsFile, '');

    const env: Record<string, string> = {
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
      AWS_ENDPOINT_URL_SQS: queues.queueUrlOrigin,
      LOCAL_SQS_ENDPOINT: queues.endpoint,
      TABLE_NAME: table.logicalName,
      COMMAND_QUEUE_URL: queues.commandQueue.url,
      COMMAND_DLQ_URL: queues.deadLetterQueue.url,
      NODE_NAME: process.env.NODE_NAME ?? 'mlplane-0',
      EVENTS_FILE: eventsFile,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ?? 'true',
    };
    teardown.push(applyEnv(env));
    resetConfig();
    teardown.push(resetConfig);
    const runtime = config();

    const ddb = createLocalDynamoDbClient(dynamodb.endpoint, region);
    try {
      await ensureTable(ddb, runtime.tableName);
    } finally {
      ddb.destroy();
    }
    const passwordSet = await bootstrapSuperuser(elasticPassword, generatedPassword);
    if (!passwordSet) log('security: the elastic user exists in the data dir and keeps its password');
    if (opts.dataDir) await requeuePending(log);
    await opts.onStarted?.({ env, dynamodb, sqs: queues, dataDir: opts.dataDir });

    const sqsClient = createLocalSqsClient(queues.endpoint, region);
    teardown.push(() => sqsClient.destroy());
    const loadWorker = handlerCache<SqsHandler>();
    const worker: EventSource = startEventSource({
      client: sqsClient,
      queue: { url: queues.commandQueue.url, arn: queues.commandQueue.arn },
      region,
      functionName: 'commands',
      timeoutMs: workers.commands.timeoutSeconds * 1000,
      memoryMiB: workers.commands.memoryMiB,
      pollers: opts.pollers,
      handler: async (event, context) => (await loadWorker('functions/workers/commands.ts'))(event, context),
      log,
    });
    teardown.push(() => worker.stop());

    let cron: CronRunner | undefined;
    if (opts.cron !== false) {
      const loadSchedule = handlerCache<ScheduleHandler>();
      const loadIngress = handlerCache<CommandHandler>();
      const commands =
        userSchedules.length === 0
          ? undefined
          : await startCommandSchedules({
              schedules: userSchedules,
              state: opts.dataDir ? fileScheduleStateStore(opts.dataDir, log) : memoryScheduleStateStore(),
              invoke: async (event) =>
                (await loadIngress(`functions/commands/${commandIngress.name}.ts`))(
                  event,
                  createLambdaContext({
                    functionName: `commands-${commandIngress.name}`,
                    timeoutMs: commandIngress.timeoutSeconds * 1000,
                    memoryMiB: commandIngress.memoryMiB,
                    region,
                  }),
                ),
              log,
            });
      const runner = startCron({
        region,
        resolveHandler: (fn: ScheduleFunctionName) => loadSchedule(`functions/schedules/${fn}.ts`),
        log,
        commands,
      });
      cron = runner;
      teardown.push(() => runner.stop());
    }

    const loadHttp = handlerCache<HttpHandler>();
    const resolveHttp = (fn: HttpFunctionName) => loadHttp(`functions/http/${fn}.ts`);
    const http: LocalHttpServer = await startHttpServer({
      port: opts.port ?? 9200,
      host: opts.host,
      routes,
      resolveHandler: resolveHttp,
      maxBodyBytes: runtime.maxBodyBytes,
      region,
      log,
    });
    teardown.push(() => http.stop());

    // Warm the HTTP functions (their cold start) without delaying readiness; report the ones missing.
    for (const fn of new Set(routes.map((r) => r.fn))) {
      resolveHttp(fn).catch((err: unknown) => log(`http: ${(err as Error).message}`));
    }

    const loadInvoke = handlerCache<InvokeHandler>();
    const lambda: LocalLambdaServer = await startLambdaServer({
      port: lambdaPort,
      region,
      functions: {
        [COMMAND_INGRESS_LOCAL_NAME]: {
          resolve: () => loadInvoke(`functions/commands/${commandIngress.name}.ts`),
          timeoutMs: commandIngress.timeoutSeconds * 1000,
          memoryMiB: commandIngress.memoryMiB,
          retryAttempts: commandIngress.retryAttempts,
        },
      },
      log,
    });
    teardown.push(() => lambda.stop());
    const lambdaUrl = `http://127.0.0.1:${lambda.port}`;
    log(`lambda: Invoke API on ${lambdaUrl} (function ${COMMAND_INGRESS_LOCAL_NAME})`);

    const url = `http://127.0.0.1:${http.port}`;
    log(`http: listening on ${url}`);
    let stopped: Promise<void> | undefined;
    return {
      url,
      port: http.port,
      lambdaUrl,
      elasticPassword,
      generatedPassword: generatedPassword && passwordSet,
      env,
      eventsFile,
      dynamodb,
      sqs: queues,
      cron,
      stop: () => (stopped ??= unwind()),
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}
