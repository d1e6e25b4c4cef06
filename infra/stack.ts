import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { EventBus, type IEventBus, Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Construct } from 'constructs';
import { COMMAND_EVENTS_REJECTED, METRICS_NAMESPACE, UPGRADE_MODE_ON_SECONDS } from '../lib/runtime/metrics.ts';
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
   * Roles the command ingress runs command events as (`COMMAND_ROLES`): Elasticsearch built-in
   * role names, e.g. `['machine_learning_admin', 'watcher_admin']`. Context `commandRoles`
   * (comma-separated); default `machine_learning_admin` (Watcher commands then get a 403).
   */
  commandRoles?: string[];
  /**
   * The EventBridge bus events out are published to (DESIGN §5), by name or ARN. Context
   * `eventBusName`; default `default`, the account's default bus. Only the functions whose use
   * cases publish get `events:PutEvents`, on this bus only.
   */
  eventBusName?: string;
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
 * The HTTP families whose use cases publish events out: `jobs` (force close, delete, the
 * datafeed stop of a close), `datafeeds` (start, stop, force delete) and `root`
 * (set_upgrade_mode turns the mode on). The others only read or queue commands.
 */
export const EVENT_PUBLISHING_HTTP_FUNCTIONS: readonly HttpFunctionName[] = ['jobs', 'datafeeds', 'root'];

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
 * write items and send commands. Nothing may manage the table or the queues. The
 * functions that publish events out may `events:PutEvents` on the configured bus only.
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
  /** The bus events out go to ({@link MlplaneStackProps.eventBusName}). */
  readonly eventBus: IEventBus;
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
  /** Fires when a command event is refused with a 4xx (malformed, unknown job, 403, 429 …): a schedule or rule that needs fixing. */
  readonly commandEventsRejectedAlarm: Alarm;
  /** Fires when a command event reached the ingress's dead-letter queue (it failed every retry, or was too old). */
  readonly commandEventsDeadLetterAlarm: Alarm;

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

    const busName = props.eventBusName ?? this.context('eventBusName') ?? 'default';
    this.eventBus = busName.startsWith('arn:') ? EventBus.fromEventBusArn(this, 'EventsOutBus', busName) : EventBus.fromEventBusName(this, 'EventsOutBus', busName);

    const environment: Record<string, string> = {
      TABLE_NAME: this.table.table.tableName,
      EVENT_BUS_NAME: busName,
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
      if (EVENT_PUBLISHING_HTTP_FUNCTIONS.includes(entry.name as HttpFunctionName)) this.eventBus.grantPutEventsTo(fn);
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
      // Job and datafeed state changes, failed commands, upgrade mode and anomaly records are published from the worker.
      this.eventBus.grantPutEventsTo(fn);
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
      // Maintenance's idle-job auto-close publishes job and datafeed state changes; the ticks run use cases of the same families.
      this.eventBus.grantPutEventsTo(fn);
      scheduled[entry.name as ScheduleFunctionName] = fn;
    }
    this.scheduleFunctions = scheduled;

    this.commandEventsDeadLetterQueue = new Queue(this, 'CommandEventsDeadLetterQueue', {
      queueName: commandIngress.dlqLogicalName,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const commandRoles = props.commandRoles?.join(',') ?? this.context('commandRoles') ?? 'machine_learning_admin';
    if (commandRoles.split(',').every((r) => r.trim() === '')) throw new Error('commandRoles must name at least one role');
    const ingress = new MlplaneFunction(this, commandIngressEntry.constructId, {
      ...common,
      environment: {
        ...environment,
        // The ingress waits for a queued command (a long close) until a minute before its own timeout, not 28 s.
        HTTP_WAIT_CAP_MS: String((commandIngress.timeoutSeconds - 60) * 1000),
        COMMAND_ROLES: commandRoles,
      },
      entry: commandIngressEntry,
      timeout: Duration.seconds(commandIngress.timeoutSeconds),
      memoryMiB: commandIngress.memoryMiB,
    });
    this.table.table.grantReadWriteData(ingress.fn);
    this.commands.queue.grantSendMessages(ingress.fn);
    // Asynchronous invocations (Scheduler, rules): a 5xx is retried, then the event goes to the DLQ;
    // a 4xx returns normally (recorded on its task) and is never retried.
    ingress.fn.configureAsyncInvoke({
      retryAttempts: commandIngress.retryAttempts,
      maxEventAge: Duration.seconds(commandIngress.maxEventAgeSeconds),
      onFailure: new SqsDestination(this.commandEventsDeadLetterQueue),
    });
    // A command event runs the same use cases as HTTP (force close, stop datafeeds, upgrade mode), which publish.
    this.eventBus.grantPutEventsTo(ingress.fn);
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

    const commandBusName = props.commandBusName ?? this.context('commandBusName') ?? 'default';
    // The whole event goes to the ingress (it reads `detail`, and the envelope's id and source name the sender).
    this.commandEventRule = new Rule(this, 'CommandEvents', {
      description: `Runs the command event in the detail of "${COMMAND_DETAIL_TYPE}" events on the ${commandBusName} bus`,
      eventBus: commandBusName === 'default' ? undefined : EventBus.fromEventBusName(this, 'CommandBus', commandBusName),
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

    this.commandEventsRejectedAlarm = new Alarm(this, 'CommandEventsRejected', {
      alarmDescription:
        'A command event from a schedule or rule was refused (malformed, unknown job, unauthorized, upgrade mode …): GET _tasks/<id> and the ingress log name the sender and the reason',
      metric: new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: COMMAND_EVENTS_REJECTED,
        dimensionsMap: { service: 'mlplane' },
        statistic: 'Sum',
        period: Duration.minutes(5),
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.commandEventsDeadLetterAlarm = new Alarm(this, 'CommandEventsDeadLettered', {
      alarmDescription: 'A command event failed every retry (or was older than the maximum event age) and is in the command-events dead-letter queue',
      metric: this.commandEventsDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: 1,
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
