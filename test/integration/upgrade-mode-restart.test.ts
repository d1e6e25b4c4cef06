/**
 * A crash of the whole local system while upgrade mode is on (issue 9, faults): `npm start`
 * with a data folder, killed with SIGKILL (process group: Node and DynamoDB Local's JVM), then
 * started again. Upgrade mode is still on, the parked lookback is still parked (recovery does
 * not re-send it), and disabling resumes it to its end with every document posted once.
 */
import { Client } from '@elastic/elasticsearch';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/** A free TCP port on 127.0.0.1. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** `npm start` as a user runs it (its own process group) on `port`, resolved once it listens. */
async function npmStartOn(dataDir: string, port: number): Promise<ChildProcess> {
  const child = spawn('npm', ['start'], {
    cwd: join(import.meta.dirname, '..', '..'),
    env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, ELASTIC_PASSWORD: PASSWORD, LOG_LEVEL: 'warn' },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (b: Buffer) => {
      out += b.toString();
      if (out.includes('mlplane listening on')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    // 'close', not 'exit': the streams are drained by then, so the error shows what npm start printed.
    child.once('close', (code) => reject(new Error(`npm start exited ${code}: ${out.slice(-2000)}`)));
  });
  return child;
}

/**
 * `npm start` on a free port. The port is free when picked but another process may take it
 * before `npm start` binds it (mlplane then refuses to start, as it should): another port is tried.
 */
async function npmStart(dataDir: string): Promise<{ child: ChildProcess; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return { child: await npmStartOn(dataDir, port), port };
    } catch (err) {
      if (attempt >= 3 || !String(err).includes('in use')) throw err;
    }
  }
}

/** SIGKILL to the whole process group: no graceful stop, as in a crash. */
async function crash(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(-(child.pid as number), 'SIGKILL');
  await exited;
}

const T0 = Date.parse('2017-01-01T00:00:00Z');
const TEN_MIN = 600_000;
const PASSWORD = 'restart-password';
/** A week of 10-minute documents: 56 three-hour lookback chunks. */
const DOCS = 1000;

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 180_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('upgrade mode across a restart of the whole system', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mlplane-upgrade-'));
  let system: ChildProcess | undefined;
  afterAll(async () => {
    if (system) await crash(system);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is still on after the restart, and disabling resumes the parked lookback with nothing lost', { timeout: 600_000 }, async () => {
    const first = await npmStart(dataDir);
    system = first.child;
    let es = new Client({ node: `http://127.0.0.1:${first.port}`, auth: { username: 'elastic', password: PASSWORD } });
    await es.indices.create({ index: 'metrics', mappings: { properties: { '@timestamp': { type: 'date' }, total: { type: 'long' } } } });
    for (let from = 0; from < DOCS; from += 250) {
      const operations: unknown[] = [];
      for (let i = from; i < from + 250; i++) operations.push({ index: { _index: 'metrics' } }, { '@timestamp': T0 + i * TEN_MIN, total: 100 + (i % 7) });
      expect((await es.bulk({ operations })).errors).toBe(false);
    }
    await es.ml.putJob({
      job_id: 'restart-job',
      analysis_config: { bucket_span: '1h', detectors: [{ function: 'sum', field_name: 'total' }] },
      data_description: { time_field: '@timestamp' },
    });
    await es.ml.putDatafeed({ datafeed_id: 'restart-feed', job_id: 'restart-job', indices: ['metrics'], chunking_config: { mode: 'manual', time_span: '3h' } });
    await es.ml.openJob({ job_id: 'restart-job' });
    await es.ml.startDatafeed({ datafeed_id: 'restart-feed', start: '2017-01-01T00:00:00Z', end: '2017-02-01T00:00:00Z' });
    await until(
      'some data posted',
      () => es.ml.getJobStats({ job_id: 'restart-job' }),
      (s) => (s.jobs[0]?.data_counts.processed_record_count ?? 0) > 0,
    );
    expect(await es.transport.request({ method: 'POST', path: '/_ml/set_upgrade_mode', querystring: { enabled: 'true', timeout: '60s' } })).toEqual({ acknowledged: true });
    const before = (await es.ml.getJobStats({ job_id: 'restart-job' })).jobs[0]!.data_counts.processed_record_count;
    expect(before).toBeLessThan(DOCS);
    await crash(system);
    system = undefined;

    const second = await npmStart(dataDir);
    system = second.child;
    es = new Client({ node: `http://127.0.0.1:${second.port}`, auth: { username: 'elastic', password: PASSWORD } });
    const info = await es.transport.request<any>({ method: 'GET', path: '/_ml/info' });
    expect(info.upgrade_mode).toBe(true);
    expect(info.parked_commands).toBeGreaterThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 1000));
    // Recovery did not run the parked lookback: nothing was posted after the restart.
    expect((await es.ml.getJobStats({ job_id: 'restart-job' })).jobs[0]!.data_counts.processed_record_count).toBe(before);

    expect(await es.transport.request({ method: 'POST', path: '/_ml/set_upgrade_mode', querystring: { enabled: 'false', timeout: '60s' } })).toEqual({ acknowledged: true });
    const closed = await until(
      'the datafeed closes its job',
      () => es.ml.getJobStats({ job_id: 'restart-job' }),
      (s) => s.jobs[0]?.state === 'closed',
    );
    expect(closed.jobs[0]!.data_counts.processed_record_count).toBe(DOCS);
    expect((await es.ml.getModelSnapshots({ job_id: 'restart-job' })).count).toBe(1);
  });
});
