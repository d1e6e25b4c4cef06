/**
 * Paging of results in time order over *segments*: runs of results that are contiguous in time
 * (a stored part, an empty run, an interim bucket), each knowing its size without being read
 * when it can. `GET results/buckets` and `results/records` count from the sizes and read only
 * the segments the page overlaps (plus, to count, those whose size needs a read: a part cut by
 * the range's edge or by a score threshold), so a page's cost follows the page, not the history.
 */

/** Results contiguous in time, in ascending order. */
export interface Segment<T> {
  /** Timestamp of its first result, epoch ms (segments never overlap in time). */
  first: number;
  /** Its results count when known without reading (undefined: read it to count). */
  count: number | undefined;
  /**
   * Results `[lo, hi)` of the segment in ascending order, or in descending order when `desc`
   * (positions then count from the newest end).
   */
  read(lo: number, hi: number, desc: boolean): Promise<T[]>;
}

/**
 * A segment over results read on demand (a part): read once, then served from memory.
 * `load` returns the segment's results in ascending order, filtered; `descOrder` turns them
 * into descending order (default: reversed).
 */
export function loadedSegment<T>(
  first: number,
  count: number | undefined,
  load: () => Promise<T[]>,
  descOrder: (xs: T[]) => T[] = (xs) => [...xs].reverse(),
): Segment<T> & { loaded(): Promise<T[]> } {
  let items: Promise<T[]> | undefined;
  let desc: T[] | undefined;
  const loaded = () => {
    items ??= load();
    return items;
  };
  return {
    first,
    count,
    loaded,
    async read(lo, hi, d) {
      const all = await loaded();
      if (!d) return all.slice(lo, hi);
      desc ??= descOrder(all);
      return desc.slice(lo, hi);
    },
  };
}

/**
 * The page `[from, from + size)` of the results of `segments` in time order (newest first when
 * `desc`) and the total count. Segments of unknown size are read (in parallel) to count; then
 * only the segments the page overlaps are read.
 */
export async function pageByTime<T>(segments: readonly Segment<T>[], from: number, size: number, desc: boolean): Promise<{ count: number; page: T[] }> {
  const ordered = [...segments].sort((a, b) => a.first - b.first);
  const counts = await Promise.all(ordered.map(async (s) => s.count ?? (await s.read(0, Number.POSITIVE_INFINITY, false)).length));
  const count = counts.reduce((a, b) => a + b, 0);
  const reads: Promise<T[]>[] = [];
  let skip = from;
  let want = size;
  const walk = desc ? ordered.map((_, i) => ordered.length - 1 - i) : ordered.map((_, i) => i);
  for (const i of walk) {
    if (want <= 0) break;
    const n = counts[i] as number;
    if (skip >= n) {
      skip -= n;
      continue;
    }
    const take = Math.min(n - skip, want);
    reads.push((ordered[i] as Segment<T>).read(skip, skip + take, desc));
    want -= take;
    skip = 0;
  }
  return { count, page: (await Promise.all(reads)).flat() };
}

/**
 * Results ordered by `key` (ties by timestamp), descending when `desc`, as Elasticsearch's
 * results APIs sort them: a stable sort of results already in time order, so results sharing
 * both keep their stored order (detector, then the model's order).
 */
export function compareBy(key: string, desc: boolean) {
  return (a: Record<string, unknown>, b: Record<string, unknown>): number => {
    const x = a[key] as number;
    const y = b[key] as number;
    const c = x < y ? -1 : x > y ? 1 : (a.timestamp as number) - (b.timestamp as number);
    return desc ? -c : c;
  };
}

/**
 * Records in descending time order as Elasticsearch's stable sort leaves them: newest bucket
 * first, the records of one bucket still in stored order.
 */
export function newestBucketFirst<T extends { timestamp: number }>(xs: readonly T[]): T[] {
  const out: T[] = [];
  let end = xs.length;
  for (let i = xs.length - 1; i >= 0; i--) {
    if (i === 0 || (xs[i - 1] as T).timestamp !== (xs[i] as T).timestamp) {
      out.push(...xs.slice(i, end));
      end = i;
    }
  }
  return out;
}
