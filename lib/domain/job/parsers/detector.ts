/**
 * The `detector` parser and `Detector.Builder.build()`: function names and shortcuts, field
 * checks, the default description and Elasticsearch's key order.
 */
import { IllegalArgumentError } from '../../errors.ts';
import { fields, ValueType, XObjectParser } from '../../json/object-parser.ts';
import { BY_FIELD_NAME_FUNCTIONS, COUNT_WITHOUT_FIELD_FUNCTIONS, FIELD_NAME_FUNCTIONS, NO_OVER_FIELD_NAME_FUNCTIONS, OVER_FIELD_NAME_FUNCTIONS } from '../constants.ts';
import { badRequest, enumFromString, isEmpty, quoteField } from '../java-emulation.ts';
import { type DetectionRule, type Detector, DETECTOR_FUNCTION_SHORTCUTS, DETECTOR_FUNCTIONS, type DetectorFunction } from '../types.ts';
import { CUSTOM_RULES_FIELD, validateDetectorRules } from './detection-rule.ts';

interface DetectorBuilder {
  description?: string;
  fn?: DetectorFunction;
  fieldName?: string;
  by?: string;
  over?: string;
  partition?: string;
  useNull: boolean;
  excludeFrequent?: Detector['exclude_frequent'];
  rules: DetectionRule[];
  index: number;
}

/** `DetectorFunction.fromString`: full names and shortcuts (`nzc`, `dc`, …). */
export function detectorFunctionFromString(op: string): DetectorFunction {
  const full = DETECTOR_FUNCTIONS.find((f) => f === op);
  if (full) return full;
  const short = DETECTOR_FUNCTION_SHORTCUTS[op];
  if (short && Object.hasOwn(DETECTOR_FUNCTION_SHORTCUTS, op)) return short;
  throw new IllegalArgumentError(`Unknown function '${op}'`);
}

export const DETECTOR_PARSER = new XObjectParser<DetectorBuilder>(
  'detector',
  {
    detector_description: fields.string((t, v) => (t.description = v)),
    function: fields.string((t, v) => (t.fn = detectorFunctionFromString(v))),
    field_name: fields.string((t, v) => (t.fieldName = v)),
    by_field_name: fields.string((t, v) => (t.by = v)),
    over_field_name: fields.string((t, v) => (t.over = v)),
    partition_field_name: fields.string((t, v) => (t.partition = v)),
    use_null: fields.boolean((t, v) => (t.useNull = v)),
    exclude_frequent: {
      types: ValueType.STRING,
      parse: (n, p) => enumFromString('Detector.ExcludeFrequent', ['all', 'none', 'by', 'over'] as const, p.text(n)),
      set: (t, v) => (t.excludeFrequent = v as Detector['exclude_frequent']),
    },
    custom_rules: { ...CUSTOM_RULES_FIELD, set: (t, v) => (t.rules = v as DetectionRule[]) },
    detector_index: fields.int((t, v) => (t.index = v)),
  },
  { create: () => ({ useNull: false, rules: [], index: -1 }) },
);

/**
 * `Detector.Builder.verifyFieldName`.
 * @throws StatusError 400 `Invalid field name '<f>'. Field names including over, by and partition fields cannot contain any of these characters: ",\`
 *   or `… cannot be '.'`
 */
