import { describe, expect, it } from 'vitest';
import { commandQueue } from '../../lib/runtime/topology.ts';
import { cfnId, defaultStack } from './synth.ts';

describe('command worker', () => {
  const { stack, template } = defaultStack();

  it('is the only consumer of the commands queue', () => {
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'));
    expect(mappings).toHaveLength(1);
    expect(mappings[0]?.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [cfnId(stack, stack.commands.queue), 'Arn'] },
      FunctionName: { Ref: cfnId(stack, stack.workerFunctions.commands) },
    });
  });

  it('receives batches of the topology batch size and reports failed records one by one', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: commandQueue.batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });
});
