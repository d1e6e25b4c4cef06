import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { YamlParser } from './yaml-loader.ts';

/** One step of a section: `{ do: … }`, `{ match: … }`, `{ skip: … }`, … (a single-key map). */
export interface Step {
  kind: string;
  arg: unknown;
}

/** One named test of a file. */
export interface TestCase {
  name: string;
  steps: Step[];
}

/** An Elasticsearch YAML REST test file: optional setup and teardown, then its tests in file order. */
export interface Suite {
  file: string;
  path: string;
  setup: Step[];
  teardown: Step[];
  tests: TestCase[];
}

/** Raised for a file that is not of the YAML REST test form. */
export class SuiteFormatError extends Error {}

function toSteps(where: string, value: unknown): Step[] {
  if (value == null) return [];
  if (!Array.isArray(value)) throw new SuiteFormatError(`${where}: a section must be a list of steps`);
  return value.map((item, i) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) throw new SuiteFormatError(`${where}: step ${i + 1} is not a map`);
    const keys = Object.keys(item);
    if (keys.length !== 1) throw new SuiteFormatError(`${where}: step ${i + 1} has ${keys.length} keys (${keys.join(', ')}), expected one`);
    const kind = keys[0]!;
    return { kind, arg: (item as Record<string, unknown>)[kind] };
  });
}

/**
 * Parses a YAML REST test file as Elasticsearch's runner does: a stream of YAML documents, each
 * a map whose keys are `setup`, `teardown` or a test name, and whose values are lists of steps.
 *
 * `label` names the file in reports (default: its base name).
 *
 * @throws SuiteFormatError on YAML errors or a shape that is not a test file.
 */
export function readSuite(path: string, yaml: YamlParser, label = basename(path)): Suite {
  const suite: Suite = { file: label, path, setup: [], teardown: [], tests: [] };
  for (const doc of yaml.parseAllDocuments(readFileSync(path, 'utf8'))) {
    if (doc.errors.length > 0) throw new SuiteFormatError(`${suite.file}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value = doc.toJSON();
    if (value == null) continue;
    if (typeof value !== 'object' || Array.isArray(value)) throw new SuiteFormatError(`${suite.file}: a document must be a map of sections`);
    for (const [name, steps] of Object.entries(value)) {
      const parsed = toSteps(`${suite.file} [${name}]`, steps);
      if (name === 'setup') suite.setup.push(...parsed);
      else if (name === 'teardown') suite.teardown.push(...parsed);
      else suite.tests.push({ name, steps: parsed });
    }
  }
  return suite;
}
