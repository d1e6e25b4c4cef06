import { describe, expect, it } from 'vitest';
import { allEntries } from '../../infra/entries.ts';
import { routes } from '../../lib/runtime/topology.ts';
import { allowedActions, cfnId, defaultStack, roleLogicalId } from './synth.ts';

type Props = Record<string, unknown>;

/** The datafeed APIs of Elasticsearch that the stack must route (spec A.5.8, A.3). */
const DATAFEED_ROUTES = [
  'GET /_ml/datafeeds',
  'GET /_ml/datafeeds/{datafeed_id}',
  'GET /_ml/datafeeds/_stats',
  'GET /_ml/datafeeds/{datafeed_id}/_stats',
  'PUT /_ml/datafeeds/{datafeed_id}',
  'POST /_ml/datafeeds/{datafeed_id}/_update',
  'DELETE /_ml/datafeeds/{datafeed_id}',
  'POST /_ml/datafeeds/{datafeed_id}/_start',
  'POST /_ml/datafeeds/{datafeed_id}/_stop',
  'GET /_ml/datafeeds/{datafeed_id}/_preview',
  'POST /_ml/datafeeds/{datafeed_id}/_preview',
  'GET /_ml/datafeeds/_preview',
  'POST /_ml/datafeeds/_preview',
];

describe('the datafeeds HTTP function', () => {
  const { stack, template } = defaultStack();
  const fn = stack.httpFunctions.datafeeds;

  it('is its own Lambda function built from functions/http/datafeeds.ts', () => {
    const entry = allEntries.find((e) => e.kind === 'http' && e.name === 'datafeeds');
    expect(entry).toMatchObject({ relativePath: 'functions/http/datafeeds.ts', constructId: 'HttpDatafeeds' });
    expect(template.findResources('AWS::Lambda::Function')[cfnId(stack, fn)]).toBeDefined();
  });

  it('receives exactly the datafeed routes, each through API Gateway', () => {
    const own = routes.filter((r) => r.fn === 'datafeeds').map((r) => `${r.method} ${r.path}`);
    expect(own.sort()).toEqual([...DATAFEED_ROUTES].sort());
    const routeResources = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties as Props);
    for (const key of DATAFEED_ROUTES)
      expect(
        routeResources.some((r) => r.RouteKey === key),
        key,
      ).toBe(true);
  });

  it('declares Elasticsearch privileges: monitor_ml to read, manage_ml to change', () => {
    for (const r of routes.filter((x) => x.fn === 'datafeeds')) {
      expect(r.privilege, `${r.method} ${r.path}`).toBe(r.method === 'GET' && !r.path.endsWith('_preview') ? 'monitor_ml' : 'manage_ml');
    }
  });

  it('may read and write table items (the one-datafeed-per-job transaction) and nothing it does not need', () => {
    const actions = allowedActions(template, roleLogicalId(stack, fn));
    for (const a of ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem', 'dynamodb:Query']) expect(actions).toContain(a);
    expect(actions).not.toContain('dynamodb:DeleteTable');
  });
});
