import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createShutdownHandler, SIGNAL_GRACE_MS } from '../../../lib/local/shutdown.ts';

/** A stop that stays in flight until `finish()` (a close still running), and what the handler did. */
function harness() {
  let finish!: () => void;
  let fail!: (err: Error) => void;
  const stop = vi.fn(() => new Promise<void>((resolve, reject) => ((finish = resolve), (fail = reject))));
  const exit = vi.fn<(code: number) => void>();
  const lines: string[] = [];
  const handle = createShutdownHandler({ stop, exit, log: (l) => lines.push(l) });
  return { handle, stop, exit, lines, finish: () => finish(), fail: (err: Error) => fail(err) };
}

describe('the Ctrl-C handler of npm start', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('counts one Ctrl-C signalled to npm, tsx and node (and relayed by tsx) as one graceful stop', async () => {
    const h = harness();
    h.handle('SIGINT');
    await vi.advanceTimersByTimeAsync(5);
    h.handle('SIGINT');
    await vi.advanceTimersByTimeAsync(35);
    h.handle('SIGINT');
    expect(h.stop).toHaveBeenCalledTimes(1);
    expect(h.exit).not.toHaveBeenCalled();
    h.finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(h.exit).toHaveBeenCalledExactlyOnceWith(0);
    expect(h.lines).toEqual(['SIGINT: stopping (send it again to exit at once)']);
  });

  it('forces the exit on a second Ctrl-C after the grace period, while the stop is still in flight', async () => {
    const h = harness();
    h.handle('SIGINT');
    await vi.advanceTimersByTimeAsync(SIGNAL_GRACE_MS - 1);
    h.handle('SIGINT');
    expect(h.exit).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    h.handle('SIGINT');
    expect(h.exit).toHaveBeenCalledExactlyOnceWith(1);
    expect(h.stop).toHaveBeenCalledTimes(1);
    expect(h.lines.at(-1)).toBe('SIGINT again: exiting now, without finishing the stop');
  });

  it('treats SIGTERM like SIGINT, and a failed stop exits 1', async () => {
    const h = harness();
    h.handle('SIGTERM');
    h.handle('SIGINT');
    expect(h.stop).toHaveBeenCalledTimes(1);
    h.fail(new Error('fauxqs would not stop'));
    await vi.advanceTimersByTimeAsync(0);
    expect(h.exit).toHaveBeenCalledExactlyOnceWith(1);
    expect(h.lines.at(-1)).toContain('fauxqs would not stop');
  });
});
