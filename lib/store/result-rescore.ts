/**
 * The plan of a renormalization chunk over the packed results layout (`keys.ts`, "Renormalization"):
 * pure, no AWS calls, so which items change, and in which order, is tested on its own.
 *
 * Given the stored bucket parts of a chunk (with their records and influencers) and the group
 * summaries that list them, and a rescoring function (the model's current normalisers with Elasticsearch's
 * big-update rule), it computes every write that brings the stored scores to the new ones:
 *
 * 1. `raise`: the summaries of groups where some part's top score (bucket, record or influencer)
 *    rises, written with the higher of the old and new tops, so a reader that skips parts by their listed top (a threshold
 *    below the score index floor) never skips a part already holding a higher score;
 * 2. `scorePuts`, `scoreDeletes`: the score index moved (an entry under the new score put, the
 *    one under the old score deleted; an entry that falls below the floor only deleted, one that
 *    rises past it only put; a bucket whose score key stays but whose document changed, e.g. a
 *    bucket influencer's score, put again; records and influencers alike);
 * 3. `parts`: the rewritten parts (same keys, their bodies re-encoded, every other attribute of
 *    the item kept, so documents added to parts by later formats ride along untouched);
 * 4. `summaries`: the summaries with the new tops.
 *
 * The score index moves before the parts so that a chunk cut short is completed by running it
 * again: the parts still hold the old scores, so the same results are found changed and moved
 * again (puts and deletes of fixed keys are idempotent). Only one thing could outlive a cut: an
 * entry put under a score that a later attempt, rescoring with other normalisers (the job took
 * more data meanwhile), no longer gives. So the caller saves {@link RescorePlan.planned} (the sort
 * keys of the entries this chunk puts) before running the plan, and hands them back as
 * `planned` when it runs the chunk again: any of them the new state does not hold is deleted.
 * A chunk that changes nothing writes nothing.
 */
import type { RecordResult } from '../detect/index.ts';
import { keys } from './keys.ts';
import { type BucketEntry, decodeBucketPart, entriesOfPart, type PartSummary, reencodeBucketPart, scoreItems } from './result-parts.ts';

/** A group summary item as stored (`resultsidx#<job_id>` / `<first timestamp>`): `parts` is the JSON of its {@link PartSummary} list. */
export interface GroupItem {
  pk: string;
  sk: string;
  last: number;
  span: number;
  parts: string;
  plots?: string;
  [attribute: string]: unknown;
}

/** What a chunk is rescored from. */
export interface RescoreInput {
  jobId: string;
  /** The summary items of the groups listing the chunk's parts. */
  groups: readonly GroupItem[];
  /** The chunk's bucket part items as stored, both bodies included; a part gone meanwhile (retention) is simply absent. */
  parts: readonly Record<string, unknown>[];
  /** Only buckets with a timestamp in `[startMs, endMs)` (epoch ms) are rescored. */
  startMs: number;
  endMs: number;
  /** The bucket with its new scores, or undefined when no score of it passes the big-update rule (nothing to write). */
  rescore: (bucket: BucketEntry) => BucketEntry | undefined;
  /** Lowest score the score index holds. */
  floor: number;
  /** Sort keys of score index entries an earlier, possibly cut short, attempt at this chunk put (its saved plan). */
  planned?: readonly string[];
}

/** Every write of a chunk, in the order they must run (each list's writes in any order). */
export interface RescorePlan {
  raise: Record<string, unknown>[];
  scorePuts: Record<string, unknown>[];
  scoreDeletes: { pk: string; sk: string }[];
  parts: Record<string, unknown>[];
  summaries: Record<string, unknown>[];
  /** Sort keys of the score index entries this plan puts, with the `planned` it was given: to be saved before the plan runs. */
  planned: string[];
  /** Buckets rescored whose scores (or their records' scores) changed, and those that kept them. */
  updated: number;
  unchanged: number;
}

/** Whether a plan writes anything. */
export function planWrites(plan: RescorePlan): boolean {
  return plan.raise.length + plan.scorePuts.length + plan.scoreDeletes.length + plan.parts.length + plan.summaries.length > 0;
}

const partTime = (sk: string): number => Number(sk.slice(2));
const maxOf = (xs: readonly number[]): number => xs.reduce((m, x) => Math.max(m, x), -1);

