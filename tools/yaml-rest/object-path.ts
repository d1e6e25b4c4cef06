import type { Stash } from './stash.ts';

/** Splits `a.b\.c.0` into `['a', 'b.c', '0']`: dots escaped with a backslash belong to the key. */
export function splitPath(path: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < path.length; i++) {
    const c = path[i];
    if (c === '\\' && path[i + 1] === '.') {
      current += '.';
      i++;
    } else if (c === '.') {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  return parts;
}

/**
 * Evaluates a response path as Elasticsearch's `ObjectPath` does: `$body` (or an empty path) is
 * the whole body; each segment is a map key or, on a list, an index; a `$name` segment is
 * replaced by its stashed value first. A missing step gives `undefined`.
 */
export function evaluatePath(body: unknown, path: string, stash: Stash): unknown {
  if (path === '' || path === '$body') return body;
  let current: unknown = body;
  for (const raw of splitPath(path)) {
    const segment = raw.startsWith('$') ? String(stash.lookup(raw)) : raw;
    if (current == null) return undefined;
    if (Array.isArray(current)) {
      const index = Number(segment);
      if (!Number.isInteger(index)) return undefined;
      current = current[index];
    } else if (typeof current === 'object') {
      current = (current as Record<string, unknown>)[segment];
    } else return undefined;
  }
  return current;
}
