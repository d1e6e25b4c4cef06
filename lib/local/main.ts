/**
 * `npm start`: mlplane on http://localhost:9200 in one process.
 *
 * | variable | meaning |
 * |---|---|
 * | `PORT` | HTTP port (default 9200) |
 * | `HOST` | interface to bind (default 127.0.0.1; `0.0.0.0` to accept remote clients) |
 * | `DATA_DIR` | keep the data in this folder across restarts (default: in memory) |
 * | `ELASTIC_PASSWORD` | password of the `elastic` superuser (default: generated, printed once) |
 *
 * SIGINT / SIGTERM stop everything in order (no Java process is left behind) and exit 0;
 * a second signal exits at once.
 */
import { startLocalSystem } from './system.ts';

const log = (line: string): void => {
  process.stderr.write(`[${new Date().toISOString()}] ${line}\n`);
};

// The pinned SDK warns about Node 20 on every start; it is noise for a local runtime.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const started = Date.now();
const portText = process.env.PORT ?? '9200';
const port = Number(portText);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number, got ${JSON.stringify(portText)}`);
  process.exit(1);
}

try {
  const system = await startLocalSystem({
    port,
    host: process.env.HOST,
    dataDir: process.env.DATA_DIR || undefined,
    elasticPassword: process.env.ELASTIC_PASSWORD || undefined,
    log,
  });
  console.log(`mlplane listening on http://localhost:${system.port} (started in ${Date.now() - started} ms)`);
  if (system.generatedPassword) console.log(`elastic password (generated, shown once): ${system.elasticPassword}`);

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    log(`${signal}: stopping`);
    system.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
} catch (err) {
  console.error(`mlplane could not start: ${(err as Error).message}`);
  process.exit(1);
}
