/**
 * Runs Elasticsearch's YAML REST tests (`x-pack/plugin/src/yamlRestTest/resources/rest-api-spec/test/ml/*.yml`
 * in elastic/elasticsearch) against a running mlplane: a dev tool for conformance, not part of
 * the product. The test files and the rest-api-spec files are not in this repository (their
 * licence does not allow copying them here): save them outside it and pass their directory.
 * Directories are walked recursively (the watcher suites keep one folder per API).
 *
 *   npm run yaml-rest -- <dir-or-file>… [--api <rest-api-spec api dir>] [--report <file.json>] [--filter <text>]
 *
 * `--api` defaults to `<first dir>/../api`; `--report` to `yaml-rest-report.json`; `--filter`
 * runs only tests whose name contains the text. The server is `ES_URL` (default
 * http://localhost:9200), user `ES_USERNAME` (default `elastic`) with `ES_PASSWORD` or
 * `ELASTIC_PASSWORD`. Each test runs the file's setup, its steps and the teardown, then the
 * state is wiped through the API (see cleanup.ts). Exit status 1 when a test failed.
 */
import { statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '@elastic/elasticsearch';
import { loadApiSpecs } from './api-spec.ts';
import { ASSERTIONS, AssertionFailure, runAssertion } from './assertions.ts';
import { wipeState } from './cleanup.ts';
import { type DoContext, runDo } from './do-step.ts';
import { collectTestFiles } from './files.ts';
import { evaluatePath } from './object-path.ts';
import { skipReason } from './skip.ts';
import { Stash } from './stash.ts';
import { readSuite, type Step, type Suite } from './suite.ts';
import { loadYamlParser } from './yaml-loader.ts';

interface TestResult {
  file: string;
  name: string;
  status: 'passed' | 'failed' | 'skipped';
  reason?: string;
  failure?: { section: string; step: number; kind: string; message: string; request?: unknown; response?: unknown };
  duration_ms: number;
}

const STEP_KINDS = new Set(['do', 'set', 'skip', 'requires', ...ASSERTIONS]);

class StepFailure extends Error {
  constructor(
    readonly section: string,
    readonly step: number,
    readonly kind: string,
    message: string,
  ) {
    super(message);
  }
}

function stepLabel(step: Step): string {
  if (step.kind !== 'do') return step.kind;
  const api = Object.keys((step.arg ?? {}) as object).find(
    (k) => !['catch', 'headers', 'warnings', 'allowed_warnings', 'warnings_regex', 'allowed_warnings_regex', 'node_selector'].includes(k),
  );
  return `do ${api ?? '?'}`;
}

async function runSteps(section: string, steps: Step[], ctx: DoContext): Promise<void> {
  for (const [i, step] of steps.entries()) {
    try {
      if (step.kind === 'skip' || step.kind === 'requires') continue;
      if (step.kind === 'do') await runDo(step.arg, ctx);
      else if (step.kind === 'set') {
        for (const [path, name] of Object.entries((step.arg ?? {}) as Record<string, unknown>)) ctx.stash.set(String(name), evaluatePath(ctx.stash.lastBody, path, ctx.stash));
      } else runAssertion(step.kind, step.arg, ctx.stash.lastBody, ctx.stash);
    } catch (err) {
      const message = err instanceof AssertionFailure ? err.message : `${(err as Error).name}: ${(err as Error).message}`;
      throw new StepFailure(section, i + 1, stepLabel(step), message);
    }
  }
}

/** The reason to skip a test: a skip/requires step that applies, or a step kind this runner lacks. */
function testSkipReason(suite: Suite, steps: Step[], serverVersion: string): string | undefined {
  for (const step of [...suite.setup, ...steps]) {
    if (step.kind === 'skip' || step.kind === 'requires') {
      const reason = skipReason(step.kind, step.arg, serverVersion);
      if (reason) return reason;
    } else if (!STEP_KINDS.has(step.kind)) return `step [${step.kind}] not supported by this runner`;
  }
  return undefined;
}

const truncate = (v: unknown, max = 2000): unknown => {
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  return text !== undefined && text.length > max ? `${text.slice(0, max)}…` : v;
};

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { api: { type: 'string' }, report: { type: 'string', default: 'yaml-rest-report.json' }, filter: { type: 'string' } },
  });
  if (positionals.length === 0) {
    console.error('usage: npm run yaml-rest -- <dir-or-file>… [--api <dir>] [--report <file.json>] [--filter <text>]');
    return 2;
  }
  const first = resolve(positionals[0]!);
  const apiDir = values.api ?? join(statSync(first).isDirectory() ? first : dirname(first), '..', 'api');
  const specs = loadApiSpecs(apiDir);
  const yaml = await loadYamlParser();
  const suites = collectTestFiles(positionals).map((f) => readSuite(f.path, yaml, f.label));

  const esUrl = process.env.ES_URL || 'http://localhost:9200';
  const username = process.env.ES_USERNAME || 'elastic';
  const password = process.env.ES_PASSWORD || process.env.ELASTIC_PASSWORD || '';
  const client = new Client({ node: esUrl, auth: { username, password }, requestTimeout: 120_000, maxRetries: 0 });
  const info = (await client.info()) as { version: { number: string } };
  const serverVersion = info.version.number;
  console.log(`${esUrl} (version ${serverVersion}), ${suites.length} file(s), specs from ${apiDir}`);

  const results: TestResult[] = [];
  await wipeState(client);
  for (const suite of suites) {
    console.log(`\n${suite.file}`);
    for (const test of suite.tests) {
      if (values.filter && !test.name.includes(values.filter)) continue;
      const started = Date.now();
      const result: TestResult = { file: suite.file, name: test.name, status: 'passed', duration_ms: 0 };
      const reason = testSkipReason(suite, test.steps, serverVersion);
      if (reason) {
        result.status = 'skipped';
        result.reason = reason;
      } else {
        const ctx: DoContext = { client, specs, stash: new Stash(), authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
        try {
          await runSteps('setup', suite.setup, ctx);
          await runSteps('test', test.steps, ctx);
        } catch (err) {
          const f = err as StepFailure;
          result.status = 'failed';
          result.failure = { section: f.section, step: f.step, kind: f.kind, message: f.message, request: ctx.last?.request, response: truncate(ctx.last?.response) };
        }
        try {
          await runSteps('teardown', suite.teardown, ctx);
        } catch (err) {
          const f = err as StepFailure;
          if (result.status === 'passed') {
            result.status = 'failed';
            result.failure = { section: f.section, step: f.step, kind: f.kind, message: f.message };
          }
        }
        await wipeState(client);
      }
      result.duration_ms = Date.now() - started;
      results.push(result);
      if (result.status === 'passed') console.log(`  PASS ${test.name}`);
      else if (result.status === 'skipped') console.log(`  SKIP ${test.name} (${result.reason})`);
      else {
        const f = result.failure!;
        console.log(`  FAIL ${test.name}\n       ${f.section} step ${f.step} (${f.kind}): ${f.message}`);
      }
    }
  }

  const count = (s: TestResult['status']) => results.filter((r) => r.status === s).length;
  const summary = { passed: count('passed'), failed: count('failed'), skipped: count('skipped'), total: results.length };
  const width = Math.max(32, ...suites.map((s) => s.file.length)) + 2;
  console.log(`\n${'file'.padEnd(width)} pass  fail  skip`);
  for (const suite of suites) {
    const of = results.filter((r) => r.file === suite.file);
    const n = (s: TestResult['status']) => String(of.filter((r) => r.status === s).length).padStart(4);
    console.log(`${suite.file.padEnd(width)} ${n('passed')}  ${n('failed')}  ${n('skipped')}`);
  }
  console.log(`total: ${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped of ${summary.total}`);
  writeFileSync(values.report, `${JSON.stringify({ es_url: esUrl, server_version: serverVersion, date: new Date().toISOString(), summary, results }, null, 2)}\n`);
  console.log(`report: ${values.report}`);
  await client.close();
  return summary.failed > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 2;
  },
);
