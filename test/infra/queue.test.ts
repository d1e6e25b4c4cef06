import { describe, expect, it } from 'vitest';
import { commandQueue, workers } from '../../lib/runtime/topology.ts';
import { cfnId, defaultStack } from './synth.ts';

describe('command queue', () => {
  const { stack, template } = defaultStack();
  const queueId = cfnId(stack, stack.commands.queue);
  const dlqId = cfnId(stack, stack.commands.deadLetterQueue);

  it('is a FIFO queue named commands.fifo without content-based deduplication', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: `${commandQueue.logicalName}.fifo`,
      FifoQueue: true,
      ContentBasedDeduplication: false,
      VisibilityTimeout: commandQueue.visibilityTimeoutSeconds,
    });
  });

  it(`redrives a command to a FIFO dead-letter queue after maxReceiveCount receives`, () => {
    const queues = template.findResources('AWS::SQS::Queue');
    const eventsDlqId = cfnId(stack, stack.commandEventsDeadLetterQueue);
    expect(Object.keys(queues).sort()).toEqual([queueId, dlqId, eventsDlqId].sort());
    expect(queues[queueId]?.Properties?.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
      maxReceiveCount: commandQueue.maxReceiveCount,
    });
    expect(queues[dlqId]?.Properties).toMatchObject({
      QueueName: `${commandQueue.dlqLogicalName}.fifo`,
      FifoQueue: true,
    });
  });

  it('keeps a message hidden at least six worker timeouts, as Lambda event source mappings need', () => {
    const fns = template.findResources('AWS::Lambda::Function');
    const workerTimeout = fns[cfnId(stack, stack.workerFunctions.commands)]?.Properties?.Timeout;
    expect(workerTimeout).toBe(workers.commands.timeoutSeconds);
    const visibility = template.findResources('AWS::SQS::Queue')[queueId]?.Properties?.VisibilityTimeout;
    expect(visibility).toBeGreaterThanOrEqual(6 * (workerTimeout as number));
  });

  it('alarms as soon as one command is visible in the dead-letter queue', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      EvaluationPeriods: 1,
    });
  });

  it('alarms when the oldest command has waited longer than the visibility timeout', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: commandQueue.visibilityTimeoutSeconds,
    });
  });

  it('exports the queue URL as a stack output', () => {
    template.hasOutput('CommandQueueUrl', { Value: { Ref: queueId } });
  });
});
