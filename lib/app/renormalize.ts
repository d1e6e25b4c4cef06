/**
 * Renormalization, as Elasticsearch does it (its `ScoresUpdater`): when a job's score
 * normalisers make a big change (a scope's largest raw score rose by more than 10%: autodetect
 * then writes new quantiles), the final buckets, records and influencers of the renormalization
 * window ending at the newest bucket are rescored with the current normalisers. `anomaly_score`,
 * `record_score` and `influencer_score` change, the `initial_*` scores never do, and
 * only "big updates" are written (a severity band change, a move of 1.5 or more, or one score
 * under 33% of the other: `AnomalyModel.renormalize`), so most results are not rewritten.
 *
 * Flow (crash-safe, in the job's command order):
 * - A batch's commit (`commitBatch`) compares the model's normaliser generation with the one
 *   recorded at the previous commit; when it moved, the same runtime write requests a pass
 *   ({@link afterCommit}) and a `renormalize` command is queued in the job's FIFO group once that
 *   write is durable. The post or flush answers its client at once: the command runs after it,
 *   before the job's next command, as Elasticsearch's renormalizer runs beside the process and
 *   its flush and close wait for it.
 * - The command ({@link applyRenormalize}) rescores the window part by part through the packed
 *   layout (`lib/store/result-rescore.ts` plans the writes, `result-renormalization.ts` makes
 *   them), saving a cursor on the job after each chunk. With little time left, or after
 *   {@link INVOCATION_MAX_BUCKETS} buckets, it hands itself on to a continuation message (the
 *   way `delete_expired_data` does), so a job's next post waits for one bounded share of it.
 * - A request made while a pass is pending restarts the pass with the newer normalisers over the
 *   window extended back to the pending pass's start (Elasticsearch skips to the latest quantiles
 *   and widens its window the same way). Extra `renormalize` commands find nothing pending.
 *
 * Anomaly events (`events-out.ts`) are never published again: a rescored record was published
 * when it was first written, with its initial score, as Elasticsearch's alerting sees it.
 */
import type { AnomalyModel, BucketResult } from '../detect/index.ts';
import { RenormalizationDeferred, StaleStateError, WorkParked } from '../domain/errors.ts';
import type { JobConfig } from '../domain/job/types.ts';
import { transitionJob } from '../domain/lifecycle/job.ts';
import type { JobRuntime, RenormalizationState } from '../domain/state.ts';
import { parseTimeValue } from '../domain/units.ts';
import { getJobConfig, getJobRuntime, putJobRuntime } from '../store/jobs.ts';
import {
  applyRescorePlan,
  deleteRescorePlan,
  getRescorePlan,
  readPartItems,
  readRescoreWindow,
  type RescoreWindow,
  saveRescorePlan,
  type WindowPart,
} from '../store/result-renormalization.ts';
import { type GroupItem, planRescore, planWrites } from '../store/result-rescore.ts';
import { SCORE_INDEX_FLOOR } from '../store/results.ts';
import { submitCommand } from './commands.ts';
import { upgradeModeHalts } from './job-lookup.ts';
import { effectiveConfig, loadModel } from './live-model.ts';

const DAY_MS = 86_400_000;

/** The `_tasks` action of a `renormalize` command (Elasticsearch runs renormalization inside the job's task, with no action of its own). */
export const RENORMALIZE_ACTION = 'cluster:internal/xpack/ml/job/renormalize';

/** A chunk reads at most this many parts (one BatchGetItem) … */
export const CHUNK_MAX_PARTS = 100;
/** … and stops adding parts once it holds this many buckets (about 18 parts of one-record buckets). */
export const CHUNK_MAX_BUCKETS = 10_000;
/** Buckets one invocation rescores before it hands on, so the job's next command waits for about a second of it at most. */
export const INVOCATION_MAX_BUCKETS = 50_000;
/** Time a chunk may need at most; with less left after a chunk the command hands on to a continuation. */
export const CHUNK_MARGIN_MS = 10_000;

/**
 * The renormalization window of a job, ms: `renormalization_window_days` when set (0 turns
 * renormalization off), else Elasticsearch's default max(30 days, 100 bucket spans)
 * (ScoresUpdater). The job's effective config (an open job keeps the value it was opened with).
 */
