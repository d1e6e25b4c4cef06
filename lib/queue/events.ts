import { randomUUID } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { EVENT_SOURCE, type MlEvent } from '../domain/events.ts';
import { config } from '../runtime/config.ts';
import { logger } from '../runtime/log.ts';
import { publishEventsPublishFailed } from '../runtime/metrics.ts';

/*
 * Events out, the adapter: `PutEvents` to the configured bus (`EVENT_BUS_NAME`), or JSON
 * lines appended to a file (`EVENTS_FILE`, the local runtime). Publishing comes after the fact
 * is committed, so it never fails the use case: what cannot be published is logged and
 * counted (`EventsPublishFailed`), and the use case goes on.
 */

/** PutEvents takes at most 10 entries a call. */
export const MAX_ENTRIES_PER_CALL = 10;
/** PutEvents takes at most 256 KB a call (the entries' sizes summed). */
export const MAX_BYTES_PER_CALL = 256 * 1024;
/** Rounds of retry for entries that failed with a transient error code; waits 100, 200, 400 ms. */
export const ENTRY_RETRIES = 3;
const RETRY_BASE_MS = 100;
/** Entry error codes that a later call can cure; others (MalformedDetail, AccessDeniedException, …) are not retried. */
const TRANSIENT_CODES = new Set(['InternalFailure', 'InternalException', 'ThrottlingException', 'ServiceUnavailable']);

let client: EventBridgeClient | undefined;

/** The process-wide EventBridge client (default provider chain; `AWS_ENDPOINT_URL_EVENTBRIDGE` to point elsewhere). */
export function eventBridge(): EventBridgeClient {
  client ??= new EventBridgeClient({ maxAttempts: 3 });
  return client;
}

/**
 * The size EventBridge counts for an entry, bytes: UTF-8 of Source, DetailType, Detail and
 * each Resource, plus 14 when Time is set ("Calculating Amazon EventBridge PutEvents event
 * entry size").
 */
export function entrySize(e: PutEventsRequestEntry): number {
  let n = e.Time ? 14 : 0;
  for (const s of [e.Source, e.DetailType, e.Detail, ...(e.Resources ?? [])]) if (s) n += Buffer.byteLength(s, 'utf8');
  return n;
}

/** Groups entries into PutEvents calls of at most 10 entries and 256 KB, in order. An entry over 256 KB alone goes in a call of its own (EventBridge refuses it; it is counted as failed). */
export function batchEntries(entries: PutEventsRequestEntry[]): PutEventsRequestEntry[][] {
  const out: PutEventsRequestEntry[][] = [];
  let cur: PutEventsRequestEntry[] = [];
  let bytes = 0;
  for (const e of entries) {
    const size = entrySize(e);
    if (cur.length > 0 && (cur.length === MAX_ENTRIES_PER_CALL || bytes + size > MAX_BYTES_PER_CALL)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(e);
    bytes += size;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/**
 * Publishes events; never throws. With `EVENTS_FILE` set, each event is appended to that file
 * as one JSON line in the EventBridge envelope shape (`version`, `id`, `detail-type`, `source`,
 * `account`, `time`, `region`, `resources`, `detail`), all in one append. Otherwise `PutEvents`
 * to `EVENT_BUS_NAME` in calls of ≤ 10 entries / 256 KB; entries that come back with a transient
 * `ErrorCode` are sent again up to {@link ENTRY_RETRIES} times (100/200/400 ms apart); entries
 * that still fail, entries over 256 KB and calls that throw (after the SDK's own retries) are
 * logged with their detail-type and `event_id` and counted in `EventsPublishFailed`.
 * @param events in the order they happened (kept within a call and across calls)
 * @param nowMs the envelope's `time` in the file (EventBridge sets its own), epoch ms
 */
export async function publishEvents(events: readonly MlEvent[], nowMs = Date.now()): Promise<void> {
  if (events.length === 0) return;
  let failed = 0;
  try {
    const file = config().eventsFile;
    if (file !== undefined) {
      await appendFile(file, events.map((e) => `${JSON.stringify(envelope(e, nowMs))}\n`).join(''));
      return;
    }
    const bus = config().eventBusName;
    const entries: PutEventsRequestEntry[] = events.map((e) => ({ Source: EVENT_SOURCE, DetailType: e.detailType, Detail: JSON.stringify(e.detail), EventBusName: bus }));
    for (const batch of batchEntries(entries)) failed += await putBatch(batch);
  } catch (err) {
    failed = events.length;
    logger.error('events could not be published', { count: events.length, eventIds: events.map((e) => e.detail.event_id), err });
  }
  if (failed > 0) {
    try {
      publishEventsPublishFailed(failed);
    } catch (err) {
      logger.warn('EventsPublishFailed metric could not be written', { err });
    }
  }
}

/** One PutEvents call and its retries of failed entries. @returns how many entries were not published */
async function putBatch(batch: PutEventsRequestEntry[]): Promise<number> {
  if (batch.length === 1 && entrySize(batch[0] as PutEventsRequestEntry) > MAX_BYTES_PER_CALL) {
    logFailed(batch, ['EntryTooLarge']);
    return 1;
  }
  return sendRound(batch, 0);
}

/** One round of {@link putBatch}: sends `pending`, then the entries that failed transiently again after a pause (round `attempt`, from 0). @returns entries lost */
async function sendRound(pending: PutEventsRequestEntry[], attempt: number): Promise<number> {
  let out: { FailedEntryCount?: number; Entries?: { ErrorCode?: string; ErrorMessage?: string }[] };
  try {
    out = await eventBridge().send(new PutEventsCommand({ Entries: pending }));
  } catch (err) {
    logger.error('PutEvents failed', { count: pending.length, err, eventIds: pending.map(eventIdOf) });
    return pending.length;
  }
  if (!out.FailedEntryCount) return 0;
  const results = out.Entries ?? [];
  const retry: PutEventsRequestEntry[] = [];
  const lost: PutEventsRequestEntry[] = [];
  const codes: string[] = [];
  pending.forEach((e, i) => {
    const code = results[i]?.ErrorCode;
    if (!code) return;
    if (TRANSIENT_CODES.has(code) && attempt < ENTRY_RETRIES) retry.push(e);
    else {
      lost.push(e);
      codes.push(`${code}: ${results[i]?.ErrorMessage ?? ''}`);
    }
  });
  if (lost.length > 0) logFailed(lost, codes);
  if (retry.length === 0) return lost.length;
  await new Promise((r) => setTimeout(r, RETRY_BASE_MS * 2 ** attempt));
  return lost.length + (await sendRound(retry, attempt + 1));
}

function eventIdOf(e: PutEventsRequestEntry): string | undefined {
  try {
    return (JSON.parse(e.Detail ?? '{}') as { event_id?: string }).event_id;
  } catch {
    return undefined;
  }
}

function logFailed(entries: PutEventsRequestEntry[], codes: string[]): void {
  logger.error('events not published', { count: entries.length, errors: codes, events: entries.map((e) => ({ detailType: e.DetailType, eventId: eventIdOf(e) })) });
}

/** The EventBridge envelope of an event, as a rule's target receives it (the local file's line). */
export function envelope(e: MlEvent, nowMs: number): Record<string, unknown> {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': e.detailType,
    source: EVENT_SOURCE,
    // The local runtime's account (fauxqs and the local Lambda context use the same).
    account: process.env.AWS_ACCOUNT_ID ?? '000000000000',
    time: new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: process.env.AWS_REGION ?? 'us-east-1',
    resources: [],
    detail: e.detail,
  };
}
