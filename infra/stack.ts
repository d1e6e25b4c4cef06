import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { EventBus, Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Construct } from 'constructs';
import { METRICS_NAMESPACE, UPGRADE_MODE_ON_SECONDS } from '../lib/runtime/metrics.ts';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { commandIngress, commandQueue, schedules, workers, type HttpFunctionName, type ScheduleFunctionName } from '../lib/runtime/topology.ts';
import { type CommandSchedule, type CommandScheduleInput, parseCommandSchedules } from '../lib/domain/command-schedule.ts';
import { ScheduleConfigError } from '../lib/domain/errors.ts';
import { readSchedulesFile } from '../lib/runtime/schedules-file.ts';
import { CommandQueue } from './constructs/command-queue.ts';
import { COMMAND_SCHEDULE_GROUP, ScheduledCommand } from './constructs/scheduled-command.ts';
import { MlplaneHttpApi } from './constructs/http-api.ts';
import { MlplaneFunction } from './constructs/mlplane-function.ts';
import { StateTable } from './constructs/state-table.ts';
import { commandIngressEntry, httpEntries, projectRoot as defaultProjectRoot, scheduleEntries, workerEntries } from './entries.ts';

/** Removal policies accepted by the `removalPolicy` context value. */
const removalPolicies = {
  retain: RemovalPolicy.RETAIN,
  destroy: RemovalPolicy.DESTROY,
} as const;

/** Props of {@link MlplaneStack}; each falls back to the CDK context value of the same name. */
export interface MlplaneStackProps extends StackProps {
  /**
   * `retain` (default) keeps the table and the log groups when the stack is deleted;
   * `destroy` deletes them (throwaway and LocalStack stacks). Context: `-c removalPolicy=destroy`.
   */
  removalPolicy?: keyof typeof removalPolicies;
  /** `CLUSTER_NAME` of every function (`cluster_name` of `GET /`). Context `clusterName`; default `mlplane`. */
  clusterName?: string;
  /** `NODE_NAME` of every function (node of task ids and stats). Context `nodeName`; default `mlplane-0`. */
  nodeName?: string;
  /** Folder holding `package.json` and `functions/`; default this repository. */
  projectRoot?: string;
  /**
   * How long upgrade mode may stay on before the `UpgradeModeLeftOn` alarm fires (upgrade mode
   * left on by accident halts every job). Context `upgradeModeAlarmAfterMinutes`; default 2 hours.
   */
  upgradeModeAlarmAfter?: Duration;
  /**
   * User command schedules (`schedules.json` items, `lib/domain/command-schedule.ts`), one
   * {@link ScheduledCommand} each, besides those of {@link schedulesFile}. Names are unique across both.
   */
  schedules?: readonly CommandScheduleInput[];
  /**
   * A schedules file to deploy too. Context `schedulesFile` (`-c schedulesFile=schedules.json`),
   * else the `SCHEDULES_FILE` environment variable (the one `npm start` reads); default none.
   */
  schedulesFile?: string;
  /**
   * The bus whose `detail-type: "mlplane command"` events are forwarded whole to the command
   * ingress (which runs the event's `detail`). Context `commandBusName`; default `default`, the account's default bus.
   */
  commandBusName?: string;
}

/** The `detail-type` of events that carry a command event in their `detail` (`aws events put-events`). */
export const COMMAND_DETAIL_TYPE = 'mlplane command';

/**
 * HTTP functions wait for a command's outcome for up to `HTTP_WAIT_CAP_MS` (28 s by default),
 * under API Gateway's 30 s integration cap; the function may run a little longer to answer.
 */
const HTTP_TIMEOUT = Duration.seconds(30);
const HTTP_MEMORY_MIB = 1024;
/** Nightly maintenance walks results and snapshots of every job. */
const SCHEDULE_TIMEOUT = Duration.minutes(5);
const SCHEDULE_MEMORY_MIB = 1024;

