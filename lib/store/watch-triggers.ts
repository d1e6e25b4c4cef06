/**
 * The schedule trigger's state of each watch: the last scheduled run the tick submitted
 * (`last_scheduled_ms`, the fire time it ran for, and `last_triggered_ms`, the tick that
 * submitted it). Kept as two attributes of the watch item (`lib/store/watches.ts`) and written
 * without bumping `_version`/`_seq_no`: in Elasticsearch this state lives in the trigger
 * engine's memory (`TickerScheduleTriggerEngine.ActiveSchedule`), not in the `.watches`
 * document, so it is no document change. A re-put keeps the attributes (the put writes only
 * its own); a delete removes them with the item.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { queryAll } from './batch.ts';
import { db, isConditionFailure, tableName } from './db.ts';
import { keys } from './keys.ts';
import { readWatchItem, type StoredWatch } from './watches.ts';

/** The last scheduled run of a watch: the fire time it ran for and the tick that submitted it (epoch ms). */
export interface LastScheduledRun {
  scheduledMs: number;
  triggeredMs: number;
}

/** A watch with its trigger state (undefined: the tick never submitted a run for it). */
export interface WatchWithTrigger {
  watch: StoredWatch;
  lastRun: LastScheduledRun | undefined;
}

const triggerSchema = z.looseObject({ last_scheduled_ms: z.number().optional(), last_triggered_ms: z.number().optional() });

/** Every watch with its trigger state, sorted by id. One strongly consistent Query over the `watches` partition. */
export async function listWatchesWithTrigger(): Promise<WatchWithTrigger[]> {
  const items = await queryAll<Record<string, unknown>>({
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
    ExpressionAttributeValues: { ':pk': keys.watchPartition, ':p': keys.watchPrefix },
    ConsistentRead: true,
  });
  return items.map((item) => {
    const t = triggerSchema.parse(item);
    const lastRun = t.last_scheduled_ms !== undefined && t.last_triggered_ms !== undefined ? { scheduledMs: t.last_scheduled_ms, triggeredMs: t.last_triggered_ms } : undefined;
    return { watch: readWatchItem(item), lastRun };
  });
}

/**
 * Records a scheduled run of a watch if its trigger state is still `previous` (a conditional
 * write): of two ticks that found the same run due, one claims it and the other gets false.
 * @param previous the trigger state the tick read (undefined: none)
 * @returns true when claimed; false when another tick claimed a run first or the watch is gone
 */
export async function claimScheduledRun(watchId: string, run: LastScheduledRun, previous: LastScheduledRun | undefined): Promise<boolean> {
  return conditionalSet(watchId, run, previous);
}

/**
 * Undoes a claim whose submission failed, if nothing claimed since, so the next tick finds the
 * run due again.
 * @returns false when the trigger state is no longer `claimed` (nothing written)
 */
export async function releaseScheduledRun(watchId: string, claimed: LastScheduledRun, previous: LastScheduledRun | undefined): Promise<boolean> {
  return conditionalSet(watchId, previous, claimed);
}

async function conditionalSet(watchId: string, next: LastScheduledRun | undefined, expected: LastScheduledRun | undefined): Promise<boolean> {
  const values: Record<string, unknown> = {};
  if (next) {
    values[':s'] = next.scheduledMs;
    values[':t'] = next.triggeredMs;
  }
  if (expected) values[':et'] = expected.triggeredMs;
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keys.watch(watchId),
        UpdateExpression: next ? 'SET last_scheduled_ms = :s, last_triggered_ms = :t' : 'REMOVE last_scheduled_ms, last_triggered_ms',
        ConditionExpression: `attribute_exists(pk) AND ${expected ? 'last_triggered_ms = :et' : 'attribute_not_exists(last_triggered_ms)'}`,
        ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
      }),
    );
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}
