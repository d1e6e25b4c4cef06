/**
 * Datafeed items: one per datafeed holding its config and runtime state (`version` guards
 * both), plus a claim item per job that has a datafeed (key layout in `keys.ts`).
 */
import { GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { DatafeedConfig, DatafeedRuntime } from '../domain/datafeed/types.ts';
import { StaleStateError } from '../domain/errors.ts';
import { queryAll } from './batch.ts';
import { db, isConditionFailure, tableName } from './db.ts';
import { keys } from './keys.ts';
import { isJsonObject } from '../domain/json/plain-values.ts';

/** A datafeed as stored: its config and its runtime state (whose `version` is the item's). */
export interface StoredDatafeed {
  config: DatafeedConfig;
  runtime: DatafeedRuntime;
}

/** The fields the use cases branch on are typed; the rest only has to be there (shown as stored). */
const storedConfigSchema = z.looseObject({
  datafeed_id: z.string(),
  job_id: z.string(),
  indices: z.array(z.string()),
  query_delay: z.string(),
  query: z.custom<Record<string, unknown>>(isJsonObject),
  scroll_size: z.number(),
  chunking_config: z.looseObject({ mode: z.enum(['auto', 'manual', 'off']) }),
  delayed_data_check_config: z.looseObject({ enabled: z.boolean() }),
  indices_options: z.custom<DatafeedConfig['indices_options']>(isJsonObject),
  authorization_roles: z.array(z.string()),
});
const storedRuntimeSchema = z.looseObject({
  datafeed_id: z.string(),
  state: z.enum(['stopped', 'starting', 'started', 'stopping']),
  version: z.number().int().nonnegative(),
  timing_stats: z.custom<DatafeedRuntime['timing_stats']>(isJsonObject),
});

/**
 * Reads an item's attributes back.
 * @throws ZodError when the item is not a datafeed item, SyntaxError when not JSON
 */
export function readDatafeedItem(item: Record<string, unknown>): StoredDatafeed {
  const config = storedConfigSchema.parse(JSON.parse(z.string().parse(item.config))) as DatafeedConfig;
  const runtime = storedRuntimeSchema.parse(JSON.parse(z.string().parse(item.runtime))) as DatafeedRuntime;
  return { config, runtime };
}

const itemOf = (config: DatafeedConfig, runtime: DatafeedRuntime) => ({
  ...keys.datafeed(config.datafeed_id),
  job_id: config.job_id,
  version: runtime.version,
  config: JSON.stringify(config),
  runtime: JSON.stringify(runtime),
});

/** Why {@link createDatafeed} wrote nothing. */
export type CreateDatafeedRefusal = 'id_taken' | 'job_has_datafeed' | 'job_missing';

/**
 * Creates a datafeed in one transaction: the datafeed item (its id free), the job's claim (the
 * job has no datafeed yet) and a check that the job config still exists.
 * @returns undefined when written, else why not (the cancellation reasons say which condition failed)
 */
export async function createDatafeed(config: DatafeedConfig, runtime: DatafeedRuntime): Promise<CreateDatafeedRefusal | undefined> {
  try {
    await db().send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: tableName(), Item: itemOf(config, runtime), ConditionExpression: 'attribute_not_exists(pk)' } },
          {
            Put: {
              TableName: tableName(),
              Item: { ...keys.datafeedJobClaim(config.job_id), datafeed_id: config.datafeed_id },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          { ConditionCheck: { TableName: tableName(), Key: keys.jobConfig(config.job_id), ConditionExpression: 'attribute_exists(pk)' } },
        ],
      }),
    );
    return undefined;
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
    const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
    // Elasticsearch's order: the job, then its datafeeds, then the id.
    if (reasons[2]?.Code === 'ConditionalCheckFailed') return 'job_missing';
    if (reasons[1]?.Code === 'ConditionalCheckFailed') return 'job_has_datafeed';
    return 'id_taken';
  }
}

/** One datafeed, or undefined. Strongly consistent. */
export async function getDatafeed(datafeedId: string): Promise<StoredDatafeed | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: keys.datafeed(datafeedId), ConsistentRead: true }));
  return out.Item ? readDatafeedItem(out.Item) : undefined;
}

/** The id of the job's datafeed (its claim), or undefined. */
export async function getJobDatafeedId(jobId: string): Promise<string | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: keys.datafeedJobClaim(jobId), ConsistentRead: true }));
  return out.Item ? z.string().parse(out.Item.datafeed_id) : undefined;
}

/** Every datafeed, sorted by id (the sort key order). One Query over the datafeeds partition. */
export async function listDatafeeds(): Promise<StoredDatafeed[]> {
  const items = await queryAll<Record<string, unknown>>({
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
    ExpressionAttributeValues: { ':pk': keys.datafeedPartition, ':p': keys.datafeedPrefix },
    ConsistentRead: true,
  });
  return items.map(readDatafeedItem);
}

/**
 * Writes a datafeed's config and runtime if the stored version is still `runtime.version - 1`
 * (the lifecycle or the update bumped it). The job of a datafeed never changes, so its claim
 * is untouched.
 * @throws StaleStateError when another writer changed it first (or it was deleted)
 */
export async function putDatafeed(config: DatafeedConfig, runtime: DatafeedRuntime): Promise<void> {
  try {
    await db().send(
      new PutCommand({
        TableName: tableName(),
        Item: itemOf(config, runtime),
        ConditionExpression: 'version = :v',
        ExpressionAttributeValues: { ':v': runtime.version - 1 },
      }),
    );
  } catch (err) {
    if (isConditionFailure(err)) throw new StaleStateError(`datafeed [${config.datafeed_id}] changed concurrently`);
    throw err;
  }
}

/**
 * Deletes a datafeed and its job's claim together, if the datafeed is still at `version`
 * and `stopped` (a force delete stops it first, with its own conditional write).
 * @throws StaleStateError when it changed meanwhile
 */
export async function deleteDatafeed(d: StoredDatafeed): Promise<void> {
  try {
    await db().send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Delete: {
              TableName: tableName(),
              Key: keys.datafeed(d.config.datafeed_id),
              ConditionExpression: 'version = :v',
              ExpressionAttributeValues: { ':v': d.runtime.version },
            },
          },
          {
            Delete: {
              TableName: tableName(),
              Key: keys.datafeedJobClaim(d.config.job_id),
              ConditionExpression: 'datafeed_id = :d',
              ExpressionAttributeValues: { ':d': d.config.datafeed_id },
            },
          },
        ],
      }),
    );
  } catch (err) {
    if (isConditionFailure(err)) throw new StaleStateError(`datafeed [${d.config.datafeed_id}] changed concurrently`);
    throw err;
  }
}
