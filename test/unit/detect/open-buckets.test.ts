import { describe, expect, it } from 'vitest';
import { OpenBuckets } from '../../../lib/detect/model/open-buckets.ts';
import { OpenBucket } from '../../../lib/detect/model/series.ts';

const indexes = (open: OpenBuckets) => open.values().map((ob) => ob.index);

describe('open buckets', () => {
  it('finds, removes and lists buckets in insertion order, not index order', () => {
    const open = new OpenBuckets();
    for (const i of [7, 5, 9]) open.add(new OpenBucket(i, 1));
    expect(open.get(5)?.index).toBe(5);
    expect(open.get(6)).toBeUndefined();
    open.delete(5);
    open.delete(6);
    expect(indexes(open)).toEqual([7, 9]);
    expect(open.size).toBe(2);
  });

  it('keeps lookups and order right across the switch to an index and back (a long latency window)', () => {
    const open = new OpenBuckets();
    const order = Array.from({ length: 40 }, (_, i) => (i * 17) % 40);
    for (const i of order) open.add(new OpenBucket(1000 + i, 1));
    for (const i of order) expect(open.get(1000 + i)?.index).toBe(1000 + i);
    expect(open.get(999)).toBeUndefined();
    // Remove all but five, oldest first and from the middle, crossing back below the index threshold.
    for (const i of order.slice(0, 30)) open.delete(1000 + i);
    open.delete(1000 + (order[32] as number));
    expect(open.size).toBe(9);
    expect(open.get(1000 + (order[32] as number))).toBeUndefined();
    for (const i of order.slice(30)) if (i !== order[32]) expect(open.get(1000 + i)?.index).toBe(1000 + i);
    expect(indexes(open)).toEqual(
      order
        .slice(30)
        .filter((i) => i !== order[32])
        .map((i) => 1000 + i),
    );
    open.add(new OpenBucket(5000, 1));
    expect(open.get(5000)?.index).toBe(5000);
  });
});
