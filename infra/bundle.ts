/**
 * `npm run build`: bundles every Lambda entry of the topology with the local esbuild into
 * `dist/<kind>-<name>/index.mjs` (+ `index.mjs.map`), with the settings the CDK stack uses
 * (`infra/bundling.ts`): ESM built for Node 20 (deployed on Lambda's nodejs24.x), minified, source map (without the sources' text), every dependency including
 * the AWS SDK v3 bundled. Prints each bundle's size.
 */
import { rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { esmRequireBanner, mainFields, sourcesContent, target } from './bundling.ts';
import { allEntries, missingEntries, projectRoot, type FunctionEntry } from './entries.ts';

/** Thrown when entry files named by the topology do not exist. */
export class MissingEntriesError extends Error {
  constructor(readonly missing: readonly FunctionEntry[]) {
    super(`missing Lambda entry files: ${missing.map((e) => e.relativePath).join(', ')}`);
    this.name = 'MissingEntriesError';
  }
}

/** One bundle written by {@link bundleAll}. */
export interface BundleResult {
  entry: FunctionEntry;
  /** Absolute path of the `index.mjs` bundle. */
  file: string;
  /** Size of `index.mjs` in bytes (minified, without the source map). */
  bytes: number;
}

/**
 * Bundles every entry into `<outRoot>/<entry.id>/index.mjs`.
 *
 * @param outRoot destination folder; default `<projectRoot>/dist`
 * @param entries which entries to bundle; default all of them
 * @throws MissingEntriesError before bundling anything when an entry file does not exist
 */
export async function bundleAll(outRoot: string = join(projectRoot, 'dist'), entries: readonly FunctionEntry[] = allEntries): Promise<BundleResult[]> {
  const absent = new Set(missingEntries(projectRoot));
  const missing = entries.filter((e) => absent.has(e));
  if (missing.length > 0) throw new MissingEntriesError(missing);

  const results: BundleResult[] = [];
  for (const entry of entries) {
    const outDir = join(outRoot, entry.id);
    rmSync(outDir, { recursive: true, force: true });
    const file = join(outDir, 'index.mjs');
    await build({
      absWorkingDir: projectRoot,
      entryPoints: [join(projectRoot, entry.relativePath)],
      outfile: file,
      bundle: true,
      platform: 'node',
      target,
      format: 'esm',
      minify: true,
      sourcemap: true,
      sourcesContent,
      mainFields,
      banner: { js: esmRequireBanner },
      external: [],
      logLevel: 'warning',
    });
    results.push({ entry, file, bytes: statSync(file).size });
  }
  return results;
}

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;

async function main(): Promise<void> {
  try {
    const results = await bundleAll();
    for (const r of results) {
      console.log(`${r.entry.id.padEnd(24)} ${kib(r.bytes).padStart(12)}  ${relative(projectRoot, r.file)}`);
    }
  } catch (err) {
    // esbuild has already printed its errors (file, line, message); no stack trace on top.
    const isBuildFailure = err instanceof Error && Array.isArray((err as { errors?: unknown }).errors);
    if (err instanceof MissingEntriesError || isBuildFailure) {
      console.error(isBuildFailure ? 'bundle failed' : (err as Error).message);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
