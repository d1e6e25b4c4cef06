import { Client } from '@elastic/elasticsearch';
import { describe, expect, inject, it } from 'vitest';
import { DEFAULT_MAX_BODY_BYTES } from '../../lib/runtime/config.ts';
import { uniqueId } from './client.ts';

// No retry (a retried `_data` would post twice) and no client timeout short of the server's own answer.
const es = new Client({ node: inject('esUrl'), auth: { username: 'elastic', password: inject('elasticPassword') }, maxRetries: 0, requestTimeout: 120_000 });
const T0 = Date.UTC(2026, 0, 5);
const HOSTS = 100;

/** 100,000 records: 100 hosts once a minute for 1,000 minutes, as NDJSON (about 4.8 MB). */
function body(): string {
  const lines: string[] = [];
  for (let m = 0; m < 1_000; m++) {
    for (let h = 0; h < HOSTS; h++)
      lines.push(JSON.stringify({ time: T0 + m * 60_000, host: `h-${String(h).padStart(3, '0')}`, cpu: Math.round(4000 + h * 10 + ((m * 31 + h * 17) % 100)) / 100 }));
  }
  return `${lines.join('\n')}\n`;
}

describe('a large _data post', () => {
  it('of 100,000 records (about 5 MB) is answered with its data counts, not a 202 task', async () => {
    const job_id = uniqueId('large-post');
    await es.ml.putJob({
      job_id,
      analysis_config: { bucket_span: '5m', detectors: [{ function: 'mean', field_name: 'cpu', by_field_name: 'host' }] },
      data_description: { time_field: 'time', time_format: 'epoch_ms' },
      // A small limit, so the jobs other test files leave open never leave this one without ML memory.
      analysis_limits: { model_memory_limit: '32mb' },
    });
    await es.ml.openJob({ job_id });
    const ndjson = body();
    expect(Buffer.byteLength(ndjson)).toBeGreaterThan(4_500_000);
    expect(Buffer.byteLength(ndjson)).toBeLessThanOrEqual(DEFAULT_MAX_BODY_BYTES);

    const res = await es.transport.request<Record<string, unknown>>({ method: 'POST', path: `/_ml/anomaly_detectors/${job_id}/_data`, bulkBody: ndjson }, { meta: true });

    expect(res.statusCode).toBe(200);
    expect(res.body).toMatchObject({ job_id, processed_record_count: 100_000, input_record_count: 100_000, input_bytes: expect.any(Number) });
    expect(res.body).not.toHaveProperty('task');
    const stats = await es.ml.getJobStats({ job_id });
    expect(stats.jobs[0]?.data_counts.processed_record_count).toBe(100_000);
    await es.ml.closeJob({ job_id, force: true });
  });
});
