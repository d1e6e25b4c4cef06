/**
 * Java collection ordering: `String.hashCode()` and the iteration order of a
 * `java.util.HashMap`, which Elasticsearch's echoed maps follow.
 */

/** `String.hashCode()`. */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * The iteration order of a `java.util.HashMap<String, ?>` filled by `put` in `keys` order
 * (load factor 0.75; `new HashMap<>()` has capacity 16, `new HashMap<>(2)` capacity 2): by
 * bucket index of the final table, then insertion order within a bucket. Elasticsearch echoes
 * `p.map()` results (rule scopes) and `Settings` structured maps in this order.
 */
export function javaHashMapOrder(keys: readonly string[], initialCapacity = 16): string[] {
  const unique = [...new Set(keys)];
  let capacity = 1;
  while (capacity < initialCapacity) capacity *= 2;
  while (unique.length > capacity * 0.75) capacity *= 2;
  const bucket = (k: string): number => {
    const h = javaStringHash(k);
    return (h ^ (h >>> 16)) & (capacity - 1);
  };
  return unique
    .map((k, i) => ({ k, i, b: bucket(k) }))
    .sort((a, b) => a.b - b.b || a.i - b.i)
    .map((e) => e.k);
}
