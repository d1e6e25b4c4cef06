/**
 * Layer rules (issue 7), checked by `npm run lint` and `npm run lint:ci` (`npm test` runs it first):
 *
 * - the domain (`lib/domain`) and the detector (`lib/detect`) are pure: no AWS SDK, no Lambda
 *   types, no Powertools, and nothing from the layers above them (app, adapters, chains,
 *   local runtime, config, entry points);
 * - the detector may use the domain, never the reverse;
 * - entry points (`functions/**`) only adapt events: they import the use cases (`lib/app`)
 *   and the chains (`lib/http`, `lib/worker`, `lib/runtime`), plus types from anywhere;
 * - no import circle anywhere.
 *
 * Type-only imports count for the circle rule (a circle of types still ties two files'
 * meanings together) but not for the entry-point rule (a handler may name a domain type).
 */
const ABOVE_DOMAIN = '^(lib/(app|store|queue|http|worker|local|runtime)|functions)/';
const AWS_AND_POWERTOOLS = '(^|/)node_modules/(@aws-sdk/|@types/aws-lambda/|aws-lambda/|@aws-lambda-powertools/)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'domain-and-detect-no-aws',
      comment: 'lib/domain and lib/detect are pure: no AWS SDK, aws-lambda types or Powertools (adapters live in lib/store, lib/queue, lib/worker, lib/http).',
      severity: 'error',
      from: { path: '^lib/(domain|detect)/' },
      to: { path: AWS_AND_POWERTOOLS },
    },
    {
      name: 'domain-and-detect-not-upward',
      comment: 'lib/domain and lib/detect import nothing from the layers above them.',
      severity: 'error',
      from: { path: '^lib/(domain|detect)/' },
      to: { path: ABOVE_DOMAIN },
    },
    {
      name: 'domain-not-detect',
      comment: 'lib/detect may use lib/domain, not the reverse.',
      severity: 'error',
      from: { path: '^lib/domain/' },
      to: { path: '^lib/detect/' },
    },
    {
      name: 'functions-only-entry-layers',
      comment: 'Handlers only adapt events: they import lib/app, lib/http, lib/worker and lib/runtime (types from anywhere).',
      severity: 'error',
      from: { path: '^functions/' },
      to: { path: '^(lib/|functions/)', pathNot: '^lib/(app|http|worker|runtime)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-circular',
      comment: 'No import circle anywhere.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(cdk\\.out|bench/results)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.cjs', '.mjs', '.json', '.d.ts'],
    },
    skipAnalysisNotInRules: true,
  },
};
