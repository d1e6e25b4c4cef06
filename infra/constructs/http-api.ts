import { HttpApi, HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { routes, type HttpFunctionName } from '../../lib/runtime/topology.ts';

/** Props of {@link MlplaneHttpApi}. */
export interface MlplaneHttpApiProps {
  /** The Lambda function of each HTTP function family named by `topology.routes`. */
  functions: Readonly<Record<HttpFunctionName, IFunction>>;
}

/**
 * The HTTP API (API Gateway v2, payload format 2.0) with exactly one route per entry of
 * `topology.routes`, each integrated with its family's function. One integration per family
 * and one API-scoped invoke permission per function keep the Lambda resource policies small
 * (the `jobs` function serves most routes).
 */
export class MlplaneHttpApi extends Construct {
  readonly api: HttpApi;

  constructor(scope: Construct, id: string, props: MlplaneHttpApiProps) {
    super(scope, id);
    this.api = new HttpApi(this, 'Api', {
      description: 'mlplane: Elasticsearch-compatible ML anomaly detection API',
      createDefaultStage: true,
    });

    const integrations = new Map<HttpFunctionName, HttpLambdaIntegration>();
    const integrationFor = (fn: HttpFunctionName): HttpLambdaIntegration => {
      let integration = integrations.get(fn);
      if (!integration) {
        integration = new HttpLambdaIntegration(`${fn}-integration`, props.functions[fn], {
          scopePermissionToRoute: false,
        });
        integrations.set(fn, integration);
      }
      return integration;
    };

    for (const route of routes) {
      this.api.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration: integrationFor(route.fn),
      });
    }
  }
}
