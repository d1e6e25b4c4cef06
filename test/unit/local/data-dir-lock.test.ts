import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataDirInUseError, LOCK_FILE, lockDataDir } from '../../../lib/local/data-dir-lock.ts';

describe('the DATA_DIR lock', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlplane-lock-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const alive = (pids: number[]) => (pid: number) => pids.includes(pid);

  it('holds the owner pid and is removed on release', async () => {
    const lock = await lockDataDir(join(dir, 'data'), { pid: 4242, isAlive: alive([4242]) });
    expect(readFileSync(lock.path, 'utf8')).toBe('4242\n');
    lock.release();
    expect(existsSync(lock.path)).toBe(false);
    expect(readdirSync(join(dir, 'data'))).toEqual([]);
  });

  it('refuses a second runtime while the first one lives, naming its pid and the folder', async () => {
    const first = await lockDataDir(dir, { pid: 100, isAlive: alive([100, 200]) });
    const second = lockDataDir(dir, { pid: 200, isAlive: alive([100, 200]) });
    await expect(second).rejects.toBeInstanceOf(DataDirInUseError);
    await expect(second).rejects.toThrow(`DATA_DIR ${dir} is in use by another mlplane (pid 100)`);
    expect(readFileSync(first.path, 'utf8')).toBe('100\n');
  });

  it('refuses a second start in the same process', async () => {
    const first = await lockDataDir(dir);
    await expect(lockDataDir(dir)).rejects.toThrow(`(pid ${process.pid})`);
    first.release();
    (await lockDataDir(dir)).release();
  });

  it('takes over a lock left by a dead process, and one that holds no pid', async () => {
    writeFileSync(join(dir, LOCK_FILE), '99999\n');
    const lock = await lockDataDir(dir, { pid: 300, isAlive: alive([300]) });
    expect(readFileSync(lock.path, 'utf8')).toBe('300\n');
    lock.release();
    writeFileSync(join(dir, LOCK_FILE), '');
    const again = await lockDataDir(dir, { pid: 301, isAlive: alive([301]) });
    expect(readFileSync(again.path, 'utf8')).toBe('301\n');
  });

  it('takes over past a takeover guard left by a dead process', async () => {
    writeFileSync(join(dir, LOCK_FILE), '99999\n');
    writeFileSync(join(dir, `${LOCK_FILE}.takeover`), '99998\n');
    const lock = await lockDataDir(dir, { pid: 400, isAlive: alive([400]) });
    expect(readFileSync(lock.path, 'utf8')).toBe('400\n');
    expect(existsSync(join(dir, `${LOCK_FILE}.takeover`))).toBe(false);
  });

  it('release leaves a lock that another process has since taken over', async () => {
    const lock = await lockDataDir(dir, { pid: 500, isAlive: alive([500]) });
    writeFileSync(lock.path, '501\n');
    lock.release();
    expect(readFileSync(lock.path, 'utf8')).toBe('501\n');
  });
});
