/**
 * The checks Elasticsearch makes on a datafeed's `aggregations` (`DatafeedConfig
 * .validateAggregations`, `DatafeedConfigUtils`): one `date_histogram` (or `histogram`) at the
 * top or under the first top-level aggregation, with a positive interval and a `max`
 * sub-aggregation on its time field. The aggregations are stored as given.
 */
import { StatusError } from '../errors.ts';
import { parseTimeValue } from '../units.ts';

type Aggs = Record<string, unknown>;
const bad = (reason: string): StatusError => new StatusError(400, reason);

const HISTOGRAMS = new Set(['date_histogram', 'histogram']);
/** Keys of an aggregation definition that are not its type. */
const NON_TYPE_KEYS = new Set(['aggs', 'aggregations', 'meta']);

/** One named aggregation: its type, body and sub-aggregations. */
interface AggDef {
  name: string;
  type: string;
  body: Record<string, unknown>;
  subs: AggDef[];
}

function asObject(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** `AggregatorFactories.parseAggregators`, reduced to its structure checks. */
function readAggs(aggs: Aggs): AggDef[] {
  return Object.entries(aggs).map(([name, raw]) => {
    const def = asObject(raw);
    const notParsable = (detail: string): never => {
      throw new StatusError(400, 'Datafeed aggregations are not parsable', { cause: bad(detail) });
    };
    if (!def) return notParsable(`Aggregation definition for [${name} starts with a [${Array.isArray(raw) ? 'START_ARRAY' : 'VALUE'}], expected a [START_OBJECT].`);
    const types = Object.keys(def).filter((k) => !NON_TYPE_KEYS.has(k));
    if (types.length === 0) notParsable(`Missing definition for aggregation [${name}]`);
    if (types.length > 1) notParsable(`Found two aggregation type definitions in [${name}]: [${types[0]}] and [${types[1]}]`);
    const type = types[0] as string;
    const body = asObject(def[type]);
    if (!body) notParsable(`Expected [START_OBJECT] under [${type}], but got a [VALUE] in [${name}]`);
    const subs = asObject(def.aggs) ?? asObject(def.aggregations);
    return { name, type, body: body as Record<string, unknown>, subs: subs ? readAggs(subs) : [] };
  });
}

/** `DatafeedConfigUtils.getHistogramAggregation`: the first histogram, descending through first aggregations. */
function histogramOf(aggs: AggDef[]): AggDef {
  const first = aggs[0];
  if (!first) throw bad('A date_histogram (or histogram) aggregation is required');
  return HISTOGRAMS.has(first.type) ? first : histogramOf(first.subs);
}

/** Calendar units ML accepts as fixed lengths (`DatafeedConfigUtils.validateAndGetCalendarInterval`). */
const CALENDAR_MS: Record<string, number> = {
  '1s': 1000,
  second: 1000,
  '1m': 60_000,
  minute: 60_000,
  '1h': 3_600_000,
  hour: 3_600_000,
  '1d': 86_400_000,
  day: 86_400_000,
  '1w': 604_800_000,
  week: 604_800_000,
};

/** The histogram's interval in ms (`DatafeedConfigUtils.getHistogramIntervalMillis`). */
function intervalMs(h: AggDef): number {
  if (h.type === 'histogram') return Number(h.body.interval ?? 0);
  const fixed = h.body.fixed_interval ?? h.body.interval;
  if (typeof fixed === 'string') return parseTimeValue(fixed, 'date_histogram.fixed_interval').ms;
  if (typeof fixed === 'number') return fixed;
  const cal = h.body.calendar_interval;
  if (typeof cal === 'string') {
    const ms = CALENDAR_MS[cal];
    if (ms === undefined) {
      throw bad(
        `When specifying a date_histogram calendar interval [${cal}], ML does not accept intervals longer than a week because of variable lengths of periods greater than a week`,
      );
    }
    return ms;
  }
  return 0;
}

function hasHistogram(aggs: AggDef[]): boolean {
  return aggs.some((a) => HISTOGRAMS.has(a.type) || hasHistogram(a.subs));
}

/**
 * `DatafeedConfig.validateAggregations`.
 * @throws StatusError 400 `A date_histogram (or histogram) aggregation is required`,
 *   `Aggregations can only have 1 date_histogram or histogram aggregation`,
 *   `Date histogram must have nested max aggregation for time_field [<f>]`,
 *   `Aggregation interval must be greater than 0`, `Datafeed aggregations are not parsable`
 */
export function validateAggregations(aggs: Aggs): void {
  const defs = readAggs(aggs);
  const h = histogramOf(defs);
  if (hasHistogram(h.subs)) throw bad('Aggregations can only have 1 date_histogram or histogram aggregation');
  const timeField = h.body.field;
  if (!h.subs.some((s) => s.type === 'max' && s.body.field === timeField)) {
    throw bad(`Date histogram must have nested max aggregation for time_field [${String(timeField ?? 'null')}]`);
  }
  if (intervalMs(h) <= 0) throw bad('Aggregation interval must be greater than 0');
}

/** The histogram interval of validated aggregations, in ms. */
export function histogramIntervalMs(aggs: Aggs): number {
  return intervalMs(histogramOf(readAggs(aggs)));
}
