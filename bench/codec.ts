/**
 * Codec benchmark: the compression ratio and CPU time of the codecs a `_data` payload chunk and
 * a result part could be stored with, on the data shapes they hold, so the choice in
 * `lib/store/commands.ts` and `lib/store/result-parts.ts` (Brotli quality 5) can be checked.
 *
 * - **payload, 1 series**: a 10,000-record `_data` body of the lookback shape (`{"timestamp",
 *   "value"}` NDJSON, a record every 5 minutes), as `bench/cost.ts` posts it;
 * - **payload, 100 series**: a 10,000-record body of the end-to-end shape (100 hosts);
 * - **result part**: ~512 KB of one-record-per-bucket bucket documents (a lookback's part: the
 *   bucket, its `bucket_time` influencer, no records), as `packBuckets` serializes them.
 *
 * For each codec: stored bytes, ratio (raw ÷ stored), compression and decompression time per MB
 * of raw input (median of `CODEC_RUNS`, default 7, synchronous zlib calls in this thread). No
 * goal: the figures are the ratios of Brotli 5 to what was used before (DEFLATE level 1 for
 * payloads, level 6 for parts), in bytes and in compression CPU, measured in the same run.
 * Writes `bench/results/codec.json`. Run: `npx tsx bench/codec.ts`.
 */
import { brotliCompressSync, brotliDecompressSync, constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { rng, round1, runMain, writeResult } from './lib.ts';

const RUNS = Number(process.env.CODEC_RUNS ?? 7);
const T0 = Date.UTC(2026, 0, 5);

function lookbackPayload(): Buffer {
  const lines = Array.from({ length: 10_000 }, (_, n) =>
    JSON.stringify({ timestamp: T0 + n * 300_000, value: 100 + 10 * Math.sin((2 * Math.PI * n) / 288) + ((n * 7919) % 100) / 50 }),
  );
  return Buffer.from(`${lines.join('\n')}\n`);
}

function manySeriesPayload(): Buffer {
  const lines = Array.from({ length: 10_000 }, (_, k) => {
    const m = Math.floor(k / 100);
    const h = k % 100;
    const noise = (((m * 7919 + h * 104729) % 1000) / 1000 - 0.5) * 4;
    return JSON.stringify({ timestamp: T0 + m * 60_000, host: `host-${String(h).padStart(3, '0')}`, value: 50 + h * 0.5 + 10 * Math.sin((2 * Math.PI * m) / 1440) + noise });
  });
  return Buffer.from(`${lines.join('\n')}\n`);
}

/**
 * A part of a one-series lookback: bucket documents as the model writes them, up to ~512 KB of
 * JSON (about 1,040 buckets). Past its warm-up a lookback's buckets score 0 with a
 * `bucket_time` probability that is a full-precision double between about 0.5 and 1 (what
 * `bench/cost.ts`'s parts hold): drawn here, as it dominates what is left after compression.
 */
function resultPart(): Buffer {
  const entries: string[] = [];
  const draw = rng(12);
  let bytes = 0;
  for (let i = 0; bytes < 512 * 1024; i++) {
    const timestamp = T0 + i * 300_000;
    const probability = 0.5 + draw() / 2;
    const e = JSON.stringify({
      job_id: 'bench-cost-lookback',
      timestamp,
      result_type: 'bucket',
      bucket_span: 300,
      anomaly_score: 0,
      initial_anomaly_score: 0,
      event_count: 1,
      is_interim: false,
      processing_time_ms: 0,
      bucket_influencers: [
        {
          job_id: 'bench-cost-lookback',
          result_type: 'bucket_influencer',
          influencer_field_name: 'bucket_time',
          initial_anomaly_score: 0,
          anomaly_score: 0,
          raw_anomaly_score: 0,
          probability,
          timestamp,
          bucket_span: 300,
          is_interim: false,
        },
      ],
      records: [],
    });
    entries.push(e);
    bytes += e.length + 1;
  }
  return Buffer.from(`[${entries.join(',')}]`);
}

const brotli = (quality: number) => (b: Buffer) =>
  brotliCompressSync(b, {
    params: { [constants.BROTLI_PARAM_QUALITY]: quality, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT, [constants.BROTLI_PARAM_SIZE_HINT]: b.length },
  });

const codecs: Record<string, { enc: (b: Buffer) => Buffer; dec: (z: Buffer) => Buffer }> = {
  'deflate-raw 1': { enc: (b) => deflateRawSync(b, { level: 1 }), dec: inflateRawSync },
  'deflate-raw 6': { enc: (b) => deflateRawSync(b, { level: 6 }), dec: inflateRawSync },
  'brotli 4': { enc: brotli(4), dec: brotliDecompressSync },
  'brotli 5': { enc: brotli(5), dec: brotliDecompressSync },
  'brotli 6': { enc: brotli(6), dec: brotliDecompressSync },
};

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function measure(raw: Buffer): Record<string, { bytes: number; ratio: number; compressMsPerMB: number; decompressMsPerMB: number }> {
  const out: Record<string, { bytes: number; ratio: number; compressMsPerMB: number; decompressMsPerMB: number }> = {};
  const mb = raw.length / 1e6;
  for (const [name, { enc, dec }] of Object.entries(codecs)) {
    const encMs: number[] = [];
    const decMs: number[] = [];
    let z = enc(raw);
    for (let i = 0; i < RUNS; i++) {
      let t = performance.now();
      z = enc(raw);
      encMs.push(performance.now() - t);
      t = performance.now();
      if (!dec(z).equals(raw)) throw new Error(`${name}: round trip changed the bytes`);
      decMs.push(performance.now() - t);
    }
    out[name] = { bytes: z.length, ratio: round1(raw.length / z.length), compressMsPerMB: round1(median(encMs) / mb), decompressMsPerMB: round1(median(decMs) / mb) };
  }
  return out;
}

async function main(): Promise<void> {
  const inputs = { payloadOneSeries: lookbackPayload(), payloadManySeries: manySeriesPayload(), resultPart: resultPart() };
  const results: Record<string, unknown> = { runs: RUNS };
  const measured: Record<string, ReturnType<typeof measure>> = {};
  for (const [name, raw] of Object.entries(inputs)) {
    measured[name] = measure(raw);
    results[name] = { rawBytes: raw.length, codecs: measured[name] };
  }
  const before = { payloadOneSeries: 'deflate-raw 1', payloadManySeries: 'deflate-raw 1', resultPart: 'deflate-raw 6' } as const;
  const label = { payloadOneSeries: '_data payload, 1 series', payloadManySeries: '_data payload, 100 series', resultPart: 'result part, 1 record per bucket' } as const;
  const ratio = (a: number | undefined, b: number | undefined): number | undefined => (a !== undefined && b ? Math.round((a / b) * 100) / 100 : undefined);
  writeResult('codec', {
    results,
    figures: (Object.keys(inputs) as (keyof typeof inputs)[]).flatMap((k) => [
      { figure: `${label[k]}: bytes stored, Brotli 5 ÷ ${before[k]} (before)`, measured: ratio(measured[k]?.['brotli 5']?.bytes, measured[k]?.[before[k]]?.bytes), unit: '×' },
      {
        figure: `${label[k]}: compression CPU, Brotli 5 ÷ ${before[k]} (before)`,
        measured: ratio(measured[k]?.['brotli 5']?.compressMsPerMB, measured[k]?.[before[k]]?.compressMsPerMB),
        unit: '×',
      },
    ]),
  });
}

await runMain(main);
