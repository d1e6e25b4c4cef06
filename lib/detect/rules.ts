/**
 * Custom rules (Elasticsearch detection rules, autodetect's `CDetectionRule`), compiled once
 * per model from the spec so that a bucket only pays for them when a detector has rules.
 *
 * A rule applies to a series and feature in a bucket when ALL its conditions hold and every
 * scope field's value of the series is in (include) / not in (exclude) the filter:
 * - `actual`: the bucket's value of the feature (unscaled, also for interim results);
 * - `typical`: the model's prediction for the bucket (a count's clamped at 0);
 * - `diff_from_typical`: |actual − typical|;
 * - `time`: the bucket start in epoch seconds (needs no model: applies during warm-up too).
 * A condition on typical or diff_from_typical never holds while the feature has learnt
 * nothing (as ml-cpp, which has no baseline then).
 *
 * Scope fields are compared with the series' by or partition field value ("" when the record
 * had none). A scope field that is neither the detector's by nor its partition field (e.g. an
 * over field, which model v1 does not split by) never matches, so such a rule never applies.
 * A filter id missing from `AnalysisSpec.filters` is an empty filter: `include` never
 * matches, `exclude` always does.
 */
import type { DetectionRule, DetectorSpec } from './types.ts';

/** What a rule does when it applies: bit flags. */
export const SKIP_RESULT = 1;
export const SKIP_MODEL_UPDATE = 2;

const APPLIES_ACTUAL = 0;
const APPLIES_TYPICAL = 1;
const APPLIES_DIFF = 2;
const APPLIES_TIME = 3;
const APPLIES: Record<string, number> = { actual: APPLIES_ACTUAL, typical: APPLIES_TYPICAL, diff_from_typical: APPLIES_DIFF, time: APPLIES_TIME };

const OP_GT = 0;
const OP_GTE = 1;
const OP_LT = 2;
const OP_LTE = 3;
const OPERATORS: Record<string, number> = { gt: OP_GT, gte: OP_GTE, lt: OP_LT, lte: OP_LTE };

/** Which series value a scope entry reads. */
const SCOPE_BY = 0;
const SCOPE_PARTITION = 1;
const SCOPE_NONE = 2;

/**
 * The items of one filter as Elasticsearch matches them (ml-cpp `CPatternSet`): `*foo*`
 * contains, `*foo` ends with, `foo*` starts with, anything else is exact; `*` alone matches
 * every value. Case-sensitive.
 */
export class FilterMatcher {
  private readonly exact = new Set<string>();
  private readonly prefixes: string[] = [];
  private readonly suffixes: string[] = [];
  private readonly contains: string[] = [];
  private all = false;

  constructor(items: readonly string[]) {
    for (const item of items) {
      const n = item.length;
      if (n === 0) continue;
      const lead = item.charCodeAt(0) === 42; // '*'
      const trail = n > 1 && item.charCodeAt(n - 1) === 42;
      if (lead && trail) {
        if (n === 2) this.all = true;
        else this.contains.push(item.slice(1, -1));
      } else if (lead) {
        if (n === 1) this.all = true;
        else this.suffixes.push(item.slice(1));
      } else if (trail) {
        this.prefixes.push(item.slice(0, -1));
      } else {
        this.exact.add(item);
      }
    }
  }

  matches(value: string): boolean {
    if (this.all || this.exact.has(value)) return true;
    for (const p of this.prefixes) if (value.startsWith(p)) return true;
    for (const s of this.suffixes) if (value.endsWith(s)) return true;
    for (const c of this.contains) if (value.includes(c)) return true;
    return false;
  }
}

const EMPTY_FILTER = new FilterMatcher([]);

interface CompiledScope {
  field: number;
  filter: FilterMatcher;
  include: boolean;
}

interface CompiledCondition {
  appliesTo: number;
  op: number;
  value: number;
}

/** One rule, ready to test. */
export interface CompiledRule {
  /** SKIP_RESULT | SKIP_MODEL_UPDATE bits; 0 when the rule has no action the model knows. */
  actions: number;
  scope: CompiledScope[];
  conditions: CompiledCondition[];
}

function lower(v: unknown): string {
  return typeof v === 'string' ? v.toLowerCase() : String(v);
}

