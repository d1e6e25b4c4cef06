/**
 * Renormalization's reads and writes over the packed results layout (`keys.ts`,
 * "Renormalization"; the plan itself is computed by `result-rescore.ts`): the group summaries
 * and bucket parts of a window, the plan's writes in their order, and the saved plan of the
 * chunk being rescored.
 */
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { batchWrite } from './batch.ts';
import { db, isConditionFailure, tableName } from './db.ts';
import { keys, ts } from './keys.ts';
import { monthStart, type PartSummary } from './result-parts.ts';
import type { GroupItem, RescorePlan } from './result-rescore.ts';
import { queryResults, readItems, retainedFrom } from './results.ts';

/** A bucket part of a window: its key, first timestamp and inclusive last (ms), bucket count, and the group listing it. */
export interface WindowPart {
  pk: string;
  sk: string;
  t: number;
  last: number;
  buckets: number;
  group: string;
}

/** The final results of a window as the summaries list them. */
export interface RescoreWindow {
  /** The window's start raised to the retention floor (epoch ms): older results are hidden and left alone. */
  startMs: number;
  groups: GroupItem[];
  /** Parts overlapping `[startMs, endMs)`, in time order. */
  parts: WindowPart[];
}

/**
 * The group summaries and bucket parts of `[startMs, endMs)` (epoch ms), retention applied.
 * Groups never span a UTC month, so every group overlapping the window starts at or after the
 * start of the window's first month: one Query over the summary partition from there.
 */
export async function readRescoreWindow(jobId: string, startMs: number, endMs: number): Promise<RescoreWindow> {
  const [floor, items] = await Promise.all([
    retainedFrom(jobId),
    queryResults({
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
      ExpressionAttributeValues: { ':pk': keys.resultsIndexPartition(jobId), ':lo': ts(startMs > 0 ? monthStart(startMs) : 0), ':hi': ts(endMs) },
      ConsistentRead: true,
    }),
  ]);
  const start = Math.max(startMs, floor);
  const groups: GroupItem[] = [];
  const parts: WindowPart[] = [];
  for (const item of items) {
    // Runs and interim buckets have suffixed keys; neither is rescored (runs score 0, interims are replaced).
    if (!/^\d{15}$/.test(item.sk as string)) continue;
    const g = item as GroupItem;
    if (g.last < start || Number(g.sk) >= endMs) continue;
    groups.push(g);
    const listed = JSON.parse(g.parts) as PartSummary[];
    listed.forEach(([t, buckets], n) => {
      const last = n + 1 < listed.length ? (listed[n + 1] as PartSummary)[0] - 1 : g.last;
      if (last >= start && t < endMs) parts.push({ ...keys.resultBucketPart(jobId, t), t, last, buckets, group: g.sk });
    });
  }
  parts.sort((a, b) => a.t - b.t);
  return { startMs: start, groups, parts };
}

/** Bucket part items by key, both bodies included (absent: gone meanwhile). */
export async function readPartItems(refs: readonly { pk: string; sk: string }[]): Promise<Record<string, unknown>[]> {
  return (await readItems(refs)).filter((i): i is Record<string, unknown> => i !== undefined);
}

/**
 * Puts an item only over one that still exists: results retention or a job deletion may have
 * deleted a part or summary since the chunk read it, and a rescored copy must not bring it back.
 */
async function replaceItem(item: Record<string, unknown>): Promise<void> {
  try {
    await db().send(new PutCommand({ TableName: tableName(), Item: item, ConditionExpression: 'attribute_exists(pk)' }));
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
  }
}

/** Runs a plan's writes in its order (`result-rescore.ts`): raised summaries, score index, parts, final summaries. */
export async function applyRescorePlan(plan: RescorePlan): Promise<void> {
  await Promise.all(plan.raise.map(replaceItem));
  await batchWrite(plan.scorePuts, plan.scoreDeletes);
  await Promise.all(plan.parts.map(replaceItem));
  await Promise.all(plan.summaries.map(replaceItem));
}

/** The saved plan of a chunk being rescored: its parts and the score index keys it puts. */
export interface SavedRescorePlan {
  parts: { pk: string; sk: string }[];
  planned: string[];
}

/** The chunk plan saved by {@link saveRescorePlan}, if a chunk was cut short. */
export async function getRescorePlan(jobId: string): Promise<SavedRescorePlan | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: keys.renormalizationPlan(jobId), ConsistentRead: true }));
  if (!out.Item) return undefined;
  return JSON.parse(inflateRawSync(out.Item.z as Uint8Array).toString('utf8')) as SavedRescorePlan;
}

/**
 * Saves a chunk's plan before its writes run (deflated: score keys share long prefixes, so a
 * chunk's thousands of keys stay far below the 400 KB item limit).
 */
export async function saveRescorePlan(jobId: string, plan: SavedRescorePlan): Promise<void> {
  await db().send(new PutCommand({ TableName: tableName(), Item: { ...keys.renormalizationPlan(jobId), z: deflateRawSync(Buffer.from(JSON.stringify(plan))) } }));
}

/** Forgets a chunk's plan once all its writes are done. */
export async function deleteRescorePlan(jobId: string): Promise<void> {
  await db().send(new DeleteCommand({ TableName: tableName(), Key: keys.renormalizationPlan(jobId) }));
}
