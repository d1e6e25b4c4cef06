import { Client, errors } from '@elastic/elasticsearch';
import { inject } from 'vitest';

/** The official Elasticsearch client, pointed at the local system started by globalSetup. */
export function esClient(): Client {
  return new Client({ node: inject('esUrl'), auth: { username: 'elastic', password: inject('elasticPassword') } });
}

/** Awaits a call that must fail, returning the Elasticsearch error (status and body). */
export async function esError(p: Promise<unknown>): Promise<{ status: number; type: string; reason: string; body: any }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof errors.ResponseError) {
      const body = err.meta.body as any;
      return { status: err.meta.statusCode ?? 0, type: body?.error?.type, reason: body?.error?.reason, body };
    }
    throw err;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** A unique job id per test, so tests share one system without colliding. */
let n = 0;
export const uniqueId = (prefix: string): string => `${prefix}-${process.pid}-${Date.now().toString(36)}-${n++}`;

/** Hourly count records for `hours` hours from `startMs`, `doc_count` per record, as the seed example posts them. */
export function hourlyCounts(startMs: number, hours: number, count: (h: number) => number): { timestamp: number; doc_count: number }[] {
  return Array.from({ length: hours }, (_, h) => ({ timestamp: startMs + h * 3_600_000, doc_count: count(h) }));
}
