import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The part of the `yaml` package (1.x and 2.x alike) the runner uses. */
export interface YamlParser {
  parseAllDocuments(source: string): Array<{ errors: ReadonlyArray<{ message: string }>; toJSON(): unknown }>;
}

/**
 * Loads a YAML parser: the `yaml` package when it is installed at the top level, else the copy
 * aws-cdk-lib bundles (`aws-cdk-lib/node_modules/yaml`, a bundled dependency that ships with
 * every aws-cdk-lib we pin).
 *
 * Why the fallback: this is a dev tool only, and `yaml` is not (yet) one of our
 * devDependencies; reaching into aws-cdk-lib's bundled copy saves adding a dependency for it.
 * Once `yaml` is a devDependency the first branch takes over and the fallback can go.
 *
 * @throws Error when neither copy can be loaded.
 */
export async function loadYamlParser(): Promise<YamlParser> {
  // A variable specifier keeps tsc from requiring the package's types while it is not installed.
  const name = 'yaml';
  try {
    return (await import(name)) as YamlParser;
  } catch {
    const require = createRequire(import.meta.url);
    const cdkDir = dirname(require.resolve('aws-cdk-lib'));
    return require(join(cdkDir, 'node_modules', 'yaml')) as YamlParser;
  }
}
