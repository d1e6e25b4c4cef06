import { describe, expect, it } from 'vitest';
import { METRICS_NAMESPACE, UPGRADE_MODE_ON_SECONDS } from '../../lib/runtime/metrics.ts';
import { schedules } from '../../lib/runtime/topology.ts';
import { cfnId, defaultStack, synth } from './synth.ts';

type Props = Record<string, unknown>;

describe('schedules', () => {
  const { stack, template } = defaultStack();
  const rules = template.findResources('AWS::Events::Rule');

  it('has one EventBridge rule per topology schedule, plus the command events rule', () => {
    const scheduled = Object.values(rules).filter((r) => (r.Properties as Props).ScheduleExpression !== undefined);
    expect(scheduled).toHaveLength(schedules.length);
    expect(Object.keys(rules)).toHaveLength(schedules.length + 1);
  });

  it('runs the real-time datafeed tick every minute on its own function', () => {
    const fnArn = { 'Fn::GetAtt': [cfnId(stack, stack.scheduleFunctions.datafeeds), 'Arn'] };
    const tick = Object.values(rules).filter((r) => {
      const p = r.Properties as Props;
      return p.ScheduleExpression === 'rate(1 minute)' && JSON.stringify((p.Targets as Array<{ Arn: unknown }>)[0]?.Arn) === JSON.stringify(fnArn);
    });
    expect(tick).toHaveLength(1);
  });

  for (const def of schedules) {
    it(`runs the ${def.fn} function on "${def.expression}" for ${def.name}`, () => {
      const fnArn = { 'Fn::GetAtt': [cfnId(stack, stack.scheduleFunctions[def.fn]), 'Arn'] };
      const matching = Object.entries(rules).filter(([, r]) => {
        const p = r.Properties as Props;
        const targets = p.Targets as Array<{ Arn: unknown }>;
        return p.ScheduleExpression === def.expression && p.State === 'ENABLED' && targets.length === 1 && JSON.stringify(targets[0]!.Arn) === JSON.stringify(fnArn);
      });
      expect(matching, def.name).toHaveLength(1);

      // EventBridge may invoke the function, and only from this rule.
      const [ruleId] = matching[0]!;
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        FunctionName: fnArn,
        SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
      });
    });
  }
});

describe('upgrade mode alarm', () => {
  it('fires when upgrade mode has been on 2 hours (the default), from the metric the minute tick publishes', () => {
    const { template } = defaultStack();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRICS_NAMESPACE,
      MetricName: UPGRADE_MODE_ON_SECONDS,
      Dimensions: [{ Name: 'service', Value: 'mlplane' }],
      Statistic: 'Maximum',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 7200,
      TreatMissingData: 'notBreaching',
    });
  });

  it('takes another threshold from the context', () => {
    const { template } = synth({ upgradeModeAlarmAfterMinutes: 30 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: UPGRADE_MODE_ON_SECONDS, Threshold: 1800 });
  });
});
