import { describe, expect, it } from 'vitest';
import { routeKey, routes } from '../../lib/runtime/topology.ts';
import { cfnId, defaultStack } from './synth.ts';

type Props = Record<string, unknown>;

describe('HTTP API', () => {
  const { stack, template } = defaultStack();
  const apiId = cfnId(stack, stack.api.api);
  const routeResources = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties as Props);
  const integrations = template.findResources('AWS::ApiGatewayV2::Integration');

  it('has exactly one route per topology route, HEAD included, and no other', () => {
    const keys = routeResources.map((r) => r.RouteKey);
    expect(keys.sort()).toEqual(routes.map(routeKey).sort());
    expect(keys).toContain('HEAD /');
    for (const r of routeResources) expect(r.ApiId).toEqual({ Ref: apiId });
  });

  it("sends each route to the Lambda function of the route's family", () => {
    for (const route of routes) {
      const resource = routeResources.find((r) => r.RouteKey === routeKey(route));
      expect(resource, routeKey(route)).toBeDefined();
      // Target: "integrations/<Ref integration>"
      const target = JSON.stringify(resource!.Target);
      const integrationId = /"Ref":"([^"]+)"/.exec(target)?.[1];
      expect(integrationId, `${routeKey(route)} target ${target}`).toBeDefined();
      const integration = integrations[integrationId!]?.Properties as Props | undefined;
      expect(integration?.IntegrationUri, routeKey(route)).toEqual({
        'Fn::GetAtt': [cfnId(stack, stack.httpFunctions[route.fn]), 'Arn'],
      });
    }
  });

  it('uses one Lambda proxy integration per function family with payload format 2.0', () => {
    const families = new Set(routes.map((r) => r.fn));
    expect(Object.keys(integrations)).toHaveLength(families.size);
    for (const i of Object.values(integrations)) {
      expect(i.Properties).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
    }
  });

  it('lets API Gateway invoke each HTTP function, and only from this API', () => {
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission'))
      .map((p) => p.Properties as Props)
      .filter((p) => p.Principal === 'apigateway.amazonaws.com');
    for (const fn of Object.values(stack.httpFunctions)) {
      const own = permissions.filter((p) => JSON.stringify(p.FunctionName) === JSON.stringify({ 'Fn::GetAtt': [cfnId(stack, fn), 'Arn'] }));
      expect(own.length, fn.node.path).toBeGreaterThanOrEqual(1);
      for (const p of own) expect(JSON.stringify(p.SourceArn)).toContain(JSON.stringify({ Ref: apiId }));
    }
  });

  it('deploys to an auto-deployed default stage and exports its URL', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: { Ref: apiId },
      StageName: '$default',
      AutoDeploy: true,
    });
    template.hasOutput('ApiUrl', { Value: { 'Fn::GetAtt': [apiId, 'ApiEndpoint'] } });
  });
});

describe('HTTP API: the document store', () => {
  const { stack, template } = defaultStack();
  const routeResources = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties as Props);

  it('has its own function, serving the index routes and no _ml, _cluster/settings or _tasks route', () => {
    expect(stack.httpFunctions.documents).toBeDefined();
    const own = routes.filter((r) => r.fn === 'documents').map(routeKey);
    for (const key of ['PUT /{index}', 'GET /{index}', 'HEAD /{index}', 'DELETE /{index}', 'POST /_bulk', 'POST /{index}/_bulk', 'POST /{index}/_search', 'GET /_cluster/health']) {
      expect(own, key).toContain(key);
      expect(routeResources.map((r) => r.RouteKey)).toContain(key);
    }
    expect(own.filter((k) => /\/_ml\/|\/_cluster\/settings|\/_tasks/.test(k))).toEqual([]);
    expect(routes.filter((r) => /^\/_(ml|tasks)\b|^\/_cluster\/settings/.test(r.path)).every((r) => r.fn !== 'documents')).toBe(true);
  });
});
