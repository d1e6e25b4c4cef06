import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DataDirInUseError, lockDataDir } from '../../../lib/local/data-dir-lock.ts';
import * as dynamodb from '../../../lib/local/dynamodb.ts';
import { PortInUseError } from '../../../lib/local/port-check.ts';
import { localEventsFile, startLocalSystem } from '../../../lib/local/system.ts';

vi.mock('../../../lib/local/dynamodb.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../../lib/local/dynamodb.ts')>()),
  startDynamoDbLocal: vi.fn(() => Promise.reject(new Error('the JVM must not start'))),
}));

describe('startLocalSystem refuses at once, before the JVM starts', () => {
  let dir: string;
  let server: Server | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlplane-system-'));
    vi.mocked(dynamodb.startDynamoDbLocal).mockClear();
  });
  afterEach(async () => {
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('a schedules file with a schedule EventBridge Scheduler would refuse, naming the file and the schedule', async () => {
    const file = join(dir, 'schedules.json');
    writeFileSync(
      file,
      JSON.stringify({
        schedules: [{ name: 'close-nightly', expression: 'cron(0 2 * * ? *)', timezone: 'Europe/Berlim', command: { method: 'POST', path: '/_ml/anomaly_detectors/x/_close' } }],
      }),
    );
    await expect(startLocalSystem({ port: 0, dataDir: dir, schedulesFile: file })).rejects.toThrow(
      `${file}: schedule [close-nightly]: timezone: [Europe/Berlim] is not a time zone`,
    );
    expect(dynamodb.startDynamoDbLocal).not.toHaveBeenCalled();
    expect(existsSync(join(dir, 'mlplane.lock'))).toBe(false);
  });

  it("a command schedule named like one of mlplane's own schedules", async () => {
    const file = join(dir, 'schedules.json');
    writeFileSync(file, JSON.stringify({ schedules: [{ name: 'nightly-maintenance', expression: 'rate(1 day)', command: { method: 'POST', path: '/_ml/set_upgrade_mode' } }] }));
    await expect(startLocalSystem({ port: 0, schedulesFile: file })).rejects.toThrow("schedule [nightly-maintenance]: name: mlplane's own schedule has that name");
    expect(dynamodb.startDynamoDbLocal).not.toHaveBeenCalled();
  });

  it('a data folder held by another live mlplane, leaving that one its lock', async () => {
    // The parent process stands for the first `npm start`: alive, not us.
    const first = await lockDataDir(dir, { pid: process.ppid });
    await expect(startLocalSystem({ port: 0, dataDir: dir, cron: false })).rejects.toBeInstanceOf(DataDirInUseError);
    expect(dynamodb.startDynamoDbLocal).not.toHaveBeenCalled();
    expect(readFileSync(first.path, 'utf8')).toBe(`${process.ppid}\n`);
  });

  it('an HTTP port already in use, releasing the data folder again', async () => {
    server = createServer();
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    await expect(startLocalSystem({ port, dataDir: dir, cron: false })).rejects.toBeInstanceOf(PortInUseError);
    expect(dynamodb.startDynamoDbLocal).not.toHaveBeenCalled();
    (await lockDataDir(dir)).release();
  });
});

describe('the local events-out file', () => {
  it('is the option, else EVENTS_FILE, else DATA_DIR/events.jsonl, else a file of this process in the temp folder', () => {
    expect(localEventsFile({ eventsFile: '/x/e.jsonl', dataDir: '/d' }, { EVENTS_FILE: '/y.jsonl' })).toBe('/x/e.jsonl');
    expect(localEventsFile({ dataDir: '/d' }, { EVENTS_FILE: '/y.jsonl' })).toBe('/y.jsonl');
    expect(localEventsFile({ dataDir: '/d' }, {})).toBe(join('/d', 'events.jsonl'));
    expect(localEventsFile({}, {})).toBe(join(tmpdir(), `mlplane-events-${process.pid}.jsonl`));
  });
});
