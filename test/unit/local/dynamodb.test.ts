import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { processCpuTimeMs, waitForDynamoDbLocal, type ReadinessWatch } from '../../../lib/local/dynamodb.ts';

/** A JVM that answers after `readyAfterMs` of fake time, using CPU while `busy()` says so. */
function jvm(readyAfterMs: number, opts: { busy?: (elapsedMs: number) => boolean; exitAfterMs?: number } = {}) {
  const start = Date.now();
  let cpu = 0;
  const lines: string[] = [];
  const watch: ReadinessWatch = {
    pid: 4321,
    endpoint: 'http://127.0.0.1:8000',
    timeoutMs: 300_000,
    stallTimeoutMs: 60_000,
    reportEveryMs: 5_000,
    log: (l) => lines.push(l),
    probe: async () => Date.now() - start >= readyAfterMs,
    cpuTimeMs: () => {
      if (opts.busy?.(Date.now() - start) ?? true) cpu += 1;
      return cpu;
    },
    failure: () =>
      opts.exitAfterMs !== undefined && Date.now() - start >= opts.exitAfterMs ? new Error('DynamoDB Local exited before it was ready (code 1, signal null)') : undefined,
  };
  return { watch, lines };
}

/** Runs the wait to its end under fake time, returning its error, if any. */
async function settle(p: Promise<void>, maxMs = 400_000): Promise<Error | undefined> {
  let outcome: { err?: Error } | undefined;
  p.then(
    () => (outcome = {}),
    (err: Error) => (outcome = { err }),
  );
  for (let t = 0; t < maxMs && !outcome; t += 1000) await vi.advanceTimersByTimeAsync(1000);
  if (!outcome) throw new Error('the wait never ended');
  return outcome.err;
}

describe('waiting for DynamoDB Local', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('waits past the old 15 s while the JVM makes progress, saying what it waits for', async () => {
    const { watch, lines } = jvm(40_000);
    expect(await settle(waitForDynamoDbLocal(watch))).toBeUndefined();
    expect(lines.length).toBeGreaterThanOrEqual(7);
    expect(lines[0]).toBe('dynamodb: waiting for DynamoDB Local (java pid 4321) to answer at http://127.0.0.1:8000 (5 s of at most 300 s)');
  });

  it('gives up at the overall bound with a message naming the setting', async () => {
    const { watch } = jvm(Infinity);
    const err = await settle(waitForDynamoDbLocal({ ...watch, timeoutMs: 120_000 }));
    expect(err?.message).toBe(
      'DynamoDB Local (java pid 4321) did not answer ListTables at http://127.0.0.1:8000 within 120 s; on a busy machine raise DYNAMODB_START_TIMEOUT_S (seconds)',
    );
  });

  it('gives up early when the JVM uses no CPU time for the stall window', async () => {
    const t0 = Date.now();
    const { watch } = jvm(Infinity, { busy: (ms) => ms < 10_000 });
    const err = await settle(waitForDynamoDbLocal(watch));
    expect(err?.message).toBe('DynamoDB Local (java pid 4321) did not answer ListTables at http://127.0.0.1:8000 and used no CPU time for 60 s: it looks stuck');
    // Fake time: it stopped once the JVM had been idle for the stall window, long before the overall bound.
    expect(Date.now() - t0).toBeLessThanOrEqual(72_000);
  });

  it('waits without the stall check where the CPU time is unknown', async () => {
    const { watch } = jvm(90_000);
    expect(await settle(waitForDynamoDbLocal({ ...watch, cpuTimeMs: () => undefined }))).toBeUndefined();
  });

  it('reports at once a JVM that exited', async () => {
    const { watch } = jvm(Infinity, { exitAfterMs: 2_000 });
    const err = await settle(waitForDynamoDbLocal(watch));
    expect(err?.message).toBe('DynamoDB Local exited before it was ready (code 1, signal null)');
  });
});

describe('processCpuTimeMs', () => {
  it.runIf(process.platform === 'linux')('reads the CPU time of a live process from /proc', () => {
    expect(processCpuTimeMs(process.pid)).toBeGreaterThan(0);
    expect(processCpuTimeMs(2 ** 22 + 1)).toBeUndefined();
  });
});
