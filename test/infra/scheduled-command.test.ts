import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { Function as LambdaFn } from 'aws-cdk-lib/aws-lambda';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { CommandRule } from '../../infra/constructs/command-rule.ts';
import { ScheduledCommand } from '../../infra/constructs/scheduled-command.ts';
import { projectRoot } from '../../infra/entries.ts';
import type { CommandScheduleInput } from '../../lib/domain/command-schedule.ts';
import { allowedActions, cfnId, defaultStack, grantsOf, synth } from './synth.ts';

type Props = Record<string, any>;

const closeNightly: CommandScheduleInput = {
  name: 'close-nightly',
  expression: 'cron(0 2 * * ? *)',
  timezone: 'Europe/Berlin',
  flexible_window_minutes: 15,
  description: 'Close the nightly jobs',
  command: { method: 'POST', path: '/_ml/anomaly_detectors/nightly-*/_close', query: { allow_no_match: true } },
};
const paused: CommandScheduleInput = {
  name: 'paused.rate_1',
  expression: 'rate(1 hour)',
  enabled: false,
  command: { method: 'POST', path: '/_ml/set_upgrade_mode', query: { enabled: false } },
};

/** The Scheduler schedules of a template, by their `Name`. */
function schedulesByName(template: Template): Record<string, Props> {
  return Object.fromEntries(Object.values(template.findResources('AWS::Scheduler::Schedule')).map((r) => [r.Properties.Name, r.Properties as Props]));
}

describe('command schedules of the stack (props, file, forwarding rule)', () => {
  const { stack, template } = synth({ schedulesFile: join(projectRoot, 'examples', 'schedules.json'), commandBusName: 'ops' }, { schedules: [closeNightly, paused] });
  const schedules = schedulesByName(template);
  const ingressArn = { 'Fn::GetAtt': [cfnId(stack, stack.commandIngress), 'Arn'] };
  const dlqArn = { 'Fn::GetAtt': [cfnId(stack, stack.commandEventsDeadLetterQueue), 'Arn'] };

  it('creates one Scheduler schedule per schedule of the props and of the schedules file, in the mlplane group', () => {
    expect(Object.keys(schedules).sort()).toEqual(['close-nightly', 'close-nightly-jobs', 'paused.rate_1', 'stop-datafeeds-before-backup', 'upgrade-mode-off', 'upgrade-mode-on']);
    template.resourceCountIs('AWS::Scheduler::ScheduleGroup', 1);
    template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'mlplane' });
    for (const s of Object.values(schedules)) expect(s.GroupName).toBe('mlplane');
  });

  it('gives each schedule its expression, time zone, flexible window, description and state', () => {
    expect(schedules['close-nightly']).toMatchObject({
      ScheduleExpression: 'cron(0 2 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 },
      Description: 'Close the nightly jobs',
      State: 'ENABLED',
    });
    expect(schedules['paused.rate_1']).toMatchObject({
      ScheduleExpression: 'rate(1 hour)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'DISABLED',
    });
    expect(schedules['upgrade-mode-on']).toMatchObject({ ScheduleExpression: 'cron(0 3 * * ? *)', ScheduleExpressionTimezone: 'Europe/Berlin' });
  });

  it('invokes the ingress with the command event plus an origin from the Scheduler context attributes', () => {
    const target = schedules['close-nightly']!.Target as Props;
    expect(target.Arn).toEqual(ingressArn);
    expect(JSON.parse(target.Input as string)).toEqual({
      command_version: 1,
      method: 'POST',
      path: '/_ml/anomaly_detectors/nightly-*/_close',
      query: { allow_no_match: true },
      origin: { kind: 'schedule', name: 'close-nightly', id: '<aws.scheduler.execution-id>', scheduled_time: '<aws.scheduler.scheduled-time>' },
    });
  });

  it("retries twice within an hour (the ingress's retry policy), then sends to the command events DLQ", () => {
    for (const s of Object.values(schedules)) {
      expect(s.Target.RetryPolicy).toEqual({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 });
      expect(s.Target.DeadLetterConfig).toEqual({ Arn: dlqArn });
    }
  });

  it('runs every schedule as the command scheduler role, which only Scheduler may assume and which may only invoke the ingress and send to the DLQ', () => {
    const roleId = cfnId(stack, stack.commandSchedulerRole);
    for (const s of Object.values(schedules)) expect(s.Target.RoleArn).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    const role = template.toJSON().Resources[roleId] as Props;
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' }, 'aws:SourceArn': { 'Fn::GetAtt': [expect.stringMatching(/^CommandScheduleGroup/), 'Arn'] } },
        },
      },
    ]);
    expect([...allowedActions(template, roleId)].sort()).toEqual(['lambda:InvokeFunction', 'sqs:SendMessage']);
    for (const g of grantsOf(template, roleId)) {
      const expected = g.actions.includes('lambda:InvokeFunction') ? [ingressArn, { 'Fn::Join': ['', [ingressArn, ':*']] }] : [dlqArn];
      expect(g.resources).toEqual(expected);
    }
    expect(Object.values(template.findResources('AWS::IAM::Role')).filter((r) => JSON.stringify(r).includes('scheduler.amazonaws.com'))).toHaveLength(1);
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('forwards "mlplane command" events of the command bus whole to the ingress, with retries and the DLQ', () => {
    const rule = template.toJSON().Resources[cfnId(stack, stack.commandEventRule)] as Props;
    expect(rule.Properties.EventPattern).toEqual({ 'detail-type': ['mlplane command'] });
    expect(rule.Properties.EventBusName).toBe('ops');
    const [target] = rule.Properties.Targets as Props[];
    expect(target).toMatchObject({ Arn: ingressArn, RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 }, DeadLetterConfig: { Arn: dlqArn } });
    expect(target!.Input ?? target!.InputTransformer ?? target!.InputPath).toBeUndefined();
    const ruleArn = { 'Fn::GetAtt': [cfnId(stack, stack.commandEventRule), 'Arn'] };
    template.hasResourceProperties('AWS::Lambda::Permission', { Action: 'lambda:InvokeFunction', Principal: 'events.amazonaws.com', FunctionName: ingressArn, SourceArn: ruleArn });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: cfnId(stack, stack.commandEventsDeadLetterQueue) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'sqs:SendMessage', Principal: { Service: 'events.amazonaws.com' }, Condition: { ArnEquals: { 'aws:SourceArn': ruleArn } } }),
        ]),
      },
    });
  });

  it('gives the Lambda function no resource policy for Scheduler (Scheduler invokes through its execution role)', () => {
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).map((p) => p.Properties.Principal);
    expect(permissions).not.toContain('scheduler.amazonaws.com');
  });
});

