import { Duration, Stack, TimeZone } from 'aws-cdk-lib';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { ContextAttribute, type IScheduleGroup, Schedule, ScheduleExpression, ScheduleGroup, ScheduleTargetInput, TimeWindow } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { type CommandSchedule, type CommandScheduleInput, parseCommandSchedules } from '../../lib/domain/command-schedule.ts';
import { commandIngress } from '../../lib/runtime/topology.ts';

/** The schedule group of every command schedule (Scheduler names are unique per group). */
export const COMMAND_SCHEDULE_GROUP = 'mlplane';

/** Props of {@link ScheduledCommand}. */
export interface ScheduledCommandProps {
  /**
   * The schedule, as a `schedules.json` item: name, expression, timezone, flexible window,
   * description, enabled and the command event (`lib/domain/command-schedule.ts`). Checked at
   * synth as Scheduler would check it; a refusal throws naming the schedule and the field.
   */
  schedule: CommandScheduleInput | CommandSchedule;
  /** The command-ingress function (`MlplaneStack.commandIngress`). */
  target: IFunction;
  /** Where Scheduler sends an invocation that failed every retry (`MlplaneStack.commandEventsDeadLetterQueue`). */
  deadLetterQueue: IQueue;
  /** Retries of a failed invocation; default `topology.commandIngress.retryAttempts` (2). */
  retryAttempts?: number;
  /** An invocation older than this goes to the DLQ instead; default `topology.commandIngress.maxEventAgeSeconds` (1 hour). */
  maxEventAge?: Duration;
  /** Default: the stack's `mlplane` group ({@link commandScheduleGroup}). */
  group?: IScheduleGroup;
  /**
   * Scheduler's execution role. Default: one role per target function, shared by its schedules,
   * that only scheduler.amazonaws.com of this account may assume for the schedule group, allowed
   * only to invoke the target and send to the DLQ.
   */
  role?: IRole;
}

const isChecked = (s: CommandScheduleInput | CommandSchedule): s is CommandSchedule => 'parsed' in s;

/**
 * The stack's schedule group for command schedules (`mlplane`), created on first use.
 * Every {@link ScheduledCommand} of a stack lands in it unless given another.
 */
export function commandScheduleGroup(scope: Construct): IScheduleGroup {
  const stack = Stack.of(scope);
  const id = 'CommandScheduleGroup';
  return (stack.node.tryFindChild(id) as ScheduleGroup | undefined) ?? new ScheduleGroup(stack, id, { scheduleGroupName: COMMAND_SCHEDULE_GROUP });
}

/**
 * One user command on an EventBridge Scheduler schedule (`AWS::Scheduler::Schedule`): cron,
 * rate or at, in its time zone, with its flexible window, invoking the command-ingress function
 * (asynchronously, as Scheduler invokes Lambda) with the command event plus
 * `origin: {kind:"schedule", name, id:<aws.scheduler.execution-id>, scheduled_time:<aws.scheduler.scheduled-time>}`,
 * which Scheduler fills in per firing. Failed invocations are retried per the retry policy and
 * then sent to the dead-letter queue.
 *
 * @throws ScheduleConfigError at synth when Scheduler would refuse the schedule (naming it and the field).
 */
export class ScheduledCommand extends Construct {
  readonly schedule: Schedule;
  /** The schedule as checked (defaults applied). */
  readonly definition: CommandSchedule;

  constructor(scope: Construct, id: string, props: ScheduledCommandProps) {
    super(scope, id);
    const def = isChecked(props.schedule) ? props.schedule : parseCommandSchedules([props.schedule], `ScheduledCommand ${this.node.path}`)[0]!;
    this.definition = def;
    const input = ScheduleTargetInput.fromObject({
      ...def.command,
      origin: { kind: 'schedule', name: def.name, id: ContextAttribute.executionId, scheduled_time: ContextAttribute.scheduledTime },
    });
    this.schedule = new Schedule(this, 'Schedule', {
      scheduleName: def.name,
      scheduleGroup: props.group ?? commandScheduleGroup(this),
      description: def.description,
      enabled: def.enabled,
      schedule: ScheduleExpression.expression(def.expression, TimeZone.of(def.timezone)),
      timeWindow: def.flexibleWindowMinutes === undefined ? TimeWindow.off() : TimeWindow.flexible(Duration.minutes(def.flexibleWindowMinutes)),
      target: new LambdaInvoke(props.target, {
        input,
        role: props.role,
        deadLetterQueue: props.deadLetterQueue,
        retryAttempts: props.retryAttempts ?? commandIngress.retryAttempts,
        maxEventAge: props.maxEventAge ?? Duration.seconds(commandIngress.maxEventAgeSeconds),
      }),
    });
  }
}
