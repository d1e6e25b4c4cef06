/**
 * Parsers for custom rules (`detection_rule`, `rule_condition`, `filter_ref`, `params`,
 * `scope`) and the per-detector rule checks (`Detector.Builder` rule validation).
 */
import { IllegalArgumentError } from '../../errors.ts';
import { javaHashMapOrder } from '../../json/java-hash-order.ts';
import { type JsonNode, tokenOf } from '../../json/located-tree.ts';
import { fields, ValueType, XObjectParser } from '../../json/object-parser.ts';
import { readJson } from '../../json/tokenizer.ts';
import { XParser } from '../../json/xcontent-parser.ts';
import { FUNCTIONS_WITHOUT_RULE_CONDITION_SUPPORT } from '../constants.ts';
import { badRequest, classCastToMap, enumFromString, javaSetString } from '../java-emulation.ts';
import { type DetectionRule, type Detector, type FilterRef, RULE_ACTIONS, type RuleAction, type RuleCondition, type RuleParams } from '../types.ts';

const RULE_CONDITION_PARSER = new XObjectParser<RuleCondition>(
  'rule_condition',
  {
    applies_to: {
      types: ValueType.STRING,
      parse: (n, p) => enumFromString('RuleCondition.AppliesTo', ['actual', 'typical', 'diff_from_typical', 'time'] as const, p.text(n)),
      arg: 'required',
    },
    operator: {
      types: ValueType.STRING,
      parse: (n, p) => enumFromString('Operator', ['gt', 'gte', 'lt', 'lte'] as const, p.text(n), true),
      arg: 'required',
    },
    value: { types: ValueType.DOUBLE, parse: (n, p) => p.doubleValue(n), arg: 'required' },
  },
  {
    construct: (a) => ({
      applies_to: a[0] as RuleCondition['applies_to'],
      operator: a[1] as RuleCondition['operator'],
      value: a[2] as number,
    }),
  },
);

const FILTER_REF_PARSER = new XObjectParser<FilterRef>(
  'filter_ref',
  {
    filter_id: { types: ValueType.STRING, parse: (n, p) => p.text(n), arg: 'required' },
    filter_type: {
      types: ValueType.STRING,
      parse: (n, p) => {
        if (n.kind !== 'string') throw new IllegalArgumentError(`Unsupported token [${tokenOf(n)}]`);
        return enumFromString('FilterRef.FilterType', ['include', 'exclude'] as const, p.text(n));
      },
      arg: 'optional',
    },
  },
  {
    construct: (a) => ({
      filter_id: a[0] as string,
      filter_type: (a[1] as FilterRef['filter_type'] | undefined) ?? 'include',
    }),
  },
);

const FORCE_TIME_SHIFT_PARSER = new XObjectParser<{ time_shift_amount: number }>(
  'force_time_shift_params',
  { time_shift_amount: { types: ValueType.LONG, parse: (n, p) => p.longValue(n), arg: 'required' } },
  { construct: (a) => ({ time_shift_amount: a[0] as number }) },
  true,
);

const RULE_PARAMS_PARSER = new XObjectParser<RuleParams>(
  'params',
  {
    force_time_shift: {
      types: ValueType.OBJECT,
      parse: (n, p) => FORCE_TIME_SHIFT_PARSER.parse(n, p),
      arg: 'optional',
    },
  },
  {
    construct: (a) => (a[0] === undefined ? {} : { force_time_shift: a[0] as { time_shift_amount: number } }),
  },
);

/**
 * `RuleScope.parser`: the scope is read as a generic map (HashMap order), and each entry is
 * re-serialised and parsed on its own with the `filter_ref` parser (so locations inside are
 * relative to that small document, as in Elasticsearch).
 */
function parseRuleScope(node: JsonNode, p: XParser): Record<string, FilterRef> {
  const unparsed = p.map(node, false);
  const parsed: [string, FilterRef][] = [];
  for (const [key, value] of Object.entries(unparsed)) {
    if (value !== null && (typeof value !== 'object' || Array.isArray(value))) throw classCastToMap(value);
    const { root } = readJson(value === null ? 'null' : JSON.stringify(value));
    if (!root) throw new IllegalArgumentError('empty filter_ref');
    parsed.push([key, FILTER_REF_PARSER.parse(root, new XParser())]);
  }
  const byKey = new Map(parsed);
  const out: Record<string, FilterRef> = {};
  for (const k of javaHashMapOrder(parsed.map(([k]) => k))) {
    const v = byKey.get(k);
    if (v) out[k] = v;
  }
  return out;
}

interface RuleBuilder {
  actions: RuleAction[];
  scope: Record<string, FilterRef>;
  conditions: RuleCondition[];
  params: RuleParams;
}

