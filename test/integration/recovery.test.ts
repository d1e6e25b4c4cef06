import { describe, expect, it } from 'vitest';
import type { Command } from '../../lib/domain/command.ts';
import { uniqueId } from './client.ts';
import { direct } from './direct.ts';

/** A command stored but never queued, so no worker touches it: the test plays the worker. */
const command = (n: number, targets: string[]): Command => ({
  command_id: String(Date.now() * 1000 + n),
  task_id: 'mlplane-0:0',
  action: 'flush',
  es_action: 'cluster:admin/xpack/ml/job/flush',
  description: 'recovery test',
  targets,
  params: {},
  status: 'queued',
  outcomes: {},
  created_ms: Date.now(),
  expires_at: Math.floor(Date.now() / 1000) + 3600,
});

describe('the pending index on DynamoDB Local', () => {
  it('lists exactly the unfinished commands, and a finished command leaves no marker behind', async () => {
    const store = await direct(() => import('../../lib/store/commands.ts'));
    const { db, tableName } = await direct(() => import('../../lib/store/db.ts'));
    const { keys } = await direct(() => import('../../lib/store/keys.ts'));
    const { GetCommand } = await import('@aws-sdk/lib-dynamodb');
    const job = uniqueId('recovery');

    const queued = command(101, [job]);
    const finished = command(102, [job]);
    const half = command(103, [`${job}-a`, `${job}-b`]);
    for (const c of [queued, finished, half]) expect(await store.putCommand(c)).toBe(true);
    // A colliding id is refused by the transaction and leaves the first command as it was.
    expect(await store.putCommand({ ...queued, description: 'collision' })).toBe(false);
    await store.markRunning(half.command_id);
    await store.recordOutcome(finished, job, { status: 'done', response: { flushed: true }, finished_ms: Date.now() });
    await store.recordOutcome(half, `${job}-a`, { status: 'done', finished_ms: Date.now() });

    const ids = (await store.listUnfinishedCommands()).map((c) => c.command_id);
    expect(ids).toContain(queued.command_id);
    expect(ids).toContain(half.command_id);
    expect(ids).not.toContain(finished.command_id);
    const marker = await db().send(new GetCommand({ TableName: tableName(), Key: keys.pendingCommand(finished.command_id), ConsistentRead: true }));
    expect(marker.Item).toBeUndefined();
    expect((await store.getCommand(queued.command_id))?.description).toBe('recovery test');
    const complete = await db().send(new GetCommand({ TableName: tableName(), Key: keys.pendingIndexComplete, ConsistentRead: true }));
    expect(complete.Item).toBeDefined();

    // The last outcome rolls the command up and takes it out of the index.
    await store.recordOutcome(half, `${job}-b`, { status: 'failed', finished_ms: Date.now() });
    expect((await store.listUnfinishedCommands()).map((c) => c.command_id)).not.toContain(half.command_id);
    expect((await store.getCommand(half.command_id))?.status).toBe('failed');
  });
});
