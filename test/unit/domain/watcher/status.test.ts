import { describe, expect, it } from 'vitest';
import { actionUpdate, expireAcks, freshStatus, mergeStatus, onAck, onActionResult, onCheck, resetActionAck, setActive } from '../../../../lib/domain/watcher/status.ts';
import type { AckState, ActionStatus, WatchStatus } from '../../../../lib/domain/watcher/types.ts';

const PUT = 1_000;
const EXEC = 2_000;
const NOW = 3_000;
const LATER = 4_000;

/** A watch whose action `a` is in `state` since PUT, with an earlier successful execution when not awaiting. */
function watchIn(state: AckState): WatchStatus {
  const a: ActionStatus = { ack: { timestamp: PUT, state } };
  if (state !== 'awaits_successful_execution') {
    a.last_execution = { timestamp: PUT, successful: true };
    a.last_successful_execution = { timestamp: PUT, successful: true };
  }
  return { state: { active: true, timestamp: PUT }, actions: { a } };
}
const ack = (s: WatchStatus) => s.actions.a?.ack;

describe('the spec §2.4 transition table, row by row', () => {
  it('row 0: put creates every action awaiting at put time, state from ?active, no last_*', () => {
    const s = freshStatus(['a', 'b'], PUT, false);
    expect(s).toEqual({
      state: { active: false, timestamp: PUT },
      actions: { a: { ack: { timestamp: PUT, state: 'awaits_successful_execution' } }, b: { ack: { timestamp: PUT, state: 'awaits_successful_execution' } } },
    });
  });

  it.each(['success', 'simulated'] as const)('row 1: awaits + %s → ackable at exec time, last_execution and last_successful_execution', (status) => {
    const s = onActionResult(watchIn('awaits_successful_execution'), 'a', EXEC, { status });
    expect(s.actions.a).toEqual({
      ack: { timestamp: EXEC, state: 'ackable' },
      last_execution: { timestamp: EXEC, successful: true },
      last_successful_execution: { timestamp: EXEC, successful: true },
    });
  });

  it('row 2: awaits + failure stays awaiting, ack ts unchanged, last_execution records the reason', () => {
    const s = onActionResult(watchIn('awaits_successful_execution'), 'a', EXEC, { status: 'failure', reason: 'boom' });
    expect(s.actions.a).toEqual({ ack: { timestamp: PUT, state: 'awaits_successful_execution' }, last_execution: { timestamp: EXEC, successful: false, reason: 'boom' } });
  });

  it('row 3: awaits + throttled stays awaiting and records last_throttle only', () => {
    const s = onActionResult(watchIn('awaits_successful_execution'), 'a', EXEC, { status: 'throttled', reason: 'manually skipped' });
    expect(s.actions.a).toEqual({ ack: { timestamp: PUT, state: 'awaits_successful_execution' }, last_throttle: { timestamp: EXEC, reason: 'manually skipped' } });
  });

  it('row 4: ack of an awaiting action changes nothing (200, no write)', () => {
    const before = watchIn('awaits_successful_execution');
    const r = onAck(before, [], NOW);
    expect(r.changed).toBe(false);
    expect(r.status).toEqual(before);
  });

  it('row 5: condition false on an awaiting action only sets last_checked', () => {
    const s = onCheck(watchIn('awaits_successful_execution'), false, EXEC);
    expect(s.last_checked).toBe(EXEC);
    expect(s.last_met_condition).toBeUndefined();
    expect(ack(s)).toEqual({ timestamp: PUT, state: 'awaits_successful_execution' });
  });

  it('row 6: ackable + success stays ackable with its ack ts, last_* move on', () => {
    const s = onActionResult(watchIn('ackable'), 'a', EXEC, { status: 'success' });
    expect(ack(s)).toEqual({ timestamp: PUT, state: 'ackable' });
    expect(s.actions.a?.last_successful_execution).toEqual({ timestamp: EXEC, successful: true });
  });

  it.each([[[]], [['_all']], [['a']], [['x', '_all']]])('row 7: ack %j of an ackable action → acked at the ack time', (ids) => {
    const r = onAck(watchIn('ackable'), ids, NOW);
    expect(r.changed).toBe(true);
    expect(ack(r.status)).toEqual({ timestamp: NOW, state: 'acked' });
  });

  it('row 7: unknown action ids are ignored', () => {
    const r = onAck(watchIn('ackable'), ['nope', 'constructor'], NOW);
    expect(r.changed).toBe(false);
    expect(ack(r.status)?.state).toBe('ackable');
  });

  it('row 8: ackable + condition false → awaits at exec time, last_checked but no last_met_condition', () => {
    const s = onCheck(watchIn('ackable'), false, EXEC);
    expect(ack(s)).toEqual({ timestamp: EXEC, state: 'awaits_successful_execution' });
    expect(s.last_checked).toBe(EXEC);
    expect(s.last_met_condition).toBeUndefined();
  });

  it('row 9: ackable + action condition false → awaits at wall-clock now', () => {
    const s = resetActionAck(watchIn('ackable'), 'a', NOW);
    expect(ack(s)).toEqual({ timestamp: NOW, state: 'awaits_successful_execution' });
  });

  it('row 10: acked + acknowledged result changes nothing', () => {
    const before = watchIn('acked');
    expect(onActionResult(before, 'a', EXEC, { status: 'acknowledged' })).toEqual(before);
    const met = onCheck(before, true, EXEC);
    expect(ack(met)).toEqual({ timestamp: PUT, state: 'acked' });
    expect(met.last_met_condition).toBe(EXEC);
  });

  it('row 11: acked + condition false → awaits at exec time', () => {
    expect(ack(onCheck(watchIn('acked'), false, EXEC))).toEqual({ timestamp: EXEC, state: 'awaits_successful_execution' });
  });

  it('row 12: acked + forced success stays acked (update only promotes awaits), last_* move on', () => {
    const s = onActionResult(watchIn('acked'), 'a', EXEC, { status: 'success' });
    expect(ack(s)).toEqual({ timestamp: PUT, state: 'acked' });
    expect(s.actions.a?.last_execution).toEqual({ timestamp: EXEC, successful: true });
  });

  it('row 13: acked + forced run with the action condition false → awaits at wall-clock now', () => {
    expect(ack(resetActionAck(watchIn('acked'), 'a', NOW))).toEqual({ timestamp: NOW, state: 'awaits_successful_execution' });
  });

  it('row 14: ack of an acked action changes nothing', () => {
    const before = watchIn('acked');
    const r = onAck(before, ['a'], LATER);
    expect(r.changed).toBe(false);
    expect(ack(r.status)).toEqual({ timestamp: PUT, state: 'acked' });
  });

  it('row 15: a re-put (index mode) recreates the status whatever it was', () => {
    const s = freshStatus(['a'], LATER, true);
    expect(s.actions.a).toEqual({ ack: { timestamp: LATER, state: 'awaits_successful_execution' } });
    expect(s.last_checked).toBeUndefined();
  });
});

