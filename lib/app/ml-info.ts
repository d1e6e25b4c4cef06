import {
  DEFAULT_CATEGORIZATION_EXAMPLES_LIMIT,
  DEFAULT_DAILY_MODEL_SNAPSHOT_RETENTION_AFTER_DAYS,
  DEFAULT_MODEL_MEMORY_LIMIT_MIB,
  DEFAULT_MODEL_SNAPSHOT_RETENTION_DAYS,
  STOP_WORDS,
} from '../domain/job/constants.ts';
import { humanMiB } from '../domain/units.ts';
import { ES_VERSION } from '../domain/version.ts';
import { config } from '../runtime/config.ts';
import { clusterUuid, getClusterSettings } from '../store/cluster.ts';
import { upgradeModeDetails } from './upgrade-mode.ts';

/** The ML node's memory as `_ml/info` reports it: the logical node of job stats has 24 GiB, half of it for models. */
export const TOTAL_ML_MEMORY_MIB = 24 * 1024;
const DEFAULT_MAX_MODEL_MEMORY_LIMIT_MIB = 12 * 1024;

/** GET / (and HEAD /): the cluster info the official clients read to check the product (`name`, `cluster_name`, `cluster_uuid`, `version`, `tagline`). */
export async function clusterInfo(): Promise<Record<string, unknown>> {
  const c = config();
  return {
    name: c.nodeName,
    cluster_name: c.clusterName,
    cluster_uuid: await clusterUuid(),
    version: {
      number: ES_VERSION.number,
      build_flavor: ES_VERSION.build_flavor,
      build_type: 'mlplane',
      build_hash: ES_VERSION.build_hash,
      build_date: ES_VERSION.build_date,
      build_snapshot: false,
      lucene_version: ES_VERSION.lucene_version,
      minimum_wire_compatibility_version: ES_VERSION.minimum_wire_compatibility_version,
      minimum_index_compatibility_version: ES_VERSION.minimum_index_compatibility_version,
    },
    tagline: 'You Know, for Search',
  };
}

/**
 * GET _ml/info (spec A.4): the job defaults (`model_memory_limit` capped by
 * `xpack.ml.max_model_memory_limit` when that is lower), the limits and `upgrade_mode`.
 * While upgrade mode is on, mlplane adds `upgrade_mode_since` (ISO-8601),
 * `upgrade_mode_expires` (when enabled with `expires_in`) and `parked_commands` after it.
 */
export async function mlInfo(): Promise<Record<string, unknown>> {
  const s = await getClusterSettings();
  const max = s.max_model_memory_limit_mib && s.max_model_memory_limit_mib > 0 ? s.max_model_memory_limit_mib : undefined;
  const defaultMml = max !== undefined && max < DEFAULT_MODEL_MEMORY_LIMIT_MIB ? max : DEFAULT_MODEL_MEMORY_LIMIT_MIB;
  const limits: Record<string, unknown> = {
    effective_max_model_memory_limit: humanMiB(max ?? DEFAULT_MAX_MODEL_MEMORY_LIMIT_MIB),
    total_ml_memory: `${TOTAL_ML_MEMORY_MIB}mb`,
  };
  if (max !== undefined) limits.max_model_memory_limit = humanMiB(max);
  return {
    defaults: {
      anomaly_detectors: {
        // Written out rather than standardCategorizationAnalyzer(): that one renders filters with sorted keys, as a job's config does; _ml/info keeps this order.
        categorization_analyzer: {
          char_filter: ['first_line_with_letters'],
          tokenizer: 'ml_standard',
          filter: [
            {
              type: 'stop',
              stopwords: [...STOP_WORDS],
            },
            { type: 'limit', max_token_count: '100' },
          ],
        },
        model_memory_limit: humanMiB(defaultMml),
        categorization_examples_limit: DEFAULT_CATEGORIZATION_EXAMPLES_LIMIT,
        model_snapshot_retention_days: DEFAULT_MODEL_SNAPSHOT_RETENTION_DAYS,
        daily_model_snapshot_retention_after_days: DEFAULT_DAILY_MODEL_SNAPSHOT_RETENTION_AFTER_DAYS,
      },
      datafeeds: { scroll_size: 1000 },
    },
    upgrade_mode: s.upgrade_mode,
    ...(await upgradeModeDetails(s)),
    native_code: { version: ES_VERSION.number, build_hash: ES_VERSION.build_hash },
    limits,
  };
}