export function renormalizationWindowMs(job: JobConfig): number {
  const days = job.renormalization_window_days;
  if (days !== undefined && days !== null) return Number(days) * DAY_MS;
  return Math.max(30 * DAY_MS, 100 * parseTimeValue(job.analysis_config.bucket_span, 'bucket_span').ms);
}

/** Whether a pass is requested and not finished. */
export const renormalizationPending = (rt: Pick<JobRuntime, 'renormalization'>): boolean => {
  const st = rt.renormalization;
  return st !== undefined && st.done < st.requested;
};

/**
 * The runtime's renormalization state after a commit of `model` whose newest final bucket
 * ends at `endMs` (exclusive, epoch ms): the generation recorded, and a pass requested when
 * the normaliser generation moved since the last commit (see the module comment).
 * @returns the state to write with the commit, and whether a pass was requested
 */
export function afterCommit(job: JobConfig, rt: JobRuntime, model: AnomalyModel, endMs: number | undefined): { state: RenormalizationState; requested: boolean } {
  const before: RenormalizationState = rt.renormalization ?? { generation: 0, requested: 0, done: 0 };
  const generation = model.normalizerGeneration();
  if (generation <= before.generation || endMs === undefined) return { state: generation === before.generation ? before : { ...before, generation }, requested: false };
  const start = endMs - renormalizationWindowMs(effectiveConfig(job, rt));
  const pending = before.done < before.requested;
  const state: RenormalizationState = {
    generation,
    requested: before.requested + 1,
    done: before.done,
    start: pending && before.start !== undefined ? Math.min(before.start, start) : start,
    end: endMs,
  };
  return { state, requested: true };
}

/**
 * Queues a `renormalize` command for the job (in its FIFO group, behind the command that
 * requested it). Idempotent in effect: a command that finds no pending pass does nothing.
 */
export async function submitRenormalization(jobId: string): Promise<void> {
  await submitCommand({ action: 'renormalize', es_action: RENORMALIZE_ACTION, description: `renormalize results of job [${jobId}]`, targets: [jobId] });
}

/** Invocation facts and test seams of {@link applyRenormalize}. */
export interface RenormalizeOptions {
  /** Milliseconds left in this invocation (Lambda's getRemainingTimeInMillis). */
  remainingMs?: () => number;
  /** Buckets a chunk stops at ({@link CHUNK_MAX_BUCKETS}) and an invocation hands on after ({@link INVOCATION_MAX_BUCKETS}). */
  chunkBuckets?: number;
  invocationBuckets?: number;
}

/** What a `renormalize` command did: buckets rescored in this invocation, and how many of them changed. */
export interface RenormalizeResponse {
  renormalized: boolean;
  buckets: number;
  updated: number;
}

/**
 * The worker side of `renormalize`: carries out the job's pending pass, chunk by chunk (see the
 * module comment). Each chunk saves its plan (the parts, and the score index keys it puts)
 * before its writes and forgets it after them, then the cursor moves on with a conditional
 * write of the job's runtime; a chunk cut short is run again from its saved plan, so scores end
 * old or new per item and nothing is left behind, whichever normalisers the rerun uses.
 * @throws RenormalizationDeferred to hand on (out of time or of this invocation's share)
 * @throws WorkParked when upgrade mode halts job work
 */
