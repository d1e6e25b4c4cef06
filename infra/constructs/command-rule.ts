import { Duration } from 'aws-cdk-lib';
import { EventField, type EventPattern, type IEventBus, Rule, RuleTargetInput } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { type CommandEventInput, commandEventSchema } from '../../lib/domain/command-event.ts';
import { ScheduleConfigError } from '../../lib/domain/errors.ts';
import { SCHEDULE_NAME_PATTERN } from '../../lib/domain/schedule-expression.ts';
import { commandIngress } from '../../lib/runtime/topology.ts';

/** Props of {@link CommandRule}. */
export interface CommandRuleProps {
  /** The rule's name (also `origin.name` of the events it sends): 1-64 of `0-9 a-z A-Z - _ .`. */
  name: string;
  /** Which events fire the command, e.g. `{source: ['aws.cloudwatch'], detailType: ['CloudWatch Alarm State Change']}`. */
  eventPattern: EventPattern;
  /** The bus whose events are matched; default the account's default bus. */
  eventBus?: IEventBus;
  /** The command event to run (without `origin`, which the rule fills in). */
  command: CommandEventInput;
  description?: string;
  /** The command-ingress function (`MlplaneStack.commandIngress`). */
  target: IFunction;
  /** Where EventBridge sends an event it could not deliver (`MlplaneStack.commandEventsDeadLetterQueue`). */
  deadLetterQueue: IQueue;
  /** Default `topology.commandIngress.retryAttempts` (2). */
  retryAttempts?: number;
  /** Default `topology.commandIngress.maxEventAgeSeconds` (1 hour). */
  maxEventAge?: Duration;
}

/**
 * An EventBridge rule on any bus that runs one command when an event matches: its target is
 * the command-ingress function, whose input (an input transformer) is the command event plus
 * `origin: {kind:"rule", name:<rule name>, id:<the event's id>}`. Delivery is retried per the
 * retry policy, then the event goes to the dead-letter queue (EventBridge may send to it: the
 * queue policy allows this rule only). The function's resource policy lets this rule, and only
 * it, invoke it.
 *
 * The name is set, not generated, because the input names the rule and a rule cannot refer to
 * its own generated name in its targets (CloudFormation refuses the circular reference).
 *
 * @throws ScheduleConfigError at synth for a bad name, or a command event the ingress would refuse (naming the rule).
 */
export class CommandRule extends Construct {
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: CommandRuleProps) {
    super(scope, id);
    const source = `CommandRule ${this.node.path}: rule [${props.name}]`;
    if (!SCHEDULE_NAME_PATTERN.test(props.name)) throw new ScheduleConfigError(`${source}: name: must be 1-64 characters of 0-9 a-z A-Z - _ .`);
    const parsed = commandEventSchema.safeParse(props.command);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ScheduleConfigError(`${source}: command.${issue.path.join('.')}: ${issue.message}`);
    }
    if (parsed.data.origin !== undefined) throw new ScheduleConfigError(`${source}: command.origin: origin is filled in when the rule fires; remove it`);
    this.rule = new Rule(this, 'Rule', {
      ruleName: props.name,
      description: props.description,
      eventBus: props.eventBus,
      eventPattern: props.eventPattern,
      targets: [
        new LambdaFunction(props.target, {
          event: RuleTargetInput.fromObject({ ...parsed.data, origin: { kind: 'rule', name: props.name, id: EventField.eventId } }),
          deadLetterQueue: props.deadLetterQueue,
          retryAttempts: props.retryAttempts ?? commandIngress.retryAttempts,
          maxEventAge: props.maxEventAge ?? Duration.seconds(commandIngress.maxEventAgeSeconds),
        }),
      ],
    });
  }
}
