/**
 * The pure parts of the NAB demo: NAB CSV files to records, NAB's labelled anomaly windows,
 * and how the job's top anomalies line up with them. No I/O here.
 */

/** One data point of a NAB series, ready to post (`time_format: epoch_ms`). */
export interface NabRecord {
  timestamp: number;
  value: number;
}

/** A labelled anomaly window, inclusive at both ends, epoch ms. */
export interface NabWindow {
  start: number;
  end: number;
}

/** An anomaly record as the demo reads it from `results/records`. */
export interface ScoredRecord {
  timestamp: number;
  record_score: number;
}

const NAB_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/;

/**
 * `YYYY-MM-DD HH:MM:SS` (optionally `.ffffff`), read as UTC, to epoch ms (fraction truncated to ms).
 * @throws Error when the text is not such a timestamp or names an impossible date
 */
export function parseNabTimestamp(text: string): number {
  const m = NAB_TIME.exec(text.trim());
  if (!m) throw new Error(`not a NAB timestamp (YYYY-MM-DD HH:MM:SS): ${JSON.stringify(text)}`);
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = m[7] ? Math.floor(Number(m[7].padEnd(6, '0')) / 1000) : 0;
  const t = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const back = new Date(t);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    throw new Error(`not a valid date: ${JSON.stringify(text)}`);
  }
  return t;
}

/**
 * A NAB data file (`timestamp,value` header, one point per line) to records in file order.
 * Blank lines (and a trailing newline, CRLF endings) are allowed.
 * @throws Error naming the line when the header is not `timestamp,value` or a row is malformed
 */
export function parseNabCsv(text: string): NabRecord[] {
  const lines = text.split(/\r?\n/);
  const header = lines[0]?.replace(/^\uFEFF/, '').trim();
  if (header !== 'timestamp,value') throw new Error(`line 1: expected the header "timestamp,value", got ${JSON.stringify(header)}`);
  const out: NabRecord[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const cells = line.split(',');
    if (cells.length !== 2) throw new Error(`line ${i + 1}: expected 2 fields, got ${cells.length}: ${JSON.stringify(line)}`);
    let timestamp: number;
    try {
      timestamp = parseNabTimestamp(cells[0]!);
    } catch (err) {
      throw new Error(`line ${i + 1}: ${(err as Error).message}`);
    }
    const raw = cells[1]!.trim();
    const value = Number(raw);
    if (raw === '' || !Number.isFinite(value)) throw new Error(`line ${i + 1}: value is not a number: ${JSON.stringify(cells[1])}`);
    out.push({ timestamp, value });
  }
  return out;
}

/**
 * The windows of one data file from NAB's `combined_windows.json` (keys like
 * `realAWSCloudwatch/<file>.csv`); `file` may be that key or just the file name.
 * @throws Error when no entry names the file
 */
export function windowsFor(combined: Record<string, [string, string][]>, file: string): NabWindow[] {
  const key = Object.keys(combined).find((k) => k === file || k.endsWith(`/${file}`));
  if (key === undefined) throw new Error(`no labelled windows for ${file}`);
  return combined[key]!.map(([s, e]) => ({ start: parseNabTimestamp(s), end: parseNabTimestamp(e) }));
}

/** The index of the first window that contains `timestamp` (bounds inclusive), or -1. */
export function windowIndex(timestamp: number, windows: readonly NabWindow[]): number {
  return windows.findIndex((w) => timestamp >= w.start && timestamp <= w.end);
}

/**
 * Does a result of bucket `timestamp` (the bucket's start) lie inside a window? A bucket
 * counts when any part of `[timestamp, timestamp + bucketSpanMs)` overlaps the window,
 * so a window that starts mid-bucket still contains that bucket.
 */
export function bucketWindowIndex(timestamp: number, bucketSpanMs: number, windows: readonly NabWindow[]): number {
  return windows.findIndex((w) => timestamp <= w.end && timestamp + bucketSpanMs - 1 >= w.start);
}

/** How a job's anomalies line up with the labelled windows. */
export interface WindowSummary {
  /** Of the top records (at most 5), how many lie inside a window. */
  topInside: number;
  topCount: number;
  /** Windows with a record inside: any with record_score ≥ `minScore`, or any of the top records. */
  windowsHit: number;
  windowCount: number;
}

/**
 * Summarizes `top` (the highest-scored records) and `strong` (records with
 * record_score ≥ `minScore`, default 50) against `windows`.
 */
export function summarize(top: readonly ScoredRecord[], strong: readonly ScoredRecord[], windows: readonly NabWindow[], bucketSpanMs: number, minScore = 50): WindowSummary {
  const hit = new Set<number>();
  let topInside = 0;
  for (const r of top) {
    const i = bucketWindowIndex(r.timestamp, bucketSpanMs, windows);
    if (i >= 0) {
      topInside++;
      hit.add(i);
    }
  }
  for (const r of strong) {
    if (r.record_score < minScore) continue;
    const i = bucketWindowIndex(r.timestamp, bucketSpanMs, windows);
    if (i >= 0) hit.add(i);
  }
  return { topInside, topCount: top.length, windowsHit: hit.size, windowCount: windows.length };
}

/** `xs` in consecutive slices of at most `size`. */
export function chunks<T>(xs: readonly T[], size: number): T[][] {
  if (!(size >= 1)) throw new Error(`chunk size must be ≥ 1, got ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/** `<file>.csv` → job id `nab-<file>` (lowercased; characters outside [a-z0-9_-] become `-`). */
export function jobIdFor(file: string): string {
  return `nab-${file
    .replace(/\.csv$/i, '')
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '-')}`;
}
