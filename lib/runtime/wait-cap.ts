import { AsyncLocalStorage } from 'node:async_hooks';
import { config } from './config.ts';

/**
 * How long a request may wait for its command before answering 202 with the task: the
 * HTTP functions' `HTTP_WAIT_CAP_MS` (under API Gateway's 30 s integration cap), or a
 * longer cap set for one invocation with {@link withWaitCap}. The command ingress runs
 * the same route handlers as HTTP but has up to 900 s: a scheduled close must record the
 * close's real outcome, not a 202. The override is per async context (not the process
 * environment) because the local runtime serves HTTP and the ingress in one process.
 */
const override = new AsyncLocalStorage<number>();

/** The wait cap in force, ms: the {@link withWaitCap} override of this async context, else `HTTP_WAIT_CAP_MS`. */
export function waitCapMs(): number {
  return override.getStore() ?? config().httpWaitCapMs;
}

/** Runs `fn` with the wait cap set to `capMs` (ms, > 0) for every wait it starts. */
export function withWaitCap<T>(capMs: number, fn: () => Promise<T>): Promise<T> {
  return override.run(capMs, fn);
}
