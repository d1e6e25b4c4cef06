/** Shared by the results paging tests: deterministic scores and the order Elasticsearch sorts a page in. */

/**
 * A deterministic score in [0, 100) for result `i` and `salt`: `highPerThousand` of 1000 are
 * 10–99 (above the score index floor, some tied), the rest under 5.
 */
export function pseudoScore(i: number, salt: number, highPerThousand: number): number {
  return (i * 7919 + salt * 104729) % 1000 < highPerThousand ? ((i * 31 + salt) % 90) + 10 : ((i * 13 + salt) % 50) / 10;
}

/** Sorts results by `key` (descending when `desc`), ties by timestamp ascending. */
export function compare(key: string, desc: boolean) {
  return (a: Record<string, unknown>, b: Record<string, unknown>) => {
    const x = a[key] as number;
    const y = b[key] as number;
    const c = x < y ? -1 : x > y ? 1 : (a.timestamp as number) - (b.timestamp as number);
    return desc ? -c : c;
  };
}