/**
 * Compiles a detector's rules against the job's filters.
 * @returns null when the detector has no rules (the hot path then skips every check).
 * @throws RangeError on an unknown action, applies_to, operator or filter_type, or a
 *   non-finite condition value.
 */
export function compileRules(detector: DetectorSpec, filters: Readonly<Record<string, readonly string[]>> | undefined, cache: Map<string, FilterMatcher>): CompiledRule[] | null {
  const rules = detector.custom_rules;
  if (rules === undefined || rules.length === 0) return null;
  const where = `detector [${detector.detector_index}] custom rule`;
  return rules.map((rule: DetectionRule, ri) => {
    let actions = 0;
    // Elasticsearch's default action is skip_result.
    for (const a of rule.actions ?? ['skip_result']) {
      const name = lower(a);
      if (name === 'skip_result') actions |= SKIP_RESULT;
      else if (name === 'skip_model_update') actions |= SKIP_MODEL_UPDATE;
      else if (name !== 'force_time_shift') throw new RangeError(`${where} [${ri}]: unknown action [${name}]`);
    }
    const scope: CompiledScope[] = [];
    for (const [field, ref] of Object.entries(rule.scope ?? {})) {
      const type = lower(ref.filter_type ?? 'include');
      if (type !== 'include' && type !== 'exclude') throw new RangeError(`${where} [${ri}]: unknown filter_type [${type}]`);
      let filter = cache.get(ref.filter_id);
      if (filter === undefined) {
        const items = filters?.[ref.filter_id];
        filter = items === undefined ? EMPTY_FILTER : new FilterMatcher(items);
        cache.set(ref.filter_id, filter);
      }
      const which = field === detector.by_field_name ? SCOPE_BY : field === detector.partition_field_name ? SCOPE_PARTITION : SCOPE_NONE;
      scope.push({ field: which, filter, include: type === 'include' });
    }
    const conditions: CompiledCondition[] = (rule.conditions ?? []).map((c) => {
      const appliesTo = APPLIES[lower(c.applies_to)];
      const op = OPERATORS[lower(c.operator)];
      if (appliesTo === undefined) throw new RangeError(`${where} [${ri}]: unknown applies_to [${String(c.applies_to)}]`);
      if (op === undefined) throw new RangeError(`${where} [${ri}]: unknown operator [${String(c.operator)}]`);
      const value = typeof c.value === 'number' ? c.value : Number(c.value);
      if (!Number.isFinite(value)) throw new RangeError(`${where} [${ri}]: condition value must be a finite number`);
      return { appliesTo, op, value };
    });
    return { actions, scope, conditions };
  });
}

function holds(op: number, x: number, value: number): boolean {
  switch (op) {
    case OP_GT:
      return x > value;
    case OP_GTE:
      return x >= value;
    case OP_LT:
      return x < value;
    default:
      return x <= value;
  }
}

/**
 * The actions (SKIP_RESULT | SKIP_MODEL_UPDATE bits) of the rules that apply to one series
 * and feature in a bucket.
 * @param hasTypical whether the feature model has a prediction (has learnt at least once).
 * @param timeS bucket start, epoch seconds.
 */
export function ruleActions(
  rules: readonly CompiledRule[],
  by: string | undefined,
  partition: string | undefined,
  actual: number,
  typical: number,
  hasTypical: boolean,
  timeS: number,
): number {
  let out = 0;
  next: for (const rule of rules) {
    if (rule.actions === 0 || (out | rule.actions) === out) continue;
    for (const sc of rule.scope) {
      const v = sc.field === SCOPE_BY ? by : sc.field === SCOPE_PARTITION ? partition : undefined;
      if (v === undefined) continue next;
      if (sc.filter.matches(v) !== sc.include) continue next;
    }
    for (const c of rule.conditions) {
      let x: number;
      if (c.appliesTo === APPLIES_TIME) x = timeS;
      else if (c.appliesTo === APPLIES_ACTUAL) x = actual;
      else if (!hasTypical) continue next;
      else x = c.appliesTo === APPLIES_TYPICAL ? typical : Math.abs(actual - typical);
      if (!holds(c.op, x, c.value)) continue next;
    }
    out |= rule.actions;
  }
  return out;
}
