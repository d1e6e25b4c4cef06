import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { COMMAND_EVENTS_REJECTED, METRICS_NAMESPACE } from '../../lib/runtime/metrics.ts';
import { commandIngress } from '../../lib/runtime/topology.ts';
import { cfnId, defaultStack, grantsOf, roleLogicalId, synth } from './synth.ts';

type Props = Record<string, unknown>;

describe('the command ingress', () => {
  const { stack, template } = defaultStack();
  const fnId = cfnId(stack, stack.commandIngress);
  const dlqId = cfnId(stack, stack.commandEventsDeadLetterQueue);
  const fn = template.findResources('AWS::Lambda::Function')[fnId]?.Properties as Props;
  const env = (fn.Environment as { Variables: Props }).Variables;

  it('waits for queued commands until a minute before its 900 s timeout, not the HTTP functions’ 28 s', () => {
    expect(fn.Timeout).toBe(commandIngress.timeoutSeconds);
    expect(env.HTTP_WAIT_CAP_MS).toBe(String((commandIngress.timeoutSeconds - 60) * 1000));
  });

  it('runs command events as machine_learning_admin by default', () => {
    expect(env.COMMAND_ROLES).toBe('machine_learning_admin');
  });

  it('takes its roles from the commandRoles context (a comma list)', () => {
    const { stack: s, template: t } = synth({ commandRoles: 'machine_learning_admin,watcher_admin' });
    const p = t.findResources('AWS::Lambda::Function')[cfnId(s, s.commandIngress)]?.Properties as Props;
    expect((p.Environment as { Variables: Props }).Variables.COMMAND_ROLES).toBe('machine_learning_admin,watcher_admin');
  });

  it('retries a failed asynchronous invocation twice within an hour, then sends the event to its dead-letter queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fnId },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: commandIngress.retryAttempts,
      MaximumEventAgeInSeconds: commandIngress.maxEventAgeSeconds,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [dlqId, 'Arn'] } } },
    });
    expect(commandIngress.retryAttempts).toBe(2);
    expect(commandIngress.maxEventAgeSeconds).toBe(3600);
  });

  it('may send to its dead-letter queue', () => {
    const grants = grantsOf(template, roleLogicalId(stack, stack.commandIngress));
    expect(grants.some((g) => g.actions.includes('sqs:SendMessage') && JSON.stringify(g.resources).includes(dlqId))).toBe(true);
  });

  it('alarms when a command event is rejected (CommandEventsRejected, dimension service)', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRICS_NAMESPACE,
      MetricName: COMMAND_EVENTS_REJECTED,
      Dimensions: [{ Name: 'service', Value: 'mlplane' }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(COMMAND_EVENTS_REJECTED).toBe('CommandEventsRejected');
  });

  it('alarms when its dead-letter queue is not empty', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: Match.anyValue(),
    });
  });
});
