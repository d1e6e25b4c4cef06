import { IllegalArgumentError, StoredSizeLimitError, XContentParseLocatedError } from '../domain/errors.ts';
import { tokenOf } from '../domain/json/located-tree.ts';
import { parseJsonBody } from '../domain/json/plain-values.ts';
import { readJson } from '../domain/json/tokenizer.ts';
import { jsonBytes, largestPath, MAX_CLUSTER_SETTINGS_BYTES, refuseOversizedBody } from '../domain/limits.ts';
import { bytesToMiB, parseByteSize, parseTimeValue, type TimeValue } from '../domain/units.ts';
import { type ClusterSettings, getClusterSettings, putClusterSettings } from '../store/cluster.ts';

/** Elasticsearch's default and bounds of `xpack.ml.max_open_jobs` (MachineLearning.MAX_OPEN_JOBS_PER_NODE). */
export const DEFAULT_MAX_OPEN_JOBS = 512;
const MAX_OPEN_JOBS_LIMIT = 512;

/** The mlplane cluster setting of the idle-job auto-close (lib/app/maintenance.ts). */
export const IDLE_JOB_AUTO_CLOSE_TIMEOUT = 'xpack.ml.idle_job_auto_close_timeout';

/** The dynamic cluster settings mlplane knows, with their validators (value → normalised string). */
const KNOWN: Record<string, (value: string) => string> = {
  // EnableAssignmentDecider: `all` (default) or `none`; with `none` no datafeed can start (start-datafeed.ts).
  'cluster.persistent_tasks.allocation.enable': (v) => {
    const value = v.toLowerCase();
    if (value !== 'all' && value !== 'none')
      throw new IllegalArgumentError(`No enum constant org.elasticsearch.persistent.decider.EnableAssignmentDecider.Allocation.${v.toUpperCase()}`);
    return value;
  },
  'xpack.ml.max_model_memory_limit': (v) => {
    parseByteSize(v, 'xpack.ml.max_model_memory_limit');
    return v;
  },
  'xpack.ml.max_open_jobs': (v) => {
    const n = Number(v);
    if (!/^-?\d+$/.test(v)) throw new IllegalArgumentError(`Failed to parse value [${v}] for setting [xpack.ml.max_open_jobs]`);
    if (n < 1) throw new IllegalArgumentError(`Failed to parse value [${v}] for setting [xpack.ml.max_open_jobs] must be >= 1`);
    if (n > MAX_OPEN_JOBS_LIMIT) throw new IllegalArgumentError(`Failed to parse value [${v}] for setting [xpack.ml.max_open_jobs] must be <= ${MAX_OPEN_JOBS_LIMIT}`);
    return String(n);
  },
  // mlplane's own (Elasticsearch has no idle auto-close): how long an open job with no data and
  // no started datafeed stays open before the nightly maintenance closes it. `-1` (the default)
  // disables it; otherwise at least 1s, with the message of Elasticsearch's time settings' minimum.
  [IDLE_JOB_AUTO_CLOSE_TIMEOUT]: (v) => {
    const tv = parseTimeValue(v, IDLE_JOB_AUTO_CLOSE_TIMEOUT);
    if (tv.ms !== -1 && tv.ms < 1000) throw new IllegalArgumentError(`failed to parse value [${v}] for setting [${IDLE_JOB_AUTO_CLOSE_TIMEOUT}], must be >= [1s]`);
    return v;
  },
};

/** Log4j's levels, the values Elasticsearch's `logger.<name>` settings take. */
const LOG4J_LEVELS = new Set(['OFF', 'FATAL', 'ERROR', 'WARN', 'INFO', 'DEBUG', 'TRACE', 'ALL']);

/**
 * Elasticsearch's dynamic `logger.<name>` settings (`Loggers.LOG_LEVEL_SETTING`): accepted and
 * kept, as scripts and Elasticsearch's own tests set them, with Log4j's level check
 * (`Level.valueOf`, case-insensitive). mlplane's own log level is `LOG_LEVEL`; these change nothing.
 */
function loggerLevel(v: string): string {
  const level = v.trim().toUpperCase();
  if (!LOG4J_LEVELS.has(level)) throw new IllegalArgumentError(`Unknown level constant [${level}].`);
  return v;
}

/** Flattens `{"xpack":{"ml":{"max_open_jobs":2}}}` and `{"xpack.ml.max_open_jobs":2}` alike; null means reset. */
function flatten(obj: Record<string, unknown>, prefix = '', out: Record<string, string | null> = {}): Record<string, string | null> {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v as Record<string, unknown>, key, out);
    else out[key] = v === null ? null : String(v);
  }
  return out;
}

/** Nested rendering of flat settings, as `GET/PUT _cluster/settings` answer without `flat_settings`. */
export function nest(flat: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(flat)) {
    const parts = k.split('.');
    let node = out;
    for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1] as string] = v;
  }
  return out;
}

/** The effective value of a setting: transient over persistent. */
function effective(s: ClusterSettings, key: string): string | undefined {
  return s.transient[key] ?? s.persistent[key];
}

/** True when `cluster.persistent_tasks.allocation.enable` is `none` (transient over persistent): no job opens and no datafeed starts. */
export async function persistentTaskAllocationDisabled(): Promise<boolean> {
  return effective(await getClusterSettings(), 'cluster.persistent_tasks.allocation.enable') === 'none';
}

