/**
 * Small Java-isms the job parsers reproduce: `Enum.valueOf` errors, `ElasticsearchStatusException`
 * 400s, Java's `Set.toString()` and class names in `ClassCastException` texts.
 */
import { EsError, IllegalArgumentError, StatusError } from '../errors.ts';

const CONFIG_PACKAGE = 'org.elasticsearch.xpack.core.ml.job.config';

/** `Enum.valueOf` failure text. */
export function noEnumConstant(enumClass: string, name: string): IllegalArgumentError {
  return new IllegalArgumentError(`No enum constant ${CONFIG_PACKAGE}.${enumClass}.${name}`);
}

export function enumFromString<E extends string>(enumClass: string, values: readonly E[], raw: string, trim = false): E {
  const upper = (trim ? raw.trim() : raw).toUpperCase();
  const found = values.find((v) => v.toUpperCase() === upper);
  if (found === undefined) throw noEnumConstant(enumClass, upper);
  return found;
}

/** `StatusError` 400, i.e. `ExceptionsHelper.badRequestException`. */
export function badRequest(message: string): StatusError {
  return new StatusError(400, message);
}

/** `MlStrings.doubleQuoteIfNotAlphaNumeric`. */
export function quoteField(field: string): string {
  if (!/[^A-Za-z0-9_]/.test(field)) return field;
  return `"${field.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

export const isEmpty = (s: string | null | undefined): boolean => s === null || s === undefined || s.length === 0;

/** Java `TreeSet<String>.toString()`. */
export function javaSetString(values: Iterable<string>): string {
  return `[${[...new Set(values)].sort().join(', ')}]`;
}

/** Java class name of a value read by `p.map()`, for `ClassCastException` texts. */
function javaClassOf(value: unknown): string {
  if (typeof value === 'string') return 'java.lang.String';
  if (typeof value === 'boolean') return 'java.lang.Boolean';
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return 'java.lang.Double';
    return Math.abs(value) <= 2147483647 ? 'java.lang.Integer' : 'java.lang.Long';
  }
  if (Array.isArray(value)) return 'java.util.ArrayList';
  return 'java.util.HashMap';
}

export function classCastToMap(value: unknown): EsError {
  const cls = javaClassOf(value);
  return new EsError('class_cast_exception', 500, `class ${cls} cannot be cast to class java.util.Map (${cls} and java.util.Map are in module java.base of loader 'bootstrap')`);
}