const DETECTION_RULE_PARSER = new XObjectParser<RuleBuilder>(
  'detection_rule',
  {
    actions: {
      ...fields.stringArray<RuleBuilder>((t, v) => {
        const set = new Set(v.map((a) => enumFromString('RuleAction', RULE_ACTIONS, a)));
        t.actions = RULE_ACTIONS.filter((a) => set.has(a));
      }),
    },
    scope: { types: ValueType.OBJECT, parse: parseRuleScope, set: (t, v) => (t.scope = v as Record<string, FilterRef>) },
    conditions: {
      types: ValueType.OBJECT_ARRAY,
      parse: (n, p) => p.objectArray(n, RULE_CONDITION_PARSER),
      set: (t, v) => (t.conditions = v as RuleCondition[]),
    },
    params: fields.object<RuleBuilder, RuleParams>(RULE_PARAMS_PARSER, (t, v) => (t.params = v)),
  },
  { create: () => ({ actions: ['skip_result'], scope: {}, conditions: [], params: {} }) },
);

/**
 * `DetectionRule.Builder.build()` checks.
 * @throws StatusError 400 `Invalid detector rule: at least scope or a condition is required`,
 *   `Invalid detector rule: actions contain force_time_shift, but corresponding parameters are missing`,
 *   `Invalid detector rule: actions do not contain force_time_shift, but corresponding parameters are present`
 */
function buildDetectionRule(b: RuleBuilder): DetectionRule {
  if (Object.keys(b.scope).length === 0 && b.conditions.length === 0) {
    throw badRequest('Invalid detector rule: at least scope or a condition is required');
  }
  const hasShift = b.actions.includes('force_time_shift');
  if (hasShift && b.params.force_time_shift === undefined) {
    throw badRequest('Invalid detector rule: actions contain force_time_shift, but corresponding parameters are missing');
  }
  if (!hasShift && b.params.force_time_shift !== undefined) {
    throw badRequest('Invalid detector rule: actions do not contain force_time_shift, but corresponding parameters are present');
  }
  const rule: DetectionRule = { actions: [...b.actions] };
  if (Object.keys(b.scope).length > 0) rule.scope = b.scope;
  if (b.conditions.length > 0) rule.conditions = b.conditions;
  if (b.params.force_time_shift !== undefined) rule.params = b.params;
  return rule;
}

/**
 * Parses one custom rule object (a `custom_rules` element) with the strict `detection_rule`
 * parser and validates it on its own (scope or condition required, force_time_shift params).
 * Detector-dependent checks are in {@link validateDetectorRules}. For use by update parsers.
 */
export function parseDetectionRule(node: JsonNode, p: XParser): DetectionRule {
  return buildDetectionRule(DETECTION_RULE_PARSER.parse(node, p));
}

/** Parses a `custom_rules` value (array of rule objects), as `Detector`'s parser does. */
export const CUSTOM_RULES_FIELD = {
  types: ValueType.OBJECT_ARRAY,
  parse: (n: JsonNode, p: XParser): DetectionRule[] => p.objectArray(n, { name: 'detection_rule', parse: (item, q) => parseDetectionRule(item, q) }),
} as const;

/**
 * The rule checks `Detector.Builder.build()` runs for each rule (spec A.2 step 7):
 * - a rule whose **first** condition applies to actual/typical/diff_from_typical is refused
 *   for `lat_long`, `metric`, `rare`, `freq_rare`;
 * - every scope key must be one of the detector's by/over/partition fields (first offending
 *   key in HashMap order).
 *
 * @throws StatusError 400 `Invalid detector rule: function <fn> only supports conditions that apply to time`,
 *   `Invalid detector rule: scope field '<k>' is invalid; select from [<sorted fields>]`,
 *   `Invalid detector rule: scope field '<k>' is invalid; detector has no available fields for scoping`
 */
export function validateDetectorRules(detector: Pick<Detector, 'function' | 'by_field_name' | 'over_field_name' | 'partition_field_name'>, rules: readonly DetectionRule[]): void {
  const fn = detector.function;
  for (const rule of rules) {
    const first = rule.conditions?.[0];
    if (first && first.applies_to !== 'time' && FUNCTIONS_WITHOUT_RULE_CONDITION_SUPPORT.has(fn)) {
      throw badRequest(`Invalid detector rule: function ${fn} only supports conditions that apply to time`);
    }
    const valid = [detector.by_field_name, detector.over_field_name, detector.partition_field_name].filter((f): f is string => f !== undefined);
    const invalid = Object.keys(rule.scope ?? {}).find((k) => !valid.includes(k));
    if (invalid !== undefined) {
      if (valid.length === 0) {
        throw badRequest(`Invalid detector rule: scope field '${invalid}' is invalid; detector has no available fields for scoping`);
      }
      throw badRequest(`Invalid detector rule: scope field '${invalid}' is invalid; select from ${javaSetString(valid)}`);
    }
  }
}
