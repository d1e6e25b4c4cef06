import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { EVENT_PUBLISHING_HTTP_FUNCTIONS } from '../../infra/stack.ts';
import { cfnId, defaultStack, grantsOf, roleLogicalId, synth } from './synth.ts';

/** The `events:*` statements of a function's role. */
function eventGrants(s: ReturnType<typeof defaultStack>, fn: IFunction) {
  return grantsOf(s.template, roleLogicalId(s.stack, fn)).filter((g) => g.actions.some((a) => a.startsWith('events:')));
}

/** The environment of a function as synthesized. */
function environmentOf(s: ReturnType<typeof defaultStack>, fn: IFunction): Record<string, unknown> {
  const resource = s.template.toJSON().Resources[cfnId(s.stack, fn)] as { Properties: { Environment: { Variables: Record<string, unknown> } } };
  return resource.Properties.Environment.Variables;
}

describe('events out permissions', () => {
  const s = defaultStack();
  const defaultBusArn = {
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':event-bus/default']],
  };
  const publishers: IFunction[] = [
    ...Object.values(s.stack.workerFunctions),
    ...Object.values(s.stack.scheduleFunctions),
    ...EVENT_PUBLISHING_HTTP_FUNCTIONS.map((n) => s.stack.httpFunctions[n]),
    s.stack.commandIngress,
  ];

  it('lets the worker, the schedules, the publishing HTTP families and the command ingress put events on the account default bus only', () => {
    for (const fn of publishers) {
      const grants = eventGrants(s, fn);
      expect(grants, fn.node.path).toEqual([{ effect: 'Allow', actions: ['events:PutEvents'], resources: [defaultBusArn] }]);
    }
  });

  it('gives no event permission to the HTTP families that publish nothing', () => {
    const quiet = Object.entries(s.stack.httpFunctions).filter(([name]) => !EVENT_PUBLISHING_HTTP_FUNCTIONS.includes(name as never));
    expect(quiet.length).toBeGreaterThan(0);
    for (const [, fn] of quiet) expect(eventGrants(s, fn), fn.node.path).toEqual([]);
  });

  it('tells every function the bus in EVENT_BUS_NAME', () => {
    for (const fn of [...publishers, ...Object.values(s.stack.httpFunctions)]) expect(environmentOf(s, fn).EVENT_BUS_NAME, fn.node.path).toBe('default');
  });

  it('scopes the grant to the bus named by the eventBusName context, by name or by ARN', () => {
    const named = synth({ eventBusName: 'ml-alerts' });
    const worker = Object.values(named.stack.workerFunctions)[0] as IFunction;
    expect(eventGrants(named, worker)).toEqual([
      {
        effect: 'Allow',
        actions: ['events:PutEvents'],
        resources: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':event-bus/ml-alerts']] }],
      },
    ]);
    expect(environmentOf(named, worker).EVENT_BUS_NAME).toBe('ml-alerts');

    const arn = 'arn:aws:events:eu-west-1:123456789012:event-bus/central';
    const byArn = synth({ eventBusName: arn });
    expect(eventGrants(byArn, byArn.stack.commandIngress)).toEqual([{ effect: 'Allow', actions: ['events:PutEvents'], resources: [arn] }]);
    expect(environmentOf(byArn, byArn.stack.commandIngress).EVENT_BUS_NAME).toBe(arn);
  });
});
