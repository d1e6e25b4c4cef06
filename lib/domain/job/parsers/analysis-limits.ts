/**
 * The `analysis_limits` parser (model memory limit in MiB, categorization examples limit,
 * with its deprecation warnings) and the defaults applied at put-job.
 */
import { IllegalArgumentError, type StatusError } from '../../errors.ts';
import { tokenOf } from '../../json/located-tree.ts';
import { ValueType, XObjectParser } from '../../json/object-parser.ts';
import { checkModelMemoryLimitMiB, formatJavaNumber, humanMiB, modelMemoryLimitToMiB } from '../../units.ts';
import { DEFAULT_CATEGORIZATION_EXAMPLES_LIMIT, DEFAULT_MODEL_MEMORY_LIMIT_MIB, MAX_MODEL_MEMORY_LIMIT_SETTING } from '../constants.ts';
import { badRequest } from '../java-emulation.ts';
import type { AnalysisLimits } from '../types.ts';

/**
 * `analysis_limits` as read from a request body (put-job or job update), before defaults:
 * only the keys the body had.
 */
export interface ParsedAnalysisLimits {
  /** Whole MiB (a JSON number is MiB, a string is a byte size floored to MiB); ≥ 1. */
  model_memory_limit?: number;
  /** ≥ 0. */
  categorization_examples_limit?: number;
}

/**
 * `AnalysisLimits.STRICT_PARSER`, used by put-job and by job update. `model_memory_limit` is
 * a JSON number (MiB) or a byte-size string (floored to whole MiB; fractional sizes add a
 * deprecation text to `warnings`). The constructor checks `model_memory_limit ≥ 1 MiB` and
 * `categorization_examples_limit ≥ 0`. Defaults are not applied here: see
 * {@link analysisLimitsWithDefaults}.
 *
 * @param warnings receives deprecation texts, for the `Warning` header
 * @throws (wrapped by the caller's parser) IllegalArgumentError `Unsupported token [<t>]` for a
 *   non-scalar `model_memory_limit`; StatusError 400 `model_memory_limit must be at least 1 MiB. Value = <v>`,
 *   `categorization_examples_limit cannot be less than 0. Value = <v>`
 */
export function makeAnalysisLimitsParser(warnings: string[]): XObjectParser<ParsedAnalysisLimits> {
  return new XObjectParser<ParsedAnalysisLimits>(
    'analysis_limits',
    {
      model_memory_limit: {
        types: ValueType.VALUE,
        parse: (n, p) => {
          p.at(n);
          if (n.kind === 'string') return modelMemoryLimitToMiB(p.text(n), warnings);
          if (n.kind === 'number') return p.longValue(n);
          throw new IllegalArgumentError(`Unsupported token [${tokenOf(n)}]`);
        },
        arg: 'optional',
      },
      categorization_examples_limit: { types: ValueType.LONG, parse: (n, p) => p.longValue(n), arg: 'optional' },
    },
    {
      construct: (a) => {
        const mml = a[0] as number | undefined;
        const cel = a[1] as number | undefined;
        if (mml !== undefined) checkModelMemoryLimitMiB(mml);
        if (cel !== undefined && cel < 0) {
          throw badRequest(`categorization_examples_limit cannot be less than 0. Value = ${formatJavaNumber(cel)}`);
        }
        return {
          ...(mml !== undefined ? { model_memory_limit: mml } : {}),
          ...(cel !== undefined ? { categorization_examples_limit: cel } : {}),
        };
      },
    },
  );
}

/**
 * `AnalysisLimits.validateAndSetDefaults(limits, max, 1024)`, as put-job and job update apply
 * it: a missing `model_memory_limit` becomes the default (1024 MiB, or the max when that is
 * smaller), a missing `categorization_examples_limit` becomes 4; the result may not exceed
 * the max.
 *
 * @param limits from {@link makeAnalysisLimitsParser}; `undefined` when the body had none
 * @param maxMiB `xpack.ml.max_model_memory_limit` in MiB; absent or ≤ 0 means no limit
 * @returns the stored form (`model_memory_limit` as `"<MiB>mb"`)
 * @throws StatusError 400 {@link maxModelMemoryLimitError} when the limit exceeds the max
 */
export function analysisLimitsWithDefaults(limits: ParsedAnalysisLimits | undefined, maxMiB: number | undefined): AnalysisLimits {
  const max = maxMiB !== undefined && maxMiB > 0 ? maxMiB : undefined;
  const mml = limits?.model_memory_limit ?? (max !== undefined ? Math.min(max, DEFAULT_MODEL_MEMORY_LIMIT_MIB) : DEFAULT_MODEL_MEMORY_LIMIT_MIB);
  const cel = limits?.categorization_examples_limit ?? DEFAULT_CATEGORIZATION_EXAMPLES_LIMIT;
  if (max !== undefined && mml > max) throw maxModelMemoryLimitError(mml, max);
  return { model_memory_limit: `${mml}mb`, categorization_examples_limit: cel };
}

/**
 * 400 `status_exception` `model_memory_limit [<mml>] must be less than the value of the
 * xpack.ml.max_model_memory_limit setting [<max>]` (both in `ByteSizeValue` human form).
 */
export function maxModelMemoryLimitError(mmlMiB: number, maxMiB: number): StatusError {
  return badRequest(`model_memory_limit [${humanMiB(mmlMiB)}] must be less than the value of the ${MAX_MODEL_MEMORY_LIMIT_SETTING} setting [${humanMiB(maxMiB)}]`);
}
