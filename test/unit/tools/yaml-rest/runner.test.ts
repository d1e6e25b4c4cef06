import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildRequest, ParamError, type ApiSpec } from '../../../../tools/yaml-rest/api-spec.ts';
import { AssertionFailure, compileTestRegex, runAssertion } from '../../../../tools/yaml-rest/assertions.ts';
import { warningMessages } from '../../../../tools/yaml-rest/do-step.ts';
import { collectTestFiles } from '../../../../tools/yaml-rest/files.ts';
import { evaluatePath, splitPath } from '../../../../tools/yaml-rest/object-path.ts';
import { skipReason, versionInRanges } from '../../../../tools/yaml-rest/skip.ts';
import { Stash } from '../../../../tools/yaml-rest/stash.ts';

const spec = (name: string, paths: ApiSpec['paths'], params: string[] = [], bodySerialize?: string): [string, ApiSpec] => [
  name,
  { name, paths, params: new Set(params), ...(bodySerialize ? { bodySerialize } : {}) },
];
const specs = new Map([
  spec(
    'ml.get_datafeeds',
    [
      { path: '/_ml/datafeeds/{datafeed_id}', methods: ['GET'], parts: { datafeed_id: {} } },
      { path: '/_ml/datafeeds', methods: ['GET'] },
    ],
    ['allow_no_match'],
  ),
  spec('ml.post_data', [{ path: '/_ml/anomaly_detectors/{job_id}/_data', methods: ['POST'], parts: { job_id: {} } }], [], 'bulk'),
]);

describe('yaml-rest request building', () => {
  it('fills the path with the most parts given and sends the rest as query parameters', () => {
    expect(buildRequest(specs, 'ml.get_datafeeds', { datafeed_id: 'a*', allow_no_match: false })).toEqual({
      api: 'ml.get_datafeeds',
      method: 'GET',
      path: '/_ml/datafeeds/a*',
      querystring: { allow_no_match: 'false' },
    });
    expect(buildRequest(specs, 'ml.get_datafeeds', {}).path).toBe('/_ml/datafeeds');
  });

  it('refuses an unknown parameter or API as catch: param expects', () => {
    expect(() => buildRequest(specs, 'ml.get_datafeeds', { nope: 1 })).toThrow(ParamError);
    expect(() => buildRequest(specs, 'ml.unknown', {})).toThrow(ParamError);
  });

  it('serializes a list body of a bulk API as NDJSON', () => {
    expect(buildRequest(specs, 'ml.post_data', { job_id: 'j', body: [{ a: 1 }, '{"b":2}'] }).bulkBody).toBe('{"a":1}\n{"b":2}\n');
  });
});

describe('yaml-rest assertions', () => {
  const body = { jobs: [{ job_id: 'j', node: { attributes: { 'ml.machine_memory': '1' } }, count: 0, flag: 'false' }], empty: {} };

  it('walks paths with escaped dots and list indexes', () => {
    expect(splitPath('a.b\\.c.0')).toEqual(['a', 'b.c', '0']);
    expect(evaluatePath(body, 'jobs.0.node.attributes.ml\\.machine_memory', new Stash())).toBe('1');
    expect(evaluatePath(body, 'jobs.1.job_id', new Stash())).toBeUndefined();
  });

  it('is_false holds for missing, 0 and "false"; is_true for an empty map', () => {
    const stash = new Stash();
    for (const path of ['jobs.0.missing', 'jobs.0.count', 'jobs.0.flag']) expect(() => runAssertion('is_false', path, body, stash)).not.toThrow();
    expect(() => runAssertion('is_true', 'empty', body, stash)).not.toThrow();
    expect(() => runAssertion('is_true', 'jobs.0.count', body, stash)).toThrow(AssertionFailure);
  });

  it('match is exact on maps, numeric on numbers, and a regex search on /…/ read in COMMENTS mode', () => {
    const stash = new Stash();
    expect(() => runAssertion('match', { empty: {} }, body, stash)).not.toThrow();
    expect(() => runAssertion('match', { 'jobs.0': { job_id: 'j' } }, body, stash)).toThrow(AssertionFailure);
    expect(() => runAssertion('match', { 'jobs.0.count': 0.0 }, body, stash)).not.toThrow();
    expect(() => runAssertion('match', { 'jobs.0.job_id': '/ ^j $ /' }, body, stash)).not.toThrow();
    expect(compileTestRegex('a b [ ] # comment').source).toBe('ab[ ]');
  });

  it('resolves $stash references in expected values', () => {
    const stash = new Stash();
    stash.set('id', 'j');
    expect(() => runAssertion('match', { 'jobs.0.job_id': '$id' }, body, stash)).not.toThrow();
    expect(() => runAssertion('length', { jobs: 2 }, body, stash)).toThrow(/expected 2, got 1/);
  });
});

describe('yaml-rest warnings and skips', () => {
  it('reads the message of each Warning header value', () => {
    const header = '299 Elasticsearch-9.4.3-abc "Deprecated field [allow_no_jobs] used, expected [allow_no_match] instead", 299 Elasticsearch-9.4.3-abc "say \\"hi\\""';
    expect(warningMessages(header)).toEqual(['Deprecated field [allow_no_jobs] used, expected [allow_no_match] instead', 'say "hi"']);
  });

  it('skips unsupported runner features, matching versions and cluster features, not supported ones', () => {
    expect(skipReason('skip', { features: ['headers', 'warnings'] }, '9.4.3')).toBeUndefined();
    expect(skipReason('skip', { features: 'contains' }, '9.4.3')).toMatch(/contains/);
    expect(skipReason('skip', { version: ' - 7.99.99', reason: 'old' }, '9.4.3')).toBeUndefined();
    expect(skipReason('skip', { version: '8.0.0 - ', reason: 'new' }, '9.4.3')).toMatch(/version/);
    expect(versionInRanges('all', '9.4.3')).toBe(true);
    expect(skipReason('skip', { cluster_features: ['gte_v6.5.0'], reason: 'r' }, '9.4.3')).toMatch(/cluster features/);
    expect(skipReason('requires', { cluster_features: ['x'], test_runner_features: ['warnings'] }, '9.4.3')).toBeUndefined();
  });
});

describe('yaml-rest test files', () => {
  it('walks directories recursively and labels files by their path under the directory given', () => {
    const root = mkdtempSync(join(tmpdir(), 'yaml-rest-files-'));
    mkdirSync(join(root, 'ack_watch'));
    mkdirSync(join(root, 'put_watch'));
    for (const f of ['ack_watch/10_basic.yml', 'put_watch/10_basic.yml', 'put_watch/notes.txt', 'top.yaml']) writeFileSync(join(root, f), '');
    const files = collectTestFiles([root]);
    expect(files.map((f) => f.label)).toEqual(['ack_watch/10_basic.yml', 'put_watch/10_basic.yml', 'top.yaml']);
    expect(files[1]?.path).toBe(join(root, 'put_watch', '10_basic.yml'));
    expect(collectTestFiles([join(root, 'put_watch', '10_basic.yml')]).map((f) => f.label)).toEqual(['10_basic.yml']);
  });
});