describe('the rest of the status model', () => {
  it('condition_failed and partial_failure results change nothing', () => {
    const before = watchIn('ackable');
    expect(actionUpdate(before.actions.a as ActionStatus, EXEC, { status: 'condition_failed' })).toBe(before.actions.a);
    expect(actionUpdate(before.actions.a as ActionStatus, EXEC, { status: 'partial_failure' })).toBe(before.actions.a);
  });

  it('the functions never mutate their argument', () => {
    const before = watchIn('ackable');
    const copy = structuredClone(before);
    onAck(before, [], NOW);
    onCheck(before, false, EXEC);
    onActionResult(before, 'a', EXEC, { status: 'success' });
    resetActionAck(before, 'a', NOW);
    expect(before).toEqual(copy);
  });

  it('a versioned put overwrites ack and state but keeps last_* of surviving actions', () => {
    const old: WatchStatus = { ...watchIn('acked'), last_checked: EXEC, execution_state: 'executed' };
    const merged = mergeStatus(old, freshStatus(['a', 'b'], LATER, true));
    expect(merged.last_checked).toBe(EXEC);
    expect(merged.execution_state).toBe('executed');
    expect(merged.actions.a).toEqual({ ...old.actions.a, ack: { timestamp: LATER, state: 'awaits_successful_execution' } });
    expect(merged.actions.b).toEqual({ ack: { timestamp: LATER, state: 'awaits_successful_execution' } });
  });

  it('activate always writes the flag and a new timestamp', () => {
    expect(setActive(watchIn('acked'), true, NOW).state).toEqual({ active: true, timestamp: NOW });
  });
});

describe('ack expiry (mlplane expires_in extension)', () => {
  it('an ack with expiresInMs records when it lapses; without it the ack has no expires', () => {
    expect(ack(onAck(watchIn('ackable'), ['a'], NOW, 500).status)).toEqual({ timestamp: NOW, state: 'acked', expires: NOW + 500 });
    expect(ack(onAck(watchIn('ackable'), ['a'], NOW).status)).toEqual({ timestamp: NOW, state: 'acked' });
  });

  it('expireAcks sends a lapsed ack back to awaits_successful_execution at its expiry time', () => {
    const acked = onAck(watchIn('ackable'), ['a'], NOW, 500).status;
    expect(expireAcks(acked, NOW + 499)).toEqual({ status: acked, expired: [] });
    const out = expireAcks(acked, LATER);
    expect(out.expired).toEqual(['a']);
    expect(ack(out.status)).toEqual({ timestamp: NOW + 500, state: 'awaits_successful_execution' });
    expect(ack(acked)?.state).toBe('acked');
  });

  it('expireAcks leaves acks without expires and non-acked actions alone', () => {
    for (const s of [onAck(watchIn('ackable'), ['a'], NOW).status, watchIn('ackable'), watchIn('awaits_successful_execution')]) {
      expect(expireAcks(s, Number.MAX_SAFE_INTEGER)).toEqual({ status: s, expired: [] });
    }
  });

  it('a condition that is not met drops the expiry with the ack', () => {
    const acked = onAck(watchIn('ackable'), ['a'], NOW, 500).status;
    expect(ack(onCheck(acked, false, LATER))).toEqual({ timestamp: LATER, state: 'awaits_successful_execution' });
  });
});