/** The tops a part's summary lists, from its buckets: anomaly_score, record_score, influencer_score (-1 for none). */
function topsOf(entries: readonly BucketEntry[]): [number, number, number] {
  return [
    maxOf(entries.map((b) => b.anomaly_score)),
    maxOf(entries.flatMap((b) => b.records.map((r: RecordResult) => r.record_score))),
    maxOf(entries.flatMap((b) => (b.influencers ?? []).map((i) => i.influencer_score))),
  ];
}

/**
 * A part's summary with new tops: `combine` of the listed and new top of each score, the counts
 * kept. The influencer entries (5 and 6) are there only when the part holds influencers.
 */
function withTops(p: PartSummary, now: readonly [number, number, number], combine: (listed: number, now: number) => number): PartSummary {
  const out: PartSummary = [p[0], p[1], p[2], combine(p[3], now[0]), combine(p[4], now[1]), ...p.slice(5)] as PartSummary;
  if (out[6] !== undefined) out[6] = combine(out[6], now[2]);
  return out;
}

/**
 * The writes that rescore a chunk (see the file comment for their order and why).
 * @throws Error for a part of a format this version does not read
 */
export function planRescore(input: RescoreInput): RescorePlan {
  const { jobId, startMs, endMs, floor } = input;
  const plan: RescorePlan = { raise: [], scorePuts: [], scoreDeletes: [], parts: [], summaries: [], planned: [], updated: 0, unchanged: 0 };
  /** New tops per part first timestamp, for parts whose tops changed. */
  const tops = new Map<number, [number, number, number]>();
  const desired = new Set<string>();
  const putKeys = new Set<string>();
  for (const item of input.parts) {
    const entries = entriesOfPart(decodeBucketPart(item, true));
    let changed = false;
    const next = entries.map((e) => {
      if (e.timestamp < startMs || e.timestamp >= endMs || e.is_interim) return e;
      const r = input.rescore(e);
      if (!r) {
        plan.unchanged++;
        return e;
      }
      plan.updated++;
      changed = true;
      // The score index follows the bucket: entries of the old scores go unless the new ones keep their key and document.
      const before = new Map(scoreItems(jobId, [e], floor).map((i) => [i.sk as string, i.doc]));
      const after = scoreItems(jobId, [r], floor);
      const kept = new Set<string>();
      for (const i of after) {
        const sk = i.sk as string;
        kept.add(sk);
        if (before.get(sk) !== i.doc) {
          plan.scorePuts.push(i);
          putKeys.add(sk);
        }
      }
      for (const sk of before.keys()) if (!kept.has(sk)) plan.scoreDeletes.push({ pk: keys.resultScorePartition(jobId), sk });
      return r;
    });
    if (input.planned && input.planned.length > 0) for (const i of scoreItems(jobId, next, floor)) desired.add(i.sk as string);
    if (!changed) continue;
    plan.parts.push(reencodeBucketPart(item, next));
    const old = topsOf(entries);
    const now = topsOf(next);
    if (old.some((x, k) => x !== now[k])) tops.set(partTime(item.sk as string), now);
  }
  // An entry an earlier attempt put under a score the current state no longer gives is left over: delete it.
  for (const sk of input.planned ?? []) {
    if (!desired.has(sk) && !putKeys.has(sk)) plan.scoreDeletes.push({ pk: keys.resultScorePartition(jobId), sk });
  }
  plan.scoreDeletes = dedupe(plan.scoreDeletes);
  plan.planned = [...new Set([...(input.planned ?? []), ...putKeys])].sort();
  if (tops.size === 0) return plan;
  for (const g of input.groups) {
    const listed = JSON.parse(g.parts) as PartSummary[];
    if (!listed.some(([t]) => tops.has(t))) continue;
    let rises = false;
    const raised = listed.map((p): PartSummary => {
      const now = tops.get(p[0]);
      if (!now) return p;
      const r = withTops(p, now, Math.max);
      if (r.some((x, k) => x !== p[k])) rises = true;
      return r;
    });
    const final = listed.map((p): PartSummary => {
      const now = tops.get(p[0]);
      return now ? withTops(p, now, (_listed, top) => top) : p;
    });
    // Only rising tops: the raised summary is the final one, written once before the parts.
    if (rises) plan.raise.push({ ...g, parts: JSON.stringify(raised) });
    if (!rises || JSON.stringify(raised) !== JSON.stringify(final)) plan.summaries.push({ ...g, parts: JSON.stringify(final) });
  }
  return plan;
}

function dedupe(list: { pk: string; sk: string }[]): { pk: string; sk: string }[] {
  return [...new Map(list.map((k) => [k.sk, k])).values()];
}
