/**
 * The `data_description` parser and the `time_format` check (`DateTimeFormatter` pattern
 * letters).
 */
import { fields, XObjectParser } from '../../json/object-parser.ts';
import { badRequest, noEnumConstant } from '../java-emulation.ts';
import type { DataDescription } from '../types.ts';

/** Letters `DateTimeFormatter.ofPattern` accepts. */
const PATTERN_LETTERS = new Set('GuyDMLdQqYwWEecFaBhKkHmsSAnNVvzOXxZp'.split(''));

/**
 * Approximates `DateTimeFormatterTimestampConverter.ofPattern`: the pattern must use only
 * `DateTimeFormatter` letters and yield a date-time (a month and day, or a day-of-year, and an
 * hour). Invalid → StatusError 400 `Invalid Time format string '<f>'`.
 */
function validateTimeFormat(format: string): void {
  if (format === 'epoch' || format === 'epoch_ms') return;
  const letters: string[] = [];
  let inQuote = false;
  for (let i = 0; i < format.length; i++) {
    const ch = format.charAt(i);
    if (ch === "'") {
      inQuote = !inQuote;
      continue;
    }
    if (inQuote) continue;
    if (/[A-Za-z]/.test(ch)) {
      if (!PATTERN_LETTERS.has(ch)) throw badRequest(`Invalid Time format string '${format}'`);
      letters.push(ch);
    } else if ('#{}'.includes(ch)) {
      throw badRequest(`Invalid Time format string '${format}'`);
    }
  }
  const has = (s: string): boolean => [...s].some((c) => letters.includes(c));
  const date = (has('ML') && has('d')) || has('D');
  const hour = has('Hk') || (has('hK') && has('a'));
  if (inQuote || !date || !hour) throw badRequest(`Invalid Time format string '${format}'`);
}

export const DATA_DESCRIPTION_PARSER = new XObjectParser<DataDescription>(
  'data_description',
  {
    format: fields.string((_t, v) => {
      const upper = v.toUpperCase();
      if (upper !== 'XCONTENT' && upper !== 'DELIMITED') throw noEnumConstant('DataDescription.DataFormat', upper);
    }),
    time_field: fields.string((t, v) => (t.time_field = v)),
    time_format: fields.string((t, v) => {
      validateTimeFormat(v);
      t.time_format = v;
    }),
  },
  { create: () => ({ time_field: 'time', time_format: 'epoch_ms' }) },
);
