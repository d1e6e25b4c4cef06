import type { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { table as tableDef } from '../../lib/runtime/topology.ts';

/** Props of {@link StateTable}. */
export interface StateTableProps {
  /** What CloudFormation does with the table (and its data) when it leaves the stack. */
  removalPolicy: RemovalPolicy;
}

/**
 * mlplane's single DynamoDB table (`topology.table`): string partition and sort keys,
 * on-demand billing, TTL for commands and watch records, point-in-time recovery because it
 * holds job configs and model state that cannot be rebuilt.
 */
export class StateTable extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string, props: StateTableProps) {
    super(scope, id);
    this.table = new Table(this, 'Table', {
      partitionKey: { name: tableDef.partitionKey, type: AttributeType.STRING },
      sortKey: { name: tableDef.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: tableDef.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: props.removalPolicy,
    });
  }
}
