/**
 * `npm start`: mlplane on http://localhost:9200 in one process.
 *
 * | variable | meaning |
 * |---|---|
 * | `PORT` | HTTP port (default 9200); a port already in use is reported at once, exit code 1 |
 * | `LAMBDA_PORT` | port of the local Lambda Invoke API serving `command-ingress` on 127.0.0.1 (default 9201; 0 = any free port) |
 * | `HOST` | interface to bind (default 127.0.0.1; `0.0.0.0` to accept remote clients) |
 * | `DATA_DIR` | keep the data in this folder across restarts (default: in memory); one mlplane per folder (`DATA_DIR/mlplane.lock`) |
 * | `ELASTIC_PASSWORD` | password of the `elastic` superuser (default: generated, printed once) |
 * | `DYNAMODB_START_TIMEOUT_S` | the longest DynamoDB Local may take to start, in seconds (default 300); it is waited for while its JVM makes progress |
 * | `EVENTS_FILE` | where events out are appended as JSON lines (default: `DATA_DIR/events.jsonl` with a data folder, else `mlplane-events-<pid>.jsonl` in the temp folder); printed at start |
 * | `SCHEDULES_FILE` | a schedules file (`examples/schedules.json`) whose command schedules fire into the command ingress; a schedule EventBridge Scheduler would refuse stops the start (exit 1) naming it |
 *
 * SIGINT / SIGTERM stop everything in order (no Java process is left behind) and exit 0.
 * Signals in the next 1.5 s are the same Ctrl-C (the terminal signals npm, tsx and node,
 * and tsx relays its copy); one after that exits at once, with code 1.
 */
import { createShutdownHandler } from './shutdown.ts';
import { startLocalSystem } from './system.ts';

const log = (line: string): void => {
  process.stderr.write(`[${new Date().toISOString()}] ${line}\n`);
};

/** Exits 1 with `message` (a setting that cannot be used). */
function refuse(message: string): never {
  console.error(message);
  process.exit(1);
}

// The pinned SDK warns about Node 20 on every start; it is noise for a local runtime.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const started = Date.now();
const portText = process.env.PORT ?? '9200';
const port = Number(portText);
if (!Number.isInteger(port) || port < 0 || port > 65535) refuse(`PORT must be a port number, got ${JSON.stringify(portText)}`);
const lambdaPortText = process.env.LAMBDA_PORT ?? '9201';
const lambdaPort = Number(lambdaPortText);
if (!Number.isInteger(lambdaPort) || lambdaPort < 0 || lambdaPort > 65535) refuse(`LAMBDA_PORT must be a port number, got ${JSON.stringify(lambdaPortText)}`);
const timeoutText = process.env.DYNAMODB_START_TIMEOUT_S;
const dynamoDbTimeoutS = timeoutText === undefined || timeoutText === '' ? undefined : Number(timeoutText);
if (dynamoDbTimeoutS !== undefined && !(Number.isFinite(dynamoDbTimeoutS) && dynamoDbTimeoutS > 0)) {
  refuse(`DYNAMODB_START_TIMEOUT_S must be a number of seconds greater than 0, got ${JSON.stringify(timeoutText)}`);
}

// Interrupted while starting: exit now; the exit hooks stop the JVM and release the data folder.
const interruptStart = (signal: NodeJS.Signals): void => {
  log(`${signal}: start interrupted`);
  process.exit(130);
};
process.on('SIGINT', interruptStart);
process.on('SIGTERM', interruptStart);

try {
  const system = await startLocalSystem({
    port,
    lambdaPort,
    host: process.env.HOST,
    dataDir: process.env.DATA_DIR || undefined,
    elasticPassword: process.env.ELASTIC_PASSWORD || undefined,
    dynamoDbReadyTimeoutMs: dynamoDbTimeoutS === undefined ? undefined : dynamoDbTimeoutS * 1000,
    schedulesFile: process.env.SCHEDULES_FILE || undefined,
    log,
  });
  console.log(`mlplane listening on http://localhost:${system.port} (started in ${Date.now() - started} ms)`);
  console.log(`command ingress (Lambda Invoke API): ${system.lambdaUrl} function command-ingress; send one with npm run command -- '<event json>'`);
  console.log(`events out: ${system.eventsFile} (one EventBridge event a line)`);
  if (system.generatedPassword) console.log(`elastic password (generated, shown once): ${system.elasticPassword}`);

  const shutdown = createShutdownHandler({ stop: () => system.stop(), exit: (code) => process.exit(code), log });
  process.off('SIGINT', interruptStart);
  process.off('SIGTERM', interruptStart);
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
} catch (err) {
  console.error(`mlplane could not start: ${(err as Error).message}`);
  process.exit(1);
}
