/** The fields a job reads from its input records. */
import { FUNCTIONS } from '../functions.ts';
import type { AnalysisSpec } from '../types.ts';

/** The fields a job reads from records: detector fields, by/partition fields, influencers, summary count. */
export function analysisFields(spec: AnalysisSpec): string[] {
  const out = new Set<string>();
  for (const d of spec.detectors) {
    if (d.field_name !== undefined && !FUNCTIONS[d.function]?.isCount) out.add(d.field_name);
    if (d.by_field_name !== undefined) out.add(d.by_field_name);
    if (d.partition_field_name !== undefined) out.add(d.partition_field_name);
  }
  for (const f of spec.influencers) out.add(f);
  if (spec.summaryCountFieldName !== undefined) out.add(spec.summaryCountFieldName);
  return [...out];
}
