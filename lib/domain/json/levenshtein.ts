/**
 * Lucene's Levenshtein similarity and the "did you mean" suggestion that Elasticsearch's
 * `ObjectParser` appends to an unknown-field error.
 */

/** Lucene `LevenshteinDistance.getDistance` (a similarity in [0, 1], as a Java float). */
function luceneLevenshtein(target: string, other: string): number {
  const n = target.length;
  const m = other.length;
  if (n === 0 || m === 0) return n === m ? 1 : 0;
  let p = Array.from({ length: n + 1 }, (_, i) => i);
  let d = new Array<number>(n + 1).fill(0);
  for (let j = 1; j <= m; j++) {
    const tj = other.charCodeAt(j - 1);
    d[0] = j;
    for (let i = 1; i <= n; i++) {
      const cost = target.charCodeAt(i - 1) === tj ? 0 : 1;
      d[i] = Math.min(Math.min((d[i - 1] ?? 0) + 1, (p[i] ?? 0) + 1), (p[i - 1] ?? 0) + cost);
    }
    const t = p;
    p = d;
    d = t;
  }
  return Math.fround(1 - Math.fround((p[n] ?? 0) / Math.max(m, n)));
}

/**
 * `SuggestingErrorOnUnknown.errorMessage`: `[<parser>] unknown field [<f>]` plus
 * ` did you mean [<c>]?` / ` did you mean any of [<c1>, <c2>]?` for candidates with a
 * Lucene Levenshtein similarity above 0.5 (best first, then by name).
 */
export function unknownFieldMessage(parserName: string, field: string, candidates: readonly string[]): string {
  const message = `[${parserName}] unknown field [${field}]`;
  const scored = candidates
    .map((c) => ({ c, d: luceneLevenshtein(field, c) }))
    .filter((s) => s.d > 0.5)
    .sort((a, b) => b.d - a.d || (a.c < b.c ? -1 : a.c > b.c ? 1 : 0));
  if (scored.length === 0) return message;
  const keys = scored.map((s) => s.c);
  return `${message} did you mean ${keys.length === 1 ? `[${keys[0]}]` : `any of [${keys.join(', ')}]`}?`;
}
