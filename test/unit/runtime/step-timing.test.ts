import { afterEach, describe, expect, it, vi } from 'vitest';

/** step-timing.ts reads MLPLANE_STEP_TIMING once, when loaded: each test loads it afresh. */
async function load(flag: string | undefined) {
  vi.resetModules();
  if (flag === undefined) vi.stubEnv('MLPLANE_STEP_TIMING', '');
  else vi.stubEnv('MLPLANE_STEP_TIMING', flag);
  return import('../../../lib/runtime/step-timing.ts');
}

describe('step timing', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('keeps nothing when MLPLANE_STEP_TIMING is not 1, and hands back the work value', async () => {
    const t = await load(undefined);
    expect(t.timed('sync', () => 3)).toBe(3);
    await expect(t.timed('async', async () => 'x')).resolves.toBe('x');
    expect(t.stepTimingEnabled()).toBe(false);
    expect(t.takeStepSpans()).toEqual([]);
  });

  it('keeps a span per sync or async step, also for a step that throws, and forgets them once taken', async () => {
    const t = await load('1');
    expect(t.timed('parse', () => 3)).toBe(3);
    await expect(t.timed('read', async () => 'x')).resolves.toBe('x');
    await expect(t.timed('write', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    const spans = t.takeStepSpans();
    expect(spans.map((s) => s.step)).toEqual(['parse', 'read', 'write']);
    for (const s of spans) expect(s.endMs).toBeGreaterThanOrEqual(s.startMs);
    expect(t.takeStepSpans()).toEqual([]);
  });
});
