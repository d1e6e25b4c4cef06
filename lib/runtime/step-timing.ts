/**
 * Wall-time spans of the steps of a command (HTTP side and worker), for the end-to-end
 * benchmark's breakdown of one post (bench/e2e.ts `results.breakdown`). Off unless
 * `MLPLANE_STEP_TIMING=1`: then {@link timed} is the work itself plus one branch per step
 * (steps are per command, never per record), and nothing is kept.
 *
 * Spans are kept in this process only (the local runtime runs HTTP and worker in one
 * process); each is `{ step, startMs, endMs }` on `performance.now()`'s clock, ms.
 */
export interface StepSpan {
  step: string;
  startMs: number;
  endMs: number;
}

const enabled = process.env.MLPLANE_STEP_TIMING === '1';
const spans: StepSpan[] = [];
/** Spans kept at most (a long run keeps its latest ones). */
const MAX_SPANS = 10_000;

/** Whether spans are being kept (`MLPLANE_STEP_TIMING=1`). */
export function stepTimingEnabled(): boolean {
  return enabled;
}

/** Keeps a span of `step` from `startMs` to now (ms, `performance.now()`); no-op when off. */
export function noteStep(step: string, startMs: number): void {
  if (!enabled) return;
  if (spans.length >= MAX_SPANS) spans.splice(0, spans.length / 2);
  spans.push({ step, startMs, endMs: performance.now() });
}

/** Runs `work` (sync or async) and, when timing is on, keeps its span as `step`. */
export function timed<T>(step: string, work: () => T): T {
  if (!enabled) return work();
  const startMs = performance.now();
  const out = work();
  if (out instanceof Promise) {
    return out.finally(() => noteStep(step, startMs)) as T;
  }
  noteStep(step, startMs);
  return out;
}

/** The spans kept since the last call, oldest first, and forgets them. */
export function takeStepSpans(): StepSpan[] {
  return spans.splice(0, spans.length);
}
