import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { allowedActions, cfnId, defaultStack, grantsOf, roleLogicalId } from './synth.ts';

// TransactWriteItems is authorized per item as PutItem/UpdateItem/DeleteItem: a command is stored
// with its pending-index marker and finished by deleting it, in HTTP functions and the worker alike.
const ITEM_READ_WRITE = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'];
const CONSUME = ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'];
const MANAGE = [
  'dynamodb:DeleteTable',
  'dynamodb:UpdateTable',
  'dynamodb:CreateTable',
  'dynamodb:UpdateTimeToLive',
  'dynamodb:RestoreTableToPointInTime',
  'sqs:DeleteQueue',
  'sqs:PurgeQueue',
  'sqs:SetQueueAttributes',
];

describe('least-privilege grants', () => {
  const { stack, template } = defaultStack();
  const tableArn = { 'Fn::GetAtt': [cfnId(stack, stack.table.table), 'Arn'] };
  const queueArn = { 'Fn::GetAtt': [cfnId(stack, stack.commands.queue), 'Arn'] };
  const actionsOf = (fn: IFunction) => allowedActions(template, roleLogicalId(stack, fn));

  it('lets HTTP functions read and write items and send commands, but not delete the table or consume commands', () => {
    for (const fn of Object.values(stack.httpFunctions)) {
      const actions = actionsOf(fn);
      for (const a of [...ITEM_READ_WRITE, 'sqs:SendMessage']) expect(actions, fn.node.path).toContain(a);
      for (const a of [...CONSUME, ...MANAGE]) expect(actions, fn.node.path).not.toContain(a);
    }
  });

  it('lets the worker read and write items and consume commands, but not send them', () => {
    for (const fn of Object.values(stack.workerFunctions)) {
      const actions = actionsOf(fn);
      for (const a of [...ITEM_READ_WRITE, ...CONSUME]) expect(actions, fn.node.path).toContain(a);
      for (const a of ['sqs:SendMessage', ...MANAGE]) expect(actions, fn.node.path).not.toContain(a);
    }
  });

  it('lets scheduled functions read and write items and send commands, but not consume them', () => {
    for (const fn of Object.values(stack.scheduleFunctions)) {
      const actions = actionsOf(fn);
      for (const a of [...ITEM_READ_WRITE, 'sqs:SendMessage']) expect(actions, fn.node.path).toContain(a);
      for (const a of [...CONSUME, ...MANAGE]) expect(actions, fn.node.path).not.toContain(a);
    }
  });

  it('grants no wildcard action and scopes every DynamoDB and SQS grant to the table or the commands queue', () => {
    const fns = [...Object.values(stack.httpFunctions), ...Object.values(stack.workerFunctions), ...Object.values(stack.scheduleFunctions)];
    for (const fn of fns) {
      const grants = grantsOf(template, roleLogicalId(stack, fn));
      expect(grants.length, fn.node.path).toBeGreaterThan(0);
      for (const g of grants) {
        for (const a of g.actions) expect(a, fn.node.path).not.toMatch(/\*/);
        const service = g.actions[0]!.split(':')[0];
        // events:PutEvents on the events-out bus is asserted in events-out.test.ts.
        if (service === 'events') continue;
        const allowed = service === 'dynamodb' ? tableArn : service === 'sqs' ? queueArn : undefined;
        expect(allowed, `${fn.node.path}: unexpected service ${service}`).toBeDefined();
        for (const r of g.resources) {
          if (JSON.stringify(r) === JSON.stringify({ Ref: 'AWS::NoValue' })) continue;
          expect(r, `${fn.node.path} ${g.actions.join(',')}`).toEqual(allowed);
        }
      }
    }
  });
});
