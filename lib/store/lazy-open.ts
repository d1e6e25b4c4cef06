import { batchWrite, queryAll } from './batch.ts';
import { keys } from './keys.ts';

/** A lazily opening job's marker: the job id and when it started waiting (epoch ms). */
export interface LazyOpenMarker {
  jobId: string;
  sinceMs: number;
}

/**
 * Marks a job as waiting for ML capacity (`lazy`/`<job_id>`, see `keys.ts`). Written before
 * the job's runtime moves to `opening`: a marker without a waiting job is dropped by the
 * next promotion, never the reverse.
 */
export async function markLazyOpen(jobId: string, sinceMs: number): Promise<void> {
  await batchWrite([{ ...keys.lazyWaiting(jobId), since: sinceMs }]);
}

/** Every lazy-open marker (one strongly consistent Query of the `lazy` partition), in no particular order. */
export async function listLazyOpen(): Promise<LazyOpenMarker[]> {
  const items = await queryAll<{ sk: string; since: number }>({
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': keys.lazyPartition },
    ConsistentRead: true,
  });
  return items.map((m) => ({ jobId: m.sk, sinceMs: m.since }));
}

/** Removes the markers of jobs that no longer wait (promoted, closed, deleted). */
export async function deleteLazyOpen(jobIds: string[]): Promise<void> {
  await batchWrite(
    [],
    jobIds.map((id) => keys.lazyWaiting(id)),
  );
}