/**
 * The whole of mlplane in one stack, built from `lib/runtime/topology.ts`: the table, the
 * FIFO command queue and its DLQ with alarms, one function per HTTP family, worker and
 * scheduled function, the HTTP API with one route per topology route, and one EventBridge
 * rule per topology schedule.
 *
 * Grants are least privilege: HTTP functions read and write items and send commands;
 * the worker reads and writes items and consumes commands; scheduled functions read and
 * write items and send commands. Nothing may manage the table or the queues.
 *
 * Commands from EventBridge: the command-ingress function, one EventBridge Scheduler schedule
 * (`ScheduledCommand`, group `mlplane`) per user schedule of the `schedules` prop and the
 * schedules file, run as a role that may only invoke the ingress and send to its DLQ, and one
 * rule forwarding `detail-type: "mlplane command"` events of the command bus to the ingress.
 */
export class MlplaneStack extends Stack {
  readonly table: StateTable;
  readonly commands: CommandQueue;
  readonly api: MlplaneHttpApi;
  readonly httpFunctions: Readonly<Record<HttpFunctionName, IFunction>>;
  readonly workerFunctions: Readonly<Record<keyof typeof workers, IFunction>>;
  readonly scheduleFunctions: Readonly<Record<ScheduleFunctionName, IFunction>>;
  /** The command-ingress function: the target of command schedules and rules (`topology.commandIngress`). */
  readonly commandIngress: IFunction;
  /** Command events that failed every retry, or were too old to run (standard SQS queue, 14 days). */
  readonly commandEventsDeadLetterQueue: Queue;
  /** The user command schedules ({@link MlplaneStackProps.schedules} and the schedules file), by name. */
  readonly commandSchedules: Readonly<Record<string, ScheduledCommand>>;
  /** The `mlplane` schedule group of the command schedules. */
  readonly commandScheduleGroup: ScheduleGroup;
  /** The execution role of the command schedules (invoke the ingress, send to the DLQ). */
  readonly commandSchedulerRole: Role;
  /** Forwards `detail-type: "mlplane command"` events on the command bus to the ingress. */
  readonly commandEventRule: Rule;
  /** Fires when upgrade mode stays on longer than {@link MlplaneStackProps.upgradeModeAlarmAfter}. */
  readonly upgradeModeAlarm: Alarm;

