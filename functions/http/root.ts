import { ES_VERSION } from '../../lib/domain/version.ts';
import { DEFAULT_MODEL_MEMORY_LIMIT_MIB } from '../../lib/domain/job/constants.ts';
import { humanMiB } from '../../lib/domain/units.ts';
import { httpFunction } from '../../lib/http/chain.ts';
import { config } from '../../lib/runtime/config.ts';
import { clusterUuid, getClusterSettings } from '../../lib/store/cluster.ts';

/** GET / and HEAD /: cluster info, the way the official clients check the product. */
const rootRoute = {
  params: [],
  handle: async () => {
    const c = config();
    return {
      status: 200,
      body: {
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
      },
    };
  },
};

/** GET _ml/info (spec A.4): defaults, limits and `upgrade_mode`. */
const infoRoute = {
  params: [],
  handle: async () => {
    const s = await getClusterSettings();
    const max = s.max_model_memory_limit_mib && s.max_model_memory_limit_mib > 0 ? s.max_model_memory_limit_mib : undefined;
    const defaultMml = max !== undefined && max < DEFAULT_MODEL_MEMORY_LIMIT_MIB ? max : DEFAULT_MODEL_MEMORY_LIMIT_MIB;
    const limits: Record<string, unknown> = {
      effective_max_model_memory_limit: humanMiB(max ?? 12 * 1024),
      total_ml_memory: `${24 * 1024}mb`,
    };
    if (max !== undefined) limits.max_model_memory_limit = humanMiB(max);
    return {
      status: 200,
      body: {
        defaults: {
          anomaly_detectors: {
            categorization_analyzer: {
              char_filter: ['first_line_with_letters'],
              tokenizer: 'ml_standard',
              filter: [
                {
                  type: 'stop',
                  stopwords: ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun',
                    'January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December',
                    'Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec', 'GMT', 'UTC'],
                },
                { type: 'limit', max_token_count: '100' },
              ],
            },
            model_memory_limit: humanMiB(defaultMml),
            categorization_examples_limit: 4,
            model_snapshot_retention_days: 10,
            daily_model_snapshot_retention_after_days: 1,
          },
          datafeeds: { scroll_size: 1000 },
        },
        upgrade_mode: s.upgrade_mode,
        native_code: { version: ES_VERSION.number, build_hash: ES_VERSION.build_hash },
        limits,
      },
    };
  },
};

export const handler = httpFunction('root', {
  'GET /': rootRoute,
  'HEAD /': rootRoute,
  'GET /_ml/info': infoRoute,
});