export async function applyRenormalize(jobId: string, opts: RenormalizeOptions = {}): Promise<RenormalizeResponse> {
  const chunkBuckets = opts.chunkBuckets ?? CHUNK_MAX_BUCKETS;
  const invocationBuckets = opts.invocationBuckets ?? INVOCATION_MAX_BUCKETS;
  const out: RenormalizeResponse = { renormalized: false, buckets: 0, updated: 0 };
  let savedChecked = false;
  let chunks = 0;
  let ctx: { key: string; window: RescoreWindow | undefined; model: AnomalyModel | undefined } | undefined;
  for (;;) {
    const [halts, stored, rt] = await Promise.all([upgradeModeHalts(), getJobConfig(jobId), getJobRuntime(jobId)]);
    if (halts) throw new WorkParked(`renormalization of job [${jobId}]`);
    if (!stored || !rt || !renormalizationPending(rt)) return out;
    // At least one chunk per call (the caller started it with time to spare: a close checks its step margin first); then only while time and this invocation's share last.
    if (chunks > 0 && ((opts.remainingMs && opts.remainingMs() < CHUNK_MARGIN_MS) || out.buckets >= invocationBuckets)) throw new RenormalizationDeferred(jobId);
    chunks++;
    const st = rt.renormalization as RenormalizationState;
    const start = st.start ?? 0;
    const end = st.end ?? 0;
    // The window's summaries and the model are read once per pass and call, not per chunk (a realtime
    // job has a summary per bucket); chunks keep the summaries they rewrite up to date in `ctx`.
    const key = `${st.requested}|${start}|${end}|${rt.model?.generation ?? 0}`;
    if (ctx?.key !== key) {
      const w = rt.model && end > start ? await readRescoreWindow(jobId, start, end) : undefined;
      ctx = { key, window: w, model: w ? await loadModel(stored.config, rt) : undefined };
    }
    const { window, model } = ctx;
    if (window && model && !savedChecked) {
      savedChecked = true;
      // A chunk cut short by a crash: run it again first, with the keys it may have put.
      const saved = await getRescorePlan(jobId);
      if (saved) {
        const r = await rescoreChunk(jobId, model, window, saved.parts, end, saved.planned);
        out.buckets += r.buckets;
        out.updated += r.updated;
        await deleteRescorePlan(jobId);
        continue;
      }
    }
    const todo = window ? window.parts.filter((p) => st.cursor === undefined || p.t >= st.cursor) : [];
    const chunk = takeChunk(todo, chunkBuckets);
    // The pass is done with its last chunk (or when there is nothing to rescore): every request up to now is served.
    let next: RenormalizationState = { generation: st.generation, requested: st.requested, done: st.requested };
    if (chunk.length > 0 && model && window) {
      const r = await rescoreChunk(jobId, model, window, chunk, end);
      out.buckets += r.buckets;
      out.updated += r.updated;
      if (chunk.length < todo.length) next = { ...st, cursor: (chunk.at(-1) as WindowPart).t + 1 };
    }
    try {
      await putJobRuntime(transitionJob(rt, { type: 'renormalization_progress', renormalization: next }));
      if (next.done === next.requested) out.renormalized = true;
    } catch (err) {
      // Another writer moved the job meanwhile (a force close): read it again; the chunk's writes are idempotent.
      if (!(err instanceof StaleStateError)) throw err;
    }
  }
}

/** The next chunk of parts: at least one, at most {@link CHUNK_MAX_PARTS}, stopping once `maxBuckets` buckets are in. */
function takeChunk(parts: readonly WindowPart[], maxBuckets: number): WindowPart[] {
  const out: WindowPart[] = [];
  let buckets = 0;
  for (const p of parts) {
    if (out.length >= CHUNK_MAX_PARTS || (out.length > 0 && buckets >= maxBuckets)) break;
    out.push(p);
    buckets += p.buckets;
  }
  return out;
}

/**
 * Rescores one chunk of parts with the model's current normalisers and writes what changed:
 * the plan is saved first when it writes anything, then run, then forgotten.
 */
async function rescoreChunk(
  jobId: string,
  model: AnomalyModel,
  window: RescoreWindow,
  refs: readonly { pk: string; sk: string }[],
  endMs: number,
  planned?: readonly string[],
): Promise<{ buckets: number; updated: number }> {
  const items = await readPartItems(refs);
  const plan = planRescore({
    jobId,
    groups: window.groups,
    parts: items,
    startMs: window.startMs,
    endMs,
    floor: SCORE_INDEX_FLOOR,
    rescore: (b) => {
      const r = model.renormalize(b as BucketResult);
      return r.changed ? r.bucket : undefined;
    },
    ...(planned ? { planned } : {}),
  });
  if (planWrites(plan)) {
    await saveRescorePlan(jobId, { parts: refs.map(({ pk, sk }) => ({ pk, sk })), planned: plan.planned });
    await applyRescorePlan(plan);
    await deleteRescorePlan(jobId);
    // The next chunk of this pass plans from the summaries as now stored.
    const groups = new Map(window.groups.map((g) => [g.sk, g]));
    for (const g of [...plan.raise, ...plan.summaries] as GroupItem[]) groups.set(g.sk, g);
    window.groups = [...groups.values()];
  }
  return { buckets: plan.updated + plan.unchanged, updated: plan.updated };
}
