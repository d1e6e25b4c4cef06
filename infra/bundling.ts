/**
 * esbuild settings shared by the CDK stack (`NodejsFunction` bundling) and `infra/bundle.ts`,
 * so the bundles measured by `bench/bundle.ts` are the bundles that are deployed.
 */
import { OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';

/**
 * esbuild `target`: Node 20, the project's toolchain and the local runtime's Node. The
 * Lambda runtime (`lambdaRuntime` in `infra/constructs/mlplane-function.ts`) is newer and
 * runs Node 20 code unchanged; raise this only when the local toolchain moves too.
 */
export const target = 'node20';

/**
 * ESM bundles still contain CommonJS dependencies that call `require` (parts of the AWS SDK v3
 * and its smithy packages); Node does not define `require` in ES modules, so the bundle makes
 * one. The alias avoids clashing with a bundled `createRequire` import. No double quotes: the
 * CDK passes the banner to the esbuild CLI inside double quotes.
 */
export const esmRequireBanner = "import { createRequire as __mlplaneCreateRequire } from 'node:module'; const require = __mlplaneCreateRequire(import.meta.url);";

/** Source maps without the sources' text (see {@link nodejsBundling}). */
export const sourcesContent = false;

/** Prefer the ES module builds of dependencies: they tree-shake better than their CommonJS builds. */
export const mainFields = ['module', 'main'];

/**
 * `NodejsFunction` bundling: ESM, minified, with a source map, every dependency bundled
 * (including the AWS SDK v3, so the deployed code does not depend on the runtime's SDK
 * version and cold starts skip resolving it from the runtime's node_modules).
 *
 * The source map carries names and positions but not the sources' text ({@link sourcesContent}
 * false, as AWS SAM's esbuild `SourcesContent` option allows): `--enable-source-maps`
 * (`NODE_OPTIONS` of every function) reads and parses the whole map when a bundle loads, and
 * the text of its ~800 bundled files was two thirds of it (2.9 MB of the command ingress's
 * 4.3 MB map; its load went from ~43 to ~28 ms in a CPU profile). Stack traces still name the original file, line and column; only a
 * debugger would miss the embedded text, and it has the repository.
 */
export const nodejsBundling: BundlingOptions = {
  format: OutputFormat.ESM,
  target,
  minify: true,
  sourceMap: true,
  sourcesContent,
  banner: esmRequireBanner,
  mainFields,
  externalModules: [],
};
