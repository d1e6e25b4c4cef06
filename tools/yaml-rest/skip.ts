/** Runner features this runner implements (Elasticsearch's `Features` names). */
export const SUPPORTED_FEATURES = new Set([
  'headers',
  'warnings',
  'allowed_warnings',
  'warnings_regex',
  'allowed_warnings_regex',
  'catch_unauthorized',
  'stash_in_path',
  'stash_in_key',
  'close_to',
]);

const asList = (v: unknown): string[] => (v == null ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

function parseVersion(v: string): number[] {
  return v
    .trim()
    .split(/[.-]/)
    .slice(0, 3)
    .map((x) => Number.parseInt(x, 10) || 0);
}

function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < 3; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** `"all"`, `" - 7.99.99"`, `"8.0.0 - "`, `"7.0.0 - 7.5.0, 8.1.0 - 8.2.0"`: does the server version fall in one? */
export function versionInRanges(ranges: string, serverVersion: string): boolean {
  if (ranges.trim() === 'all') return true;
  const server = parseVersion(serverVersion);
  return ranges.split(',').some((range) => {
    const [lo = '', hi = ''] = range.split(' - ').map((s) => s.trim());
    const aboveLow = lo === '' || compareVersions(server, parseVersion(lo)) >= 0;
    const belowHigh = hi === '' || compareVersions(server, parseVersion(hi)) <= 0;
    return aboveLow && belowHigh;
  });
}

/**
 * Decides a `skip` or `requires` step as Elasticsearch's runner does; returns the reason to skip,
 * or undefined to run. `features` / `test_runner_features` this runner lacks skip (and are
 * reported); `version` ranges are checked against the server's `version.number`;
 * `awaits_fix` always skips.
 *
 * mlplane reproduces the current Elasticsearch, so it is taken to have every cluster feature:
 * `requires.cluster_features` runs, `skip.cluster_features` skips. `os` conditions are ignored.
 */
export function skipReason(kind: 'skip' | 'requires', arg: unknown, serverVersion: string): string | undefined {
  const spec = (arg ?? {}) as Record<string, unknown>;
  const features = [...asList(spec.features), ...asList(spec.test_runner_features)];
  const missing = features.filter((f) => !SUPPORTED_FEATURES.has(f));
  if (missing.length > 0) return `runner feature not supported: ${missing.join(', ')}`;
  if (kind === 'requires') return undefined;
  if (spec.awaits_fix) return `awaits fix: ${String(spec.awaits_fix)}`;
  if (typeof spec.version === 'string' && versionInRanges(spec.version, serverVersion)) return `version ${serverVersion} in [${spec.version}]: ${String(spec.reason ?? '')}`;
  if (asList(spec.cluster_features).length > 0) return `cluster features [${asList(spec.cluster_features).join(', ')}]: ${String(spec.reason ?? '')}`;
  return undefined;
}