export function verifyFieldName(field: string | undefined): void {
  if (field === undefined) return;
  // '"', '\\' and ISO control characters.
  if (/["\\\u0000-\u001f\u007f-\u009f]/.test(field)) {
    throw badRequest(`Invalid field name '${field}'. Field names including over, by and partition fields cannot contain any of these characters: ",\\`);
  }
  if (field === '.') {
    throw badRequest(`Invalid field name '.'. Field names including over, by and partition fields cannot be '.'`);
  }
}

/** `DefaultDetectorDescription.of`: `mean(responsetime) by airline over x usenull=true partitionfield=p excludefrequent=all`. */
export function defaultDetectorDescription(
  d: Pick<Detector, 'function' | 'field_name' | 'by_field_name' | 'over_field_name' | 'partition_field_name' | 'use_null' | 'exclude_frequent'>,
): string {
  let sb: string = d.function;
  if (!isEmpty(d.field_name)) sb += `(${quoteField(d.field_name ?? '')})`;
  if (!isEmpty(d.by_field_name)) sb += ` by ${quoteField(d.by_field_name ?? '')}`;
  if (!isEmpty(d.over_field_name)) sb += ` over ${quoteField(d.over_field_name ?? '')}`;
  if (d.use_null) sb += ' usenull=true';
  if (!isEmpty(d.partition_field_name)) sb += ` partitionfield=${quoteField(d.partition_field_name ?? '')}`;
  if (d.exclude_frequent !== undefined) sb += ` excludefrequent=${d.exclude_frequent}`;
  return sb;
}

/**
 * `Detector.Builder.build()` with its checks in Elasticsearch's order.
 * @throws StatusError 400 with the `Messages` texts (field requirements per function, invalid
 *   field names, rule checks, duplicate by/over/partition, reserved `count`/`by`/`over` names)
 */
export function buildDetector(b: DetectorBuilder): Detector {
  const fnText = b.fn ?? 'null';
  const emptyField = isEmpty(b.fieldName);
  const emptyBy = isEmpty(b.by);
  const emptyOver = isEmpty(b.over);
  const emptyPartition = isEmpty(b.partition);
  const is = (set: ReadonlySet<DetectorFunction>): boolean => b.fn !== undefined && set.has(b.fn);

  if (emptyField && emptyBy && emptyOver && !is(COUNT_WITHOUT_FIELD_FUNCTIONS)) {
    throw badRequest('Unless a count or temporal function is used one of field_name, by_field_name or over_field_name must be set');
  }
  if (emptyField && is(FIELD_NAME_FUNCTIONS)) throw badRequest(`field_name must be set when the '${fnText}' function is used`);
  if (!emptyField && !is(FIELD_NAME_FUNCTIONS)) throw badRequest(`field_name cannot be used with function '${fnText}'`);
  if (emptyBy && is(BY_FIELD_NAME_FUNCTIONS)) throw badRequest(`by_field_name must be set when the '${fnText}' function is used`);
  if (emptyOver && is(OVER_FIELD_NAME_FUNCTIONS)) {
    throw badRequest(`over_field_name must be set when the '${fnText}' function is used`);
  }
  if (!emptyOver && is(NO_OVER_FIELD_NAME_FUNCTIONS)) throw badRequest(`over_field_name cannot be used with function '${fnText}'`);
  for (const f of [b.fieldName, b.by, b.over, b.partition]) verifyFieldName(f);

  const fn: DetectorFunction = b.fn ?? 'metric';
  const shape = {
    function: fn,
    ...(b.by !== undefined ? { by_field_name: b.by } : {}),
    ...(b.over !== undefined ? { over_field_name: b.over } : {}),
    ...(b.partition !== undefined ? { partition_field_name: b.partition } : {}),
  };
  validateDetectorRules(shape, b.rules);

  if (!emptyPartition) {
    if (b.partition === b.by) throw badRequest(`partition_field_name and by_field_name cannot be the same: '${b.partition}'`);
    if (b.partition === b.over) throw badRequest(`partition_field_name and over_field_name cannot be the same: '${b.partition}'`);
  }
  if (!emptyBy && b.by === b.over) throw badRequest(`by_field_name and over_field_name cannot be the same: '${b.by}'`);
  if (b.by === 'count') throw badRequest(`'count' is not a permitted value for by_field_name`);
  if (b.over === 'count') throw badRequest(`'count' is not a permitted value for over_field_name`);
  if (b.by === 'by') throw badRequest(`'by' is not a permitted value for by_field_name`);
  if (b.over === 'by') throw badRequest(`'by' is not a permitted value for over_field_name`);
  if (b.by === 'over') throw badRequest(`'over' is not a permitted value for by_field_name`);
  if (b.over === 'over') throw badRequest(`'over' is not a permitted value for over_field_name`);

  const d: Detector = { detector_description: '', function: fn, detector_index: b.index };
  if (b.fieldName !== undefined) d.field_name = b.fieldName;
  if (b.by !== undefined) d.by_field_name = b.by;
  if (b.over !== undefined) d.over_field_name = b.over;
  if (b.partition !== undefined) d.partition_field_name = b.partition;
  if (b.useNull) d.use_null = true;
  if (b.excludeFrequent !== undefined) d.exclude_frequent = b.excludeFrequent;
  if (b.rules.length > 0) d.custom_rules = b.rules;
  d.detector_description = b.description ?? defaultDetectorDescription(d);
  return orderDetector(d);
}

/** Re-creates a detector with keys in Elasticsearch's output order. */
export function orderDetector(d: Detector): Detector {
  const out: Record<string, unknown> = { detector_description: d.detector_description, function: d.function };
  if (d.field_name !== undefined) out.field_name = d.field_name;
  if (d.by_field_name !== undefined) out.by_field_name = d.by_field_name;
  if (d.over_field_name !== undefined) out.over_field_name = d.over_field_name;
  if (d.partition_field_name !== undefined) out.partition_field_name = d.partition_field_name;
  if (d.use_null) out.use_null = true;
  if (d.exclude_frequent !== undefined) out.exclude_frequent = d.exclude_frequent;
  if (d.custom_rules && d.custom_rules.length > 0) out.custom_rules = d.custom_rules;
  out.detector_index = d.detector_index;
  return out as unknown as Detector;
}
