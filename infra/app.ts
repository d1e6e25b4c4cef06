/**
 * The mlplane CDK app (`cdk.json` runs it with tsx). Deploys to the account and region of
 * the CLI's credentials when they are known, otherwise synthesizes an environment-agnostic
 * stack. Options come from context: `-c removalPolicy=destroy`, `-c clusterName=…`,
 * `-c nodeName=…`, and `-c skipBundling=true` to synthesize the template without running
 * esbuild (the CLI does not accept the `aws:cdk:bundling-stacks` context key itself).
 */
import { App } from 'aws-cdk-lib';
import { MlplaneStack } from './stack.ts';

const app = new App();
if (String(app.node.tryGetContext('skipBundling')) === 'true') {
  app.node.setContext('aws:cdk:bundling-stacks', []);
}
const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;

new MlplaneStack(app, 'Mlplane', {
  description: 'mlplane: Elasticsearch-compatible serverless control plane for ML anomaly-detection jobs',
  ...(account || region ? { env: { account, region } } : {}),
});

app.synth();