describe('refused schedules fail the synth, naming the schedule', () => {
  it('an expression Scheduler would refuse', () => {
    expect(() => synth({}, { schedules: [{ ...closeNightly, name: 'bad-cron', expression: 'cron(0 2 * * * *)' }] })).toThrow(
      /schedule \[bad-cron\]: expression \[cron\(0 2 \* \* \* \*\)\]: exactly one of the day-of-month and day-of-week fields must be \?/,
    );
  });

  it('a bad schedule in the schedules file, naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlplane-schedules-'));
    const file = join(dir, 'schedules.json');
    writeFileSync(file, JSON.stringify({ schedules: [{ ...closeNightly, name: 'berlin', timezone: 'Europe/Berlyn' }] }));
    expect(() => synth({ schedulesFile: file })).toThrow(`${file}: schedule [berlin]: timezone: [Europe/Berlyn] is not a time zone`);
  });

  it('the same name in the props and in the file', () => {
    expect(() => synth({ schedulesFile: join(projectRoot, 'examples', 'schedules.json') }, { schedules: [{ ...closeNightly, name: 'upgrade-mode-on' }] })).toThrow(
      'schedule [upgrade-mode-on]: name: declared both',
    );
  });
});

describe('constructs on their own', () => {
  const app = new App();
  const stack = new Stack(app, 'Other');
  const fn = LambdaFn.fromFunctionAttributes(stack, 'Ingress', { functionArn: 'arn:aws:lambda:eu-west-1:111111111111:function:ingress', sameEnvironment: true });
  const dlq = new Queue(stack, 'Dlq');
  new ScheduledCommand(stack, 'Once', {
    schedule: { name: 'once', expression: 'at(2030-01-01T09:00:00)', timezone: 'America/New_York', command: { method: 'POST', path: '/_watcher/watch/w1/_execute' } },
    target: fn,
    deadLetterQueue: dlq,
    retryAttempts: 5,
  });
  const bus = new EventBus(stack, 'Alarms');
  new CommandRule(stack, 'OnAlarm', {
    name: 'execute-on-alarm',
    eventBus: bus,
    eventPattern: { source: ['aws.cloudwatch'], detailType: ['CloudWatch Alarm State Change'] },
    command: { method: 'POST', path: '/_watcher/watch/w1/_execute' },
    target: fn,
    deadLetterQueue: dlq,
  });
  const template = Template.fromStack(stack);

  it('ScheduledCommand: a one-time schedule in its time zone with the retry policy given', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'once',
      GroupName: 'mlplane',
      ScheduleExpression: 'at(2030-01-01T09:00:00)',
      ScheduleExpressionTimezone: 'America/New_York',
      Target: { RetryPolicy: { MaximumRetryAttempts: 5, MaximumEventAgeInSeconds: 3600 } },
    });
  });

  it('CommandRule: a named rule on its bus whose input is the command plus origin {kind: rule, name, id: the event id}', () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule'));
    expect(rules).toHaveLength(1);
    const rule = rules[0]!.Properties as Props;
    expect(rule.Name).toBe('execute-on-alarm');
    expect(rule.EventBusName).toEqual({ Ref: expect.stringMatching(/^Alarms/) });
    const target = rule.Targets[0] as Props;
    expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 });
    expect(target.DeadLetterConfig).toBeDefined();
    const paths = target.InputTransformer.InputPathsMap as Record<string, string>;
    const [idKey] = Object.entries(paths).find(([, path]) => path === '$.id')!;
    const rendered = (target.InputTransformer.InputTemplate as string).replace(`<${idKey}>`, '"event-123"');
    expect(JSON.parse(rendered)).toEqual({
      command_version: 1,
      method: 'POST',
      path: '/_watcher/watch/w1/_execute',
      origin: { kind: 'rule', name: 'execute-on-alarm', id: 'event-123' },
    });
    template.hasResourceProperties('AWS::Lambda::Permission', { Principal: 'events.amazonaws.com', SourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OnAlarmRule'), 'Arn'] } });
  });

  it('CommandRule refuses a command event the ingress would refuse, naming the rule', () => {
    expect(
      () =>
        new CommandRule(stack, 'Bad', {
          name: 'bad-rule',
          eventPattern: { source: ['x'] },
          command: { method: 'PATCH' as 'POST', path: '/x' },
          target: fn,
          deadLetterQueue: dlq,
        }),
    ).toThrow(/rule \[bad-rule\]: command\.method/);
  });
});

