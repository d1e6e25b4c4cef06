/**
 * Cluster-wide records: the ML cluster settings (`PUT _cluster/settings`, upgrade mode, max
 * model memory limit) and the cluster's `cluster_uuid`.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { db, isConditionFailure, tableName } from './db.ts';
import { keys } from './keys.ts';

/** Cluster-wide ML settings (Elasticsearch persistent cluster settings and ML metadata). */
export interface ClusterSettings {
  upgrade_mode: boolean;
  /** Since when upgrade mode is on (epoch ms). */
  upgrade_mode_since_ms?: number;
  /** When upgrade mode switches itself off (epoch ms; the mlplane `expires_in` extension). */
  upgrade_mode_expires_ms?: number;
  /**
   * A set_upgrade_mode request in progress (Elasticsearch's `isRunning` flag, made durable):
   * the value asked for, the value before, its command and when it started (epoch ms). While
   * `to` is false, parked work is being re-queued.
   */
  upgrade_mode_change?: { to: boolean; from: boolean; command_id: string; started_ms: number; timeout_ms: number };
  /** `xpack.ml.max_model_memory_limit` in MiB; absent or 0 = unset (derived from the settings maps). */
  max_model_memory_limit_mib?: number;
  /** Flat persistent and transient cluster settings as given (`PUT _cluster/settings`). */
  persistent: Record<string, string>;
  transient: Record<string, string>;
  /** Watcher stopped with `POST _watcher/_stop` (scheduled executions do not run until `_start`). */
  watcher_stopped?: boolean;
  version: number;
}

export async function getClusterSettings(): Promise<ClusterSettings> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: keys.clusterSettings, ConsistentRead: true }));
  const stored = out.Item?.settings ? (JSON.parse(out.Item.settings as string) as ClusterSettings) : undefined;
  return stored ?? { upgrade_mode: false, persistent: {}, transient: {}, version: 0 };
}

/**
 * Writes cluster settings if their version is still `next.version - 1`.
 * @returns false when another writer changed them first
 */
export async function putClusterSettings(next: ClusterSettings): Promise<boolean> {
  try {
    await db().send(
      new PutCommand({
        TableName: tableName(),
        Item: { ...keys.clusterSettings, version: next.version, settings: JSON.stringify(next) },
        ConditionExpression: 'attribute_not_exists(pk) OR version = :v',
        ExpressionAttributeValues: { ':v': next.version - 1 },
      }),
    );
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}

/**
 * Elasticsearch's `UUIDs.randomBase64UUID()` shape: 16 random bytes with the version-4 and
 * variant bits set, URL-safe base64 without padding (22 characters).
 */
export function randomBase64Uuid(): string {
  const b = randomBytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return b.toString('base64url');
}

let cachedUuid: { table: string; uuid: string } | undefined;

/**
 * The cluster's `cluster_uuid`: random per table (one data directory locally, one
 * deployment in AWS) and the same for every reader and across restarts, as Elasticsearch
 * draws it once when the cluster bootstraps. The first reader to find none writes one with
 * a conditional put (`attribute_not_exists`); a reader that loses that race reads the
 * winner's. Cached per container.
 */
export async function clusterUuid(): Promise<string> {
  const table = tableName();
  if (cachedUuid?.table === table) return cachedUuid.uuid;
  const read = async (): Promise<string | undefined> => {
    const out = await db().send(new GetCommand({ TableName: table, Key: keys.clusterUuid, ConsistentRead: true }));
    return typeof out?.Item?.uuid === 'string' ? out.Item.uuid : undefined;
  };
  let uuid = await read();
  if (uuid === undefined) {
    const fresh = randomBase64Uuid();
    try {
      await db().send(new PutCommand({ TableName: table, Item: { ...keys.clusterUuid, uuid: fresh }, ConditionExpression: 'attribute_not_exists(pk)' }));
      uuid = fresh;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      uuid = await read();
      if (uuid === undefined) throw new Error('cluster uuid vanished after a conditional write lost to it');
    }
  }
  cachedUuid = { table, uuid };
  return uuid;
}