  constructor(scope: Construct, id: string, props: MlplaneStackProps = {}) {
    super(scope, id, props);

    const policyName = props.removalPolicy ?? this.context('removalPolicy') ?? 'retain';
    const removalPolicy = removalPolicies[policyName as keyof typeof removalPolicies];
    if (removalPolicy === undefined) {
      throw new Error(`removalPolicy must be one of ${Object.keys(removalPolicies).join(', ')}; got ${JSON.stringify(policyName)}`);
    }
    const projectRoot = props.projectRoot ?? defaultProjectRoot;

    this.table = new StateTable(this, 'State', { removalPolicy });
    this.commands = new CommandQueue(this, 'Commands');

    const environment: Record<string, string> = {
      TABLE_NAME: this.table.table.tableName,
      COMMAND_QUEUE_URL: this.commands.queue.queueUrl,
      NODE_NAME: props.nodeName ?? this.context('nodeName') ?? 'mlplane-0',
      CLUSTER_NAME: props.clusterName ?? this.context('clusterName') ?? 'mlplane',
    };
    const common = { projectRoot, environment, logRemovalPolicy: removalPolicy };

    const http = {} as Record<HttpFunctionName, IFunction>;
    for (const entry of httpEntries) {
      const { fn } = new MlplaneFunction(this, entry.constructId, {
        ...common,
        entry,
        timeout: HTTP_TIMEOUT,
        memoryMiB: HTTP_MEMORY_MIB,
      });
      this.table.table.grantReadWriteData(fn);
      this.commands.queue.grantSendMessages(fn);
      http[entry.name as HttpFunctionName] = fn;
    }
    this.httpFunctions = http;

    const workerFns = {} as Record<keyof typeof workers, IFunction>;
    for (const entry of workerEntries) {
      const def = workers[entry.name as keyof typeof workers];
      const { fn } = new MlplaneFunction(this, entry.constructId, {
        ...common,
        entry,
        timeout: Duration.seconds(def.timeoutSeconds),
        memoryMiB: def.memoryMiB,
      });
      this.table.table.grantReadWriteData(fn);
      // The event source mapping grants receive, delete and change-visibility on the queue.
      fn.addEventSource(
        new SqsEventSource(this.commands.queue, {
          batchSize: commandQueue.batchSize,
          reportBatchItemFailures: true,
        }),
      );
      workerFns[entry.name as keyof typeof workers] = fn;
    }
    this.workerFunctions = workerFns;

    const scheduled = {} as Record<ScheduleFunctionName, IFunction>;
    for (const entry of scheduleEntries) {
      const { fn } = new MlplaneFunction(this, entry.constructId, {
        ...common,
        entry,
        timeout: SCHEDULE_TIMEOUT,
        memoryMiB: SCHEDULE_MEMORY_MIB,
      });
      this.table.table.grantReadWriteData(fn);
      this.commands.queue.grantSendMessages(fn);
      scheduled[entry.name as ScheduleFunctionName] = fn;
    }
    this.scheduleFunctions = scheduled;

    this.commandEventsDeadLetterQueue = new Queue(this, 'CommandEventsDeadLetterQueue', {
      queueName: commandIngress.dlqLogicalName,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const ingress = new MlplaneFunction(this, commandIngressEntry.constructId, {
      ...common,
      entry: commandIngressEntry,
      timeout: Duration.seconds(commandIngress.timeoutSeconds),
      memoryMiB: commandIngress.memoryMiB,
    });
    this.table.table.grantReadWriteData(ingress.fn);
    this.commands.queue.grantSendMessages(ingress.fn);
    this.commandIngress = ingress.fn;

    const userSchedules = [
      ...parseCommandSchedules(props.schedules ?? [], 'MlplaneStack schedules'),
      ...this.schedulesFromFile(props.schedulesFile ?? this.context('schedulesFile') ?? (process.env.SCHEDULES_FILE || undefined)),
    ];
    const commandSchedules: Record<string, ScheduledCommand> = {};
    // Always there, so schedules made with `aws scheduler create-schedule` have a group and a role
    // too. Its name is fixed per account and region, like the queues'; deleted with the stack
    // (and its schedules with it) under removalPolicy=destroy.
    this.commandScheduleGroup = new ScheduleGroup(this, 'CommandScheduleGroup', { scheduleGroupName: COMMAND_SCHEDULE_GROUP, removalPolicy });
    // Only Scheduler, for this account's mlplane group, may assume it; each ScheduledCommand
    // grants it invoke on the ingress and send to the DLQ, nothing else.
    this.commandSchedulerRole = new Role(this, 'CommandSchedulerRole', {
      description: 'EventBridge Scheduler runs mlplane command schedules as this role',
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': this.account, 'aws:SourceArn': this.commandScheduleGroup.scheduleGroupArn } },
      }),
    });
    this.commandIngress.grantInvoke(this.commandSchedulerRole);
    // Scheduler only sends to the DLQ (grantSendMessages would add GetQueueAttributes and GetQueueUrl).
    this.commandSchedulerRole.addToPrincipalPolicy(new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.commandEventsDeadLetterQueue.queueArn] }));
    for (const def of userSchedules) {
      if (commandSchedules[def.name]) throw new ScheduleConfigError(`schedule [${def.name}]: name: declared both in the stack's schedules and in the schedules file`);
      commandSchedules[def.name] = new ScheduledCommand(this, `ScheduledCommand-${def.name}`, {
        schedule: def,
        target: this.commandIngress,
        deadLetterQueue: this.commandEventsDeadLetterQueue,
        group: this.commandScheduleGroup,
        role: this.commandSchedulerRole,
      });
    }
    this.commandSchedules = commandSchedules;

    const busName = props.commandBusName ?? this.context('commandBusName') ?? 'default';
    // The whole event goes to the ingress (it reads `detail`, and the envelope's id and source name the sender).
    this.commandEventRule = new Rule(this, 'CommandEvents', {
      description: `Runs the command event in the detail of "${COMMAND_DETAIL_TYPE}" events on the ${busName} bus`,
      eventBus: busName === 'default' ? undefined : EventBus.fromEventBusName(this, 'CommandBus', busName),
      eventPattern: { detailType: [COMMAND_DETAIL_TYPE] },
      targets: [
        new LambdaFunction(this.commandIngress, {
          deadLetterQueue: this.commandEventsDeadLetterQueue,
          retryAttempts: commandIngress.retryAttempts,
          maxEventAge: Duration.seconds(commandIngress.maxEventAgeSeconds),
        }),
      ],
    });

    for (const def of schedules) {
      new Rule(this, `Schedule-${def.name}`, {
        description: def.description,
        schedule: Schedule.expression(def.expression),
        targets: [
          new LambdaFunction(this.scheduleFunctions[def.fn], {
            retryAttempts: 2,
            maxEventAge: Duration.hours(1),
          }),
        ],
      });
    }

    const alarmAfterMinutes = this.context('upgradeModeAlarmAfterMinutes');
    const alarmAfter = props.upgradeModeAlarmAfter ?? Duration.minutes(alarmAfterMinutes === undefined ? 120 : Number(alarmAfterMinutes));
    // The minute tick publishes how long upgrade mode has been on, only while it is on: no data is not breaching.
    this.upgradeModeAlarm = new Alarm(this, 'UpgradeModeLeftOn', {
      alarmDescription: `Upgrade mode has been on for more than ${alarmAfter.toHumanString()}: every job and datafeed is halted until it is disabled`,
      metric: new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: UPGRADE_MODE_ON_SECONDS,
        dimensionsMap: { service: 'mlplane' },
        statistic: 'Maximum',
        period: Duration.minutes(5),
      }),
      threshold: alarmAfter.toSeconds(),
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    this.api = new MlplaneHttpApi(this, 'Http', { functions: this.httpFunctions });

    new CfnOutput(this, 'ApiUrl', {
      description: 'Elasticsearch endpoint: give it to clients as their node URL',
      value: this.api.api.apiEndpoint,
    });
    new CfnOutput(this, 'TableName', { description: 'The DynamoDB state table', value: this.table.table.tableName });
    new CfnOutput(this, 'CommandQueueUrl', {
      description: 'The FIFO command queue',
      value: this.commands.queue.queueUrl,
    });
    new CfnOutput(this, 'CommandIngressArn', { description: 'The command-ingress function (target of command schedules and rules)', value: this.commandIngress.functionArn });
    new CfnOutput(this, 'CommandSchedulerRoleArn', { description: 'Execution role for command schedules in the mlplane group', value: this.commandSchedulerRole.roleArn });
    new CfnOutput(this, 'CommandEventsDeadLetterQueueArn', {
      description: 'Command events that failed every retry',
      value: this.commandEventsDeadLetterQueue.queueArn,
    });
    new CfnOutput(this, 'CommandDeadLetterQueueUrl', {
      description: 'Commands that failed every receive',
      value: this.commands.deadLetterQueue.queueUrl,
    });
  }

  /** The schedules of the file at `path` (none without one). */
  private schedulesFromFile(path: string | undefined): CommandSchedule[] {
    return path === undefined ? [] : readSchedulesFile(path);
  }

  /** A string context value, or undefined when unset or empty. */
  private context(key: string): string | undefined {
    const value: unknown = this.node.tryGetContext(key);
    if (value === undefined || value === null || value === '') return undefined;
    return String(value);
  }
}
