/**
 * The open (not final) buckets of a model by bucket index, in insertion order.
 *
 * Why not a Map: at one record per bucket every bucket is added and, one record later,
 * deleted. A V8 Map keeps deleted entries until its table fills and then rebuilds the table in
 * a runtime call, every few buckets; that rebuild was the costliest line of `ingestRecords`.
 * The open buckets are the latency window, usually one or two, so an array scanned from the
 * front (the oldest, which finalising asks for) is cheaper; past {@link INDEXED_AT} entries
 * (a latency of many bucket spans) a Map index is kept beside it so lookups stay O(1).
 * Iteration is in insertion order, as the Map's was (the serialized state depends on it).
 */
import type { OpenBucket } from './series.ts';

/** Entries above which lookups go through a Map index. */
const INDEXED_AT = 16;

export class OpenBuckets {
  private readonly list: OpenBucket[] = [];
  private index: Map<number, OpenBucket> | null = null;

  /** Number of open buckets. */
  get size(): number {
    return this.list.length;
  }

  /** The open bucket of index `idx` (bucket start / bucket span), or undefined. */
  get(idx: number): OpenBucket | undefined {
    if (this.index !== null) return this.index.get(idx);
    const list = this.list;
    for (let i = 0; i < list.length; i++) {
      const ob = list[i] as OpenBucket;
      if (ob.index === idx) return ob;
    }
    return undefined;
  }

  /** Adds `ob` under its own index; the caller makes sure no bucket of that index is open. */
  add(ob: OpenBucket): void {
    this.list.push(ob);
    if (this.index !== null) this.index.set(ob.index, ob);
    else if (this.list.length > INDEXED_AT) this.index = new Map(this.list.map((o) => [o.index, o]));
  }

  /** Removes the open bucket of index `idx`, if any. */
  delete(idx: number): void {
    const list = this.list;
    for (let i = 0; i < list.length; i++) {
      if ((list[i] as OpenBucket).index === idx) {
        if (i === 0) list.shift();
        else list.splice(i, 1);
        if (this.index !== null) {
          this.index.delete(idx);
          if (list.length <= INDEXED_AT / 2) this.index = null;
        }
        return;
      }
    }
  }

  /** The open buckets in insertion order. */
  values(): readonly OpenBucket[] {
    return this.list;
  }
}
