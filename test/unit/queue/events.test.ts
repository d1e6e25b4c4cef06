import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { upgradeModeChangeEvent, type MlEvent } from '../../../lib/domain/events.ts';
import { resetConfig } from '../../../lib/runtime/config.ts';

process.env.TABLE_NAME = 'test-table';
process.env.COMMAND_QUEUE_URL = 'http://sqs.local/000000000000/commands.fifo';
const metrics = vi.hoisted(() => ({ publishEventsPublishFailed: vi.fn() }));
vi.mock('../../../lib/runtime/metrics.ts', () => metrics);
const eventBridge = mockClient(EventBridgeClient);
const { batchEntries, entrySize, MAX_BYTES_PER_CALL, publishEvents } = await import('../../../lib/queue/events.ts');

const origin = { clusterName: 'mlplane', nodeName: 'mlplane-0' };
const events = (n: number): MlEvent[] => Array.from({ length: n }, (_, i) => upgradeModeChangeEvent(origin, { enabled: i % 2 === 0, previous: i % 2 === 1, version: i, nowMs: i }));

describe('the events-out adapter (EventBridge)', () => {
  beforeEach(() => {
    eventBridge.reset();
    metrics.publishEventsPublishFailed.mockReset();
    delete process.env.EVENTS_FILE;
    process.env.EVENT_BUS_NAME = 'ml-alerts';
    resetConfig();
  });
  afterEach(() => {
    vi.useRealTimers();
    delete process.env.EVENT_BUS_NAME;
    resetConfig();
  });

  it('puts each event on the configured bus with source mlplane, its detail-type and its detail as JSON', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'a' }] });
    const [e] = events(1);
    await publishEvents([e as MlEvent]);
    expect(eventBridge).toHaveReceivedCommandWith(PutEventsCommand, {
      Entries: [{ Source: 'mlplane', DetailType: 'ML Upgrade Mode Change', Detail: JSON.stringify(e?.detail), EventBusName: 'ml-alerts' }],
    });
    expect(metrics.publishEventsPublishFailed).not.toHaveBeenCalled();
  });

  it('sends at most ten entries a call, in order', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
    await publishEvents(events(23));
    const calls = eventBridge.commandCalls(PutEventsCommand);
    expect(calls.map((c) => c.args[0].input.Entries?.length)).toEqual([10, 10, 3]);
    const ids = calls.flatMap((c) => c.args[0].input.Entries?.map((x) => JSON.parse(x.Detail ?? '{}').event_id));
    expect(ids).toEqual(events(23).map((e) => e.detail.event_id));
  });

  it('keeps each call under 256 KB', () => {
    const big = { Source: 'mlplane', DetailType: 'ML Anomaly Record', Detail: 'x'.repeat(100 * 1024) };
    expect(entrySize(big)).toBe(7 + 17 + 100 * 1024);
    expect(batchEntries([big, big, big, big]).map((b) => b.length)).toEqual([2, 2]);
    expect(entrySize({ ...big, Time: new Date() })).toBe(entrySize(big) + 14);
  });

  it('sends the entries that failed with a transient error code again, after a pause', async () => {
    vi.useFakeTimers();
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ EventId: 'a' }, { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }, { EventId: 'c' }] })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'b' }] });
    const sent = events(3);
    const done = publishEvents(sent);
    await vi.advanceTimersByTimeAsync(100);
    await done;
    const calls = eventBridge.commandCalls(PutEventsCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.args[0].input.Entries?.map((x) => JSON.parse(x.Detail ?? '{}').event_id)).toEqual([sent[1]?.detail.event_id]);
    expect(metrics.publishEventsPublishFailed).not.toHaveBeenCalled();
  });

  it('gives up on an entry after three retries, and counts it; a permanent error code is not retried', async () => {
    vi.useFakeTimers();
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
      FailedEntryCount: input.Entries.length,
      Entries: input.Entries.map((_, i) => (i === 0 ? { ErrorCode: 'InternalFailure', ErrorMessage: 'oops' } : { ErrorCode: 'MalformedDetail', ErrorMessage: 'bad' })),
    }));
    const done = publishEvents(events(2));
    await vi.advanceTimersByTimeAsync(100 + 200 + 400);
    await done;
    // One first call with both, then three retries of the transient one.
    expect(eventBridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries?.length)).toEqual([2, 1, 1, 1]);
    expect(metrics.publishEventsPublishFailed).toHaveBeenCalledWith(2);
  });

  it('never fails its caller: a call that throws is logged and counted', async () => {
    eventBridge.on(PutEventsCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    await expect(publishEvents(events(12))).resolves.toBeUndefined();
    expect(metrics.publishEventsPublishFailed).toHaveBeenCalledWith(12);
  });

  it('counts an entry over 256 KB as failed without sending it', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
    const [e] = events(1);
    const huge = { ...(e as MlEvent), detail: { ...(e as MlEvent).detail, padding: 'x'.repeat(MAX_BYTES_PER_CALL) } } as unknown as MlEvent;
    await publishEvents([huge, e as MlEvent]);
    expect(eventBridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries?.length)).toEqual([1]);
    expect(metrics.publishEventsPublishFailed).toHaveBeenCalledWith(1);
  });
});

describe('the events-out adapter (local file)', () => {
  beforeEach(() => {
    eventBridge.reset();
    resetConfig();
  });
  afterEach(() => {
    delete process.env.EVENTS_FILE;
    resetConfig();
  });

  it('appends one EventBridge envelope a line to EVENTS_FILE, and calls no AWS API', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mlplane-events-')), 'events.jsonl');
    process.env.EVENTS_FILE = file;
    resetConfig();
    const sent = events(2);
    await publishEvents(sent, Date.UTC(2026, 10, 26, 3, 0, 0, 123));
    await publishEvents(events(1));
    const lines = readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toEqual({
      version: '0',
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      'detail-type': 'ML Upgrade Mode Change',
      source: 'mlplane',
      account: expect.any(String),
      time: '2026-11-26T03:00:00Z',
      region: expect.any(String),
      resources: [],
      detail: sent[0]?.detail,
    });
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it('counts the events when the file cannot be written, and does not throw', async () => {
    process.env.EVENTS_FILE = join(tmpdir(), 'no-such-folder-mlplane', 'x', 'events.jsonl');
    resetConfig();
    metrics.publishEventsPublishFailed.mockReset();
    await expect(publishEvents(events(2))).resolves.toBeUndefined();
    expect(metrics.publishEventsPublishFailed).toHaveBeenCalledWith(2);
  });
});
