import { readdirSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';

/** One YAML test file to run: its path and the label reports name it by. */
export interface TestFile {
  path: string;
  /** The path relative to the directory given (`ack_watch/10_basic.yml`), or the base name of a file given. */
  label: string;
}

const isYaml = (name: string): boolean => name.endsWith('.yml') || name.endsWith('.yaml');

/**
 * The YAML test files under the given files and directories, directories walked recursively in
 * name order. Recursive because Elasticsearch keeps some suites one folder per API
 * (`test/watcher/ack_watch/10_basic.yml`, `test/watcher/put_watch/10_basic.yml`); the label keeps
 * the folder so that two `10_basic.yml` files stay apart in the report.
 */
export function collectTestFiles(paths: string[]): TestFile[] {
  const files: TestFile[] = [];
  const walk = (root: string, dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(root, path);
      else if (isYaml(name)) files.push({ path, label: relative(root, path) });
    }
  };
  for (const p of paths) {
    if (statSync(p).isDirectory()) walk(p, p);
    else files.push({ path: p, label: basename(p) });
  }
  return files;
}
