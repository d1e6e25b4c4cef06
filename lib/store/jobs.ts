import { DeleteCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { JobConfig } from '../domain/job/types.ts';
import type { DataCounts, JobRuntime, ModelSizeStats, OpenTimeSettings, TimingStats } from '../domain/state.ts';
import { StaleStateError } from '../domain/errors.ts';
import { batchWrite, keysWithPrefix, queryAll } from './batch.ts';
import { db, isConditionFailure, tableName } from './db.ts';
import { keys } from './keys.ts';
import { resultItemKeys } from './results.ts';
import { isJsonObject } from '../domain/json/plain-values.ts';

/** A stored job config with its optimistic-concurrency version. */
export interface StoredJobConfig {
  config: JobConfig;
  version: number;
}

/**
 * Creates a job's config and its (closed) runtime item in one transaction.
 * @returns false when a job with that id already exists (nothing is written).
 */
export async function createJob(config: JobConfig, runtime: JobRuntime): Promise<boolean> {
  try {
    await db().send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: tableName(),
              Item: { ...keys.jobConfig(config.job_id), version: 1, config: JSON.stringify(config) },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          {
            Put: {
              TableName: tableName(),
              Item: { ...keys.jobState(config.job_id), version: runtime.version, data: JSON.stringify(runtime) },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
        ],
      }),
    );
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}

/** One job's config, or undefined. Strongly consistent. */
export async function getJobConfig(jobId: string): Promise<StoredJobConfig | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: keys.jobConfig(jobId), ConsistentRead: true }));
  return out.Item ? { config: JSON.parse(out.Item.config as string) as JobConfig, version: out.Item.version as number } : undefined;
}

/** Every job config, sorted by job id (the sort key order). */
export async function listJobConfigs(): Promise<JobConfig[]> {
  const items = await queryAll<{ config: string }>({
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
    ExpressionAttributeValues: { ':pk': keys.jobConfigPartition, ':p': keys.jobConfigPrefix },
    ConsistentRead: true,
  });
  return items.map((i) => JSON.parse(i.config) as JobConfig);
}

/**
 * Up to `limit` job configs with ids after `afterJobId` (all when absent), in job id order: one
 * Query page, so a walk over 10,000 jobs reads them a page at a time from a cursor.
 */
export async function listJobConfigsAfter(afterJobId: string | undefined, limit: number): Promise<JobConfig[]> {
  const out = await db().send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
      ExpressionAttributeValues: { ':pk': keys.jobConfigPartition, ':p': keys.jobConfigPrefix },
      ...(afterJobId === undefined ? {} : { ExclusiveStartKey: keys.jobConfig(afterJobId) }),
      Limit: limit,
      ConsistentRead: true,
    }),
  );
  return ((out.Items ?? []) as { config: string }[]).map((i) => JSON.parse(i.config) as JobConfig);
}

/**
 * Replaces a job config if its version is still `expectedVersion`.
 * @throws StaleStateError when another writer changed it first.
 */
export async function putJobConfig(config: JobConfig, expectedVersion: number): Promise<number> {
  const version = expectedVersion + 1;
  try {
    await db().send(
      new PutCommand({
        TableName: tableName(),
        Item: { ...keys.jobConfig(config.job_id), version, config: JSON.stringify(config) },
        ConditionExpression: 'version = :v',
        ExpressionAttributeValues: { ':v': expectedVersion },
      }),
    );
    return version;
  } catch (err) {
    if (isConditionFailure(err)) throw new StaleStateError(`job config [${config.job_id}] changed concurrently`);
    throw err;
  }
}

/** One job's runtime item, or undefined. Strongly consistent. */
export async function getJobRuntime(jobId: string): Promise<JobRuntime | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: keys.jobState(jobId), ConsistentRead: true }));
  return out.Item ? readJobRuntime(out.Item.data) : undefined;
}

/**
 * A runtime item's JSON as read back, checked shallowly: the fields the lifecycle branches
 * on (`state`, `version`, the close progress, the model pointer, the last command) are
 * typed; the counters' objects only have to be objects, since they are only shown or
 * added to. This read is on every request and every command, so it stays this cheap; the
 * full types are `JobRuntime`'s in `lib/domain/state.ts`. Unknown fields pass through.
 */
