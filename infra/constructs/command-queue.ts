import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { commandQueue } from '../../lib/runtime/topology.ts';

/**
 * The FIFO command queue (`topology.commandQueue`) with its FIFO dead-letter queue and the
 * two alarms that say commands are not being carried out:
 *
 * - `DlqNotEmpty`: at least one message in the DLQ, i.e. a command failed
 *   `maxReceiveCount` times and its entity's FIFO group moved on without it.
 * - `OldestCommandAge`: the oldest message has waited longer than one visibility timeout
 *   (seconds), i.e. a FIFO group is blocked by a command that keeps failing or timing out.
 *
 * Content-based deduplication is off: senders set `MessageDeduplicationId` (command id +
 * target), so a re-sent command is deduplicated even if its body differs.
 */
export class CommandQueue extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly dlqAlarm: Alarm;
  readonly ageAlarm: Alarm;

  constructor(scope: Construct, id: string) {
    super(scope, id);

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      queueName: `${commandQueue.dlqLogicalName}.fifo`,
      fifo: true,
      contentBasedDeduplication: false,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    this.queue = new Queue(this, 'Queue', {
      queueName: `${commandQueue.logicalName}.fifo`,
      fifo: commandQueue.fifo,
      contentBasedDeduplication: false,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(commandQueue.visibilityTimeoutSeconds),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: commandQueue.maxReceiveCount },
    });

    this.dlqAlarm = new Alarm(this, 'DlqNotEmpty', {
      alarmDescription: `Commands failed ${commandQueue.maxReceiveCount} receives and were moved to the dead-letter queue`,
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    this.ageAlarm = new Alarm(this, 'OldestCommandAge', {
      alarmDescription: `A command has waited longer than the visibility timeout (${commandQueue.visibilityTimeoutSeconds} s): a FIFO group is blocked`,
      metric: this.queue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: commandQueue.visibilityTimeoutSeconds,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}
