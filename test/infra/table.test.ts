import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { table } from '../../lib/runtime/topology.ts';
import { defaultStack, synth } from './synth.ts';

describe('state table', () => {
  const { template } = defaultStack();

  it('is the only table, keyed by the string partition and sort keys of the topology', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: table.partitionKey, KeyType: 'HASH' },
        { AttributeName: table.sortKey, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayEquals([
        { AttributeName: table.partitionKey, AttributeType: 'S' },
        { AttributeName: table.sortKey, AttributeType: 'S' },
      ]),
    });
  });

  it('bills per request and expires items by the topology TTL attribute', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: table.ttlAttribute, Enabled: true },
    });
  });

  it('has point-in-time recovery enabled', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('is retained when the stack is deleted unless the context asks to destroy it', () => {
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });

    const destroyed = synth({ removalPolicy: 'destroy' }).template;
    destroyed.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
    // Throwaway stacks delete their log groups too, so a redeploy does not collide with old ones.
    for (const group of Object.values(destroyed.findResources('AWS::Logs::LogGroup'))) {
      expect(group.DeletionPolicy).toBe('Delete');
    }
  });

  it('rejects an unknown removalPolicy context value instead of silently retaining', () => {
    expect(() => synth({ removalPolicy: 'snapshot' })).toThrow(/removalPolicy must be one of retain, destroy/);
  });

  it('exports its name as a stack output', () => {
    const [tableId] = Object.keys(template.findResources('AWS::DynamoDB::Table'));
    template.hasOutput('TableName', { Value: { Ref: tableId } });
  });
});