const storedJobRuntimeSchema = z.looseObject({
  job_id: z.string(),
  state: z.enum(['closed', 'opening', 'opened', 'closing', 'failed']),
  reason: z.string().optional(),
  node: z.string().optional(),
  assignment_explanation: z.string().optional(),
  open_time_ms: z.number().optional(),
  data_counts: z.custom<DataCounts>(isJsonObject),
  model_size_stats: z.custom<ModelSizeStats>(isJsonObject),
  timing_stats: z.custom<TimingStats>(isJsonObject),
  model: z.looseObject({ generation: z.number(), chunks: z.number(), bytes: z.number() }).optional(),
  close: z.looseObject({ command_id: z.string(), next: z.number().int().nonnegative(), snapshot_id: z.string().optional() }).optional(),
  interim_buckets: z.array(z.number()).optional(),
  last_finalized_bucket_end: z.number().optional(),
  opened_with: z.custom<OpenTimeSettings>(isJsonObject).optional(),
  last_command: z.looseObject({ id: z.string(), response: z.unknown() }).optional(),
  renormalization: z
    .looseObject({
      generation: z.number(),
      requested: z.number().int().nonnegative(),
      done: z.number().int().nonnegative(),
      start: z.number().optional(),
      end: z.number().optional(),
      cursor: z.number().optional(),
    })
    .optional(),
  version: z.number().int().nonnegative(),
});

/**
 * Parses a runtime item's `data` attribute.
 * @throws ZodError when it is not a runtime item (a mismatched writer), SyntaxError when not JSON
 */
export function readJobRuntime(data: unknown): JobRuntime {
  return storedJobRuntimeSchema.parse(JSON.parse(z.string().parse(data)));
}

/** Runtime items of many jobs (BatchGet is not worth it at these sizes: parallel Gets). */
export async function getJobRuntimes(jobIds: string[]): Promise<Map<string, JobRuntime>> {
  const entries = await Promise.all(jobIds.map(async (id) => [id, await getJobRuntime(id)] as const));
  const out = new Map<string, JobRuntime>();
  for (const [id, rt] of entries) if (rt) out.set(id, rt);
  return out;
}

/**
 * Writes `next` (whose `version` must be the stored version + 1) if the stored version is
 * still `next.version - 1`. This is the one way runtime state changes.
 * @throws StaleStateError when the condition fails.
 */
export async function putJobRuntime(next: JobRuntime): Promise<void> {
  try {
    await db().send(
      new PutCommand({
        TableName: tableName(),
        Item: { ...keys.jobState(next.job_id), version: next.version, data: JSON.stringify(next) },
        ConditionExpression: 'version = :v',
        ExpressionAttributeValues: { ':v': next.version - 1 },
      }),
    );
  } catch (err) {
    if (isConditionFailure(err)) throw new StaleStateError(`job state [${next.job_id}] changed concurrently`);
    throw err;
  }
}

/**
 * Writes runtime state and config together (e.g. close's finalize step sets `finished_time`
 * and state `closed` at once), both conditional on their versions.
 * @throws StaleStateError when either changed.
 */
export async function putJobRuntimeAndConfig(next: JobRuntime, config: JobConfig, expectedConfigVersion: number): Promise<void> {
  try {
    await db().send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: tableName(),
              Item: { ...keys.jobState(next.job_id), version: next.version, data: JSON.stringify(next) },
              ConditionExpression: 'version = :v',
              ExpressionAttributeValues: { ':v': next.version - 1 },
            },
          },
          {
            Put: {
              TableName: tableName(),
              Item: { ...keys.jobConfig(config.job_id), version: expectedConfigVersion + 1, config: JSON.stringify(config) },
              ConditionExpression: 'version = :v',
              ExpressionAttributeValues: { ':v': expectedConfigVersion },
            },
          },
        ],
      }),
    );
  } catch (err) {
    if (isConditionFailure(err)) throw new StaleStateError(`job [${next.job_id}] changed concurrently`);
    throw err;
  }
}

/**
 * Deletes everything of a job: model state, snapshots, results, audit messages, then the
 * runtime item and the config last (so a crash part way leaves a job that can be deleted
 * again). Idempotent.
 */
export async function deleteJobData(jobId: string): Promise<void> {
  const [own, results, audit] = await Promise.all([keysWithPrefix(keys.jobPartition(jobId), ''), resultItemKeys(jobId), keysWithPrefix(keys.auditPartition(jobId), '')]);
  const stateKey = keys.jobState(jobId);
  await batchWrite([], [...own.filter((k) => k.sk !== stateKey.sk), ...results, ...audit]);
  await db().send(new DeleteCommand({ TableName: tableName(), Key: stateKey }));
  await db().send(new DeleteCommand({ TableName: tableName(), Key: keys.jobConfig(jobId) }));
}
