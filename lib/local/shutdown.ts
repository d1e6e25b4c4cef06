/**
 * What `npm start` does on SIGINT and SIGTERM.
 *
 * One Ctrl-C can arrive as two or three signals: the terminal sends SIGINT to the whole
 * foreground process group (npm, tsx and node all get it) and tsx relays its own copy to
 * node, a few ms later. Counting those as "a second Ctrl-C" killed the process in the
 * middle of its graceful stop (a close in flight, the JVM not stopped in order). So
 * signals within a short grace period of the first are the same Ctrl-C; only a signal
 * after it forces the exit.
 */

/** Default of {@link ShutdownOptions.graceMs}: longer than any relay, shorter than a person pressing twice on purpose. */
export const SIGNAL_GRACE_MS = 1500;

/** Options of {@link createShutdownHandler}. */
export interface ShutdownOptions {
  /** The graceful stop (HTTP, cron, worker, SQS, DynamoDB Local, in order). */
  stop: () => Promise<void>;
  /** Ends the process (`process.exit`). */
  exit: (code: number) => void;
  log: (line: string) => void;
  /** Signals within this many ms of the first are the same Ctrl-C and ignored (default {@link SIGNAL_GRACE_MS}). */
  graceMs?: number;
}

/**
 * A signal handler: the first signal starts `stop()` and exits 0 when it resolves (1 when
 * it rejects); further signals within `graceMs` are ignored; a signal after that exits 1
 * at once (the user insists).
 */
export function createShutdownHandler(opts: ShutdownOptions): (signal: NodeJS.Signals) => void {
  const graceMs = opts.graceMs ?? SIGNAL_GRACE_MS;
  let stopping = false;
  let forceArmed = false;
  return (signal) => {
    if (stopping) {
      if (!forceArmed) return;
      opts.log(`${signal} again: exiting now, without finishing the stop`);
      opts.exit(1);
      return;
    }
    stopping = true;
    const armer = setTimeout(() => (forceArmed = true), graceMs);
    armer.unref?.();
    opts.log(`${signal}: stopping (send it again to exit at once)`);
    opts.stop().then(
      () => opts.exit(0),
      (err: unknown) => {
        opts.log(`stop failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        opts.exit(1);
      },
    );
  };
}
