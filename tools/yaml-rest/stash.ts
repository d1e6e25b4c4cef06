/**
 * Values saved by `set` steps, and the body of the last response, as Elasticsearch's runner
 * keeps them: `$name` as a whole value, `${name}` inside a string, and `$body` for the last
 * response body.
 */
export class Stash {
  private readonly values = new Map<string, unknown>();
  /** Body of the last response (parsed JSON, or text). */
  lastBody: unknown;

  set(key: string, value: unknown): void {
    this.values.set(key, value);
  }

  /** `$name` → its stashed value; anything else is returned as is. */
  lookup(key: string): unknown {
    if (!key.startsWith('$')) return key;
    const name = key.startsWith('${') && key.endsWith('}') ? key.slice(2, -1) : key.slice(1);
    if (name === 'body') return this.lastBody;
    if (!this.values.has(name)) throw new Error(`nothing is stashed under [${name}]`);
    return this.values.get(name);
  }

  /** Replaces stash references throughout a value: whole `$name` strings and keys, `${name}` inside strings. */
  resolve(value: unknown): unknown {
    if (typeof value === 'string') {
      if (/^\$\{?\w+\}?$/.test(value)) return this.lookup(value);
      return value.replace(/\$\{(\w+)\}/g, (_m, name: string) => String(this.lookup(`$${name}`)));
    }
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [String(this.resolve(k)), this.resolve(v)]));
    }
    return value;
  }
}
