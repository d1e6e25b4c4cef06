/**
 * One mlplane per data folder. Two `npm start` on the same `DATA_DIR` would share one
 * DynamoDB Local database file (through two JVMs that do not see each other's writes)
 * and each re-enqueue the other's commands: both answer 500s, stall, and lose jobs. So
 * the first start takes `<DATA_DIR>/mlplane.lock`, created exclusively (O_EXCL semantics:
 * of two starts, exactly one creates it) and holding its pid; a later start reads the pid
 * and refuses while that process lives. The file is written under a temporary name and
 * hard-linked into place (`link` fails when the name exists, like O_EXCL), so nobody ever
 * reads a lock that exists but holds no pid yet.
 *
 * A lock left by a process that died without releasing it (SIGKILL, power loss) is taken
 * over. Takeovers are serialized by a second O_EXCL file, `mlplane.lock.takeover`, so two
 * starts that both find a stale lock cannot both delete it and both win.
 *
 * Hand-written rather than `proper-lockfile`: that library judges staleness by mtime
 * (for network file systems) and needs a refresh timer; a local runtime knows its owner's
 * pid, which is exact and needs no timer.
 */
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The lock file's name inside the data folder. */
export const LOCK_FILE = 'mlplane.lock';

/** Another live process holds the data folder. */
export class DataDirInUseError extends Error {
  constructor(
    readonly lockPath: string,
    readonly ownerPid: number,
  ) {
    super(
      `DATA_DIR ${resolve(lockPath, '..')} is in use by another mlplane (pid ${ownerPid}): stop it first, or use another DATA_DIR ` +
        `(if no mlplane runs there, delete ${lockPath})`,
    );
    this.name = 'DataDirInUseError';
  }
}

/** A held lock. */
export interface DataDirLock {
  path: string;
  /** Removes the lock file if it is still ours. Idempotent; synchronous so it can run in a `process.on('exit')` hook. */
  release(): void;
}

/** Options of {@link lockDataDir}, for tests. */
export interface LockOptions {
  /** The pid written to the lock (default `process.pid`). */
  pid?: number;
  /** Whether a pid is a live process (default: `process.kill(pid, 0)`). */
  isAlive?: (pid: number) => boolean;
}

/** Locks held by this process: a second start in the same process is refused too, though the pid in the file is its own. */
const heldHere = new Set<string>();

/** True when `pid` is a live process (EPERM: alive but someone else's). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid in a lock file, undefined when it is unreadable, empty or gone. */
function readPid(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Creates `path` holding `pid`, complete, if it does not exist; false when it does. */
function createExclusive(path: string, pid: number): boolean {
  const tmp = `${path}.${pid}.tmp`;
  writeFileSync(tmp, `${pid}\n`);
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    unlinkQuietly(tmp);
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/**
 * Takes the lock of `dataDir` (created if missing) for this process, before anything
 * else of the local runtime starts. A lock held by a dead pid, or holding no pid (a
 * writer that died between creating and writing it), is taken over.
 * @throws DataDirInUseError when a live process holds it
 */
export async function lockDataDir(dataDir: string, opts: LockOptions = {}): Promise<DataDirLock> {
  const pid = opts.pid ?? process.pid;
  const isAlive = opts.isAlive ?? isProcessAlive;
  mkdirSync(dataDir, { recursive: true });
  const path = join(resolve(dataDir), LOCK_FILE);
  const guard = `${path}.takeover`;
  if (opts.pid === undefined && heldHere.has(path)) throw new DataDirInUseError(path, pid);
  for (let attempt = 0; attempt < 100; attempt++) {
    if (createExclusive(path, pid)) {
      let released = false;
      if (opts.pid === undefined) heldHere.add(path);
      return {
        path,
        release() {
          if (released) return;
          released = true;
          heldHere.delete(path);
          if (readPid(path) === pid) unlinkQuietly(path);
        },
      };
    }
    const owner = readPid(path);
    if (owner !== undefined && owner !== pid && isAlive(owner)) throw new DataDirInUseError(path, owner);
    // Stale (or ours from an earlier life of this pid): remove it, one taker at a time.
    if (!createExclusive(guard, pid)) {
      const guardOwner = readPid(guard);
      if (guardOwner === undefined || !isAlive(guardOwner)) unlinkQuietly(guard);
      // A live taker holds the guard for microseconds: let it finish.
      else await new Promise((r) => setTimeout(r, 10));
      continue;
    }
    try {
      // Only the stale file we judged: another taker may have replaced it meanwhile.
      if (readPid(path) === owner) unlinkQuietly(path);
    } finally {
      unlinkQuietly(guard);
    }
  }
  throw new Error(`could not take the lock ${path}`);
}