/** `xpack.ml.max_open_jobs` in force (default 512). */
export function maxOpenJobs(s: ClusterSettings): number {
  const v = effective(s, 'xpack.ml.max_open_jobs');
  return v === undefined ? DEFAULT_MAX_OPEN_JOBS : Number(v);
}

/** `xpack.ml.idle_job_auto_close_timeout` in force (transient over persistent), or undefined when disabled (unset or `-1`). */
export function idleJobAutoCloseTimeout(s: ClusterSettings): TimeValue | undefined {
  const v = effective(s, IDLE_JOB_AUTO_CLOSE_TIMEOUT);
  if (v === undefined) return undefined;
  const tv = parseTimeValue(v, IDLE_JOB_AUTO_CLOSE_TIMEOUT);
  return tv.ms > 0 ? tv : undefined;
}

/**
 * PUT _cluster/settings: `{persistent?: {...}, transient?: {...}}` with flat or nested keys;
 * null resets a key. Only mlplane's ML settings are recognised; any other key is 400
 * "persistent setting [<k>], not recognized" and nothing is changed. Settings that cannot be
 * stored (over {@link MAX_CLUSTER_SETTINGS_BYTES} as JSON) are a 400 `illegal_argument_exception`.
 * @returns `{acknowledged, persistent, transient}` with the settings that changed, nested
 */
export async function updateClusterSettings(source: string, flatSettings: boolean): Promise<Record<string, unknown>> {
  refuseOversizedBody(source, MAX_CLUSTER_SETTINGS_BYTES, 'the cluster settings', (b) => ({ value: b, bytes: jsonBytes(b) }));
  // ClusterUpdateSettingsRequest.PARSER (strict ObjectParser, persistent/transient declared as objects).
  const parser = 'cluster_update_settings_request';
  const { root } = readJson(source);
  if (root && root.kind !== 'object') throw new XContentParseLocatedError(root.start, `[${parser}] Expected START_OBJECT but was: ${tokenOf(root)}`);
  for (const e of root?.kind === 'object' ? root.entries : []) {
    if (e.key !== 'persistent' && e.key !== 'transient') throw new XContentParseLocatedError(e.keyPos, `[${parser}] unknown field [${e.key}]`);
    if (e.value.kind !== 'object') {
      throw new XContentParseLocatedError(e.value.start, `[${parser}] ${e.key} doesn't support values of type: ${tokenOf(e.value)}`);
    }
  }
  const body = parseJsonBody(source);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new XContentParseLocatedError(null, `[${parser}] Expected START_OBJECT but was: null`);
  const req = body as Record<string, unknown>;
  const changes: Record<'persistent' | 'transient', Record<string, string | null>> = {
    persistent: flatten((req.persistent as Record<string, unknown>) ?? {}),
    transient: flatten((req.transient as Record<string, unknown>) ?? {}),
  };
  for (const scope of ['persistent', 'transient'] as const) {
    for (const [k, v] of Object.entries(changes[scope])) {
      const validate = KNOWN[k] ?? (k.startsWith('logger.') ? loggerLevel : undefined);
      if (!validate) throw new IllegalArgumentError(`${scope} setting [${k}], not recognized`);
      if (v !== null) changes[scope][k] = validate(v);
    }
  }
  for (let attempt = 0; attempt < 10; attempt++) {
    const current = await getClusterSettings();
    const next: ClusterSettings = { ...current, persistent: { ...current.persistent }, transient: { ...current.transient }, version: current.version + 1 };
    for (const scope of ['persistent', 'transient'] as const) {
      for (const [k, v] of Object.entries(changes[scope])) {
        if (v === null) delete next[scope][k];
        else next[scope][k] = v;
      }
    }
    const mml = effective(next, 'xpack.ml.max_model_memory_limit');
    next.max_model_memory_limit_mib = mml === undefined ? undefined : bytesToMiB(parseByteSize(mml, 'xpack.ml.max_model_memory_limit').bytes);
    // A byte size may carry any amount of blank space (Elasticsearch trims it, and so keeps it as given).
    const bytes = jsonBytes(next);
    if (bytes > MAX_CLUSTER_SETTINGS_BYTES) {
      throw new StoredSizeLimitError(
        largestPath({ persistent: next.persistent, transient: next.transient }, MAX_CLUSTER_SETTINGS_BYTES, 'persistent'),
        'the cluster settings',
        bytes,
        MAX_CLUSTER_SETTINGS_BYTES,
      );
    }
    if (await putClusterSettings(next)) {
      const shown = (scope: 'persistent' | 'transient') => {
        const set = Object.fromEntries(Object.entries(changes[scope]).filter((e): e is [string, string] => e[1] !== null));
        return flatSettings ? set : nest(set);
      };
      return { acknowledged: true, persistent: shown('persistent'), transient: shown('transient') };
    }
  }
  throw new IllegalArgumentError('cluster settings changed concurrently; retry');
}

/** GET _cluster/settings: `{persistent, transient}`. */
export async function readClusterSettings(flatSettings: boolean): Promise<Record<string, unknown>> {
  const s = await getClusterSettings();
  return flatSettings ? { persistent: s.persistent, transient: s.transient } : { persistent: nest(s.persistent), transient: nest(s.transient) };
}