describe('without schedules', () => {
  it('creates no Scheduler schedule, but the group, the role and the outputs a schedule made with the CLI needs', () => {
    const { stack, template } = defaultStack();
    template.resourceCountIs('AWS::Scheduler::Schedule', 0);
    template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'mlplane' });
    expect(Object.values(template.findResources('AWS::Scheduler::ScheduleGroup'))[0]?.DeletionPolicy).toBe('Retain');
    template.hasOutput('CommandIngressArn', { Value: { 'Fn::GetAtt': [cfnId(stack, stack.commandIngress), 'Arn'] } });
    template.hasOutput('CommandSchedulerRoleArn', { Value: { 'Fn::GetAtt': [cfnId(stack, stack.commandSchedulerRole), 'Arn'] } });
    template.hasOutput('CommandEventsDeadLetterQueueArn', { Value: { 'Fn::GetAtt': [cfnId(stack, stack.commandEventsDeadLetterQueue), 'Arn'] } });
  });

  it('forwards mlplane command events of the default bus when no command bus is named', () => {
    const { stack, template } = defaultStack();
    const rule = template.toJSON().Resources[cfnId(stack, stack.commandEventRule)] as Props;
    expect(rule.Properties.EventPattern).toEqual({ 'detail-type': ['mlplane command'] });
    expect(rule.Properties.EventBusName).toBeUndefined();
  });

  it('reads the schedules file named by SCHEDULES_FILE, as npm start does', () => {
    const previous = process.env.SCHEDULES_FILE;
    process.env.SCHEDULES_FILE = join(projectRoot, 'examples', 'schedules.json');
    try {
      expect(Object.keys(schedulesByName(synth().template)).sort()).toEqual(['close-nightly-jobs', 'stop-datafeeds-before-backup', 'upgrade-mode-off', 'upgrade-mode-on']);
    } finally {
      if (previous === undefined) delete process.env.SCHEDULES_FILE;
      else process.env.SCHEDULES_FILE = previous;
    }
  });

  it('deletes the schedule group with the stack under removalPolicy=destroy (kept by default)', () => {
    expect(Object.values(synth({ removalPolicy: 'destroy' }).template.findResources('AWS::Scheduler::ScheduleGroup'))[0]?.DeletionPolicy).toBe('Delete');
  });
});
