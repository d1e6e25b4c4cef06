import { join } from 'node:path';
import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { nodejsBundling } from '../bundling.ts';
import type { FunctionEntry } from '../entries.ts';

/** Props of {@link MlplaneFunction}. */
export interface MlplaneFunctionProps {
  entry: FunctionEntry;
  /** Folder holding `package.json`, `package-lock.json` and `functions/`. */
  projectRoot: string;
  /** Runtime environment (`lib/runtime/config.ts` variable names). */
  environment: Record<string, string>;
  timeout: Duration;
  memoryMiB: number;
  /** Removal policy of the function's log group. */
  logRemovalPolicy: RemovalPolicy;
  description?: string;
}

/**
 * The Lambda runtime of every function: `nodejs24.x`, the newest Node.js runtime Lambda
 * offers (supported well past `nodejs20.x`, which AWS deprecated on 2026-04-30 and which
 * takes no new functions from 2027-02-01). The bundles stay built for Node 20 (esbuild
 * `target` in `infra/bundling.ts`): the project's toolchain and the local runtime are
 * Node 20, and code built for an older Node runs unchanged on a newer one.
 */
export const lambdaRuntime = Runtime.NODEJS_24_X;

/**
 * One mlplane Lambda function: {@link lambdaRuntime} on ARM64 (Graviton: cheaper per ms and
 * as fast for this workload), an ESM bundle built by the local esbuild with the settings of
 * `infra/bundling.ts`, and its own log group kept for one month.
 */
export class MlplaneFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: MlplaneFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy,
    });
    this.fn = new NodejsFunction(this, 'Function', {
      entry: join(props.projectRoot, props.entry.relativePath),
      handler: 'handler',
      projectRoot: props.projectRoot,
      depsLockFilePath: join(props.projectRoot, 'package-lock.json'),
      runtime: lambdaRuntime,
      architecture: Architecture.ARM_64,
      memorySize: props.memoryMiB,
      timeout: props.timeout,
      description: props.description ?? `mlplane ${props.entry.kind} function ${props.entry.name}`,
      logGroup: this.logGroup,
      environment: {
        // Stack traces through the minified bundle point at the TypeScript sources.
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: nodejsBundling,
    });
  }
}
