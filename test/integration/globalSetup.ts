import type { TestProject } from 'vitest/node';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalSystem } from '../../lib/local/system.ts';

/**
 * Starts the whole local system once for the integration run (DynamoDB Local in memory,
 * fauxqs, the worker's event source, the HTTP server on a free port; no cron, so
 * schedules run only when a test invokes them) and provides its URL, the `elastic`
 * password, the functions' environment and the events-out file to the tests. Stops it after the run.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The handlers run in this process: keep their access lines out of the test output (LOG_LEVEL=info shows them).
  process.env.LOG_LEVEL ??= 'warn';
  const system = await startLocalSystem({
    port: 0,
    lambdaPort: 0,
    elasticPassword: 'test-password',
    cron: false,
    // Events out are appended here; events-out.test.ts reads them.
    eventsFile: join(mkdtempSync(join(tmpdir(), 'mlplane-it-')), 'events.jsonl'),
    log: (line) => process.stderr.write(`[mlplane] ${line}\n`),
  });
  project.provide('esUrl', system.url);
  project.provide('lambdaUrl', system.lambdaUrl);
  project.provide('elasticPassword', system.elasticPassword);
  project.provide('awsEnv', system.env);
  project.provide('eventsFile', system.eventsFile);
  return () => system.stop();
}
