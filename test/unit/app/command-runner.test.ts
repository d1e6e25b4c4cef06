import type { SQSRecord } from 'aws-lambda';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Command } from '../../../lib/domain/command.ts';
import { CloseDeferred, ResourceNotFoundError, StaleStateError, WorkParked } from '../../../lib/domain/errors.ts';

const store = vi.hoisted(() => ({
  getCommand: vi.fn(),
  getCommandPayload: vi.fn(),
  markRunning: vi.fn(),
  recordOutcome: vi.fn(),
  rollUpStatus: vi.fn(),
}));
const execute = vi.hoisted(() => ({ executeCommand: vi.fn(), markJobFailed: vi.fn() }));
const queue = vi.hoisted(() => ({ enqueueContinuation: vi.fn(), enqueueCommand: vi.fn() }));
vi.mock('../../../lib/store/commands.ts', () => store);
vi.mock('../../../lib/app/command-dispatch.ts', () => ({ applyCommand: execute.executeCommand }));
vi.mock('../../../lib/app/close.ts', () => ({ markJobFailed: execute.markJobFailed }));
vi.mock('../../../lib/queue/commands.ts', () => queue);
const upgrade = vi.hoisted(() => ({ holdLease: vi.fn(), release: vi.fn(), shouldPark: vi.fn(), park: vi.fn() }));
vi.mock('../../../lib/app/upgrade-mode.ts', () => upgrade);
const eventsOut = vi.hoisted(() => ({ commandFailed: vi.fn() }));
vi.mock('../../../lib/app/events-out.ts', () => eventsOut);

/** No upgrade mode: a lease is taken and released, nothing parks. */
function noUpgradeMode(): void {
  upgrade.holdLease.mockImplementation(async () => upgrade.release);
  upgrade.shouldPark.mockResolvedValue(false);
}

const { processCommandRecord } = await import('../../../lib/app/command-runner.ts');

const command = (action: Command['action'] = 'update'): Command => ({
  command_id: '1',
  task_id: 'mlplane-0:1',
  action,
  es_action: `cluster:admin/xpack/ml/job/${action}`,
  description: 'd',
  targets: ['job-a'],
  params: {},
  status: 'queued',
  outcomes: {},
  created_ms: 0,
  expires_at: 0,
});

const record = (receives = '1', body = JSON.stringify({ command_id: '1', target: 'job-a' })): SQSRecord =>
  ({ messageId: 'm', receiptHandle: 'r', body, attributes: { MessageGroupId: 'job/job-a', ApproximateReceiveCount: receives } }) as unknown as SQSRecord;

/** What DynamoDB answers a PutItem over 400 KB (an AWS SDK v3 ServiceException). */
const itemTooLarge = () =>
  Object.assign(new Error('Item size has exceeded the maximum allowed size'), { name: 'ValidationException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
const throttled = () =>
  Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
    name: 'ThrottlingException',
    $fault: 'client',
    $retryable: { throttling: true },
    $metadata: { httpStatusCode: 400 },
  });

describe('the command worker on a failure', () => {
  beforeEach(() => {
    vi.resetAllMocks();
    noUpgradeMode();
    store.getCommand.mockResolvedValue(command());
  });

  it('records a permanent failure (an item too large) as a 500 outcome on the first delivery and does not throw', async () => {
    execute.executeCommand.mockRejectedValue(itemTooLarge());
    await expect(processCommandRecord(record('1'))).resolves.toBeUndefined();
    expect(store.recordOutcome).toHaveBeenCalledTimes(1);
    const [, target, outcome] = store.recordOutcome.mock.calls[0]!;
    expect(target).toBe('job-a');
    expect(outcome).toMatchObject({ status: 'failed', error: { status: 500, error: { type: 'exception', reason: 'Exception executing cluster:admin/xpack/ml/job/update' } } });
    expect(execute.markJobFailed).not.toHaveBeenCalled();
  });

  it('throws a transient failure (throttling) so the message is redelivered, recording nothing', async () => {
    execute.executeCommand.mockRejectedValue(throttled());
    await expect(processCommandRecord(record('1'))).rejects.toThrow('Rate of requests');
    expect(store.recordOutcome).not.toHaveBeenCalled();
  });

  it('throws a lost race (StaleStateError) so a redelivery reads the new state', async () => {
    execute.executeCommand.mockRejectedValue(new StaleStateError('job config [job-a] changed concurrently'));
    await expect(processCommandRecord(record('2'))).rejects.toThrow('changed concurrently');
    expect(store.recordOutcome).not.toHaveBeenCalled();
  });

  it('records a transient failure on the last delivery and still throws, so the DLQ keeps the message', async () => {
    execute.executeCommand.mockRejectedValue(throttled());
    await expect(processCommandRecord(record('5'))).rejects.toThrow();
    expect(store.recordOutcome.mock.calls[0]![2]).toMatchObject({ status: 'failed', error: { status: 500 } });
  });

  it('records an Elasticsearch error as it is', async () => {
    execute.executeCommand.mockRejectedValue(new ResourceNotFoundError("No known job with id 'job-a'"));
    await expect(processCommandRecord(record('1'))).resolves.toBeUndefined();
    expect(store.recordOutcome.mock.calls[0]![2]).toMatchObject({ status: 'failed', error: { status: 404, error: { type: 'resource_not_found_exception' } } });
  });

  it('records a programming error (TypeError) at once instead of retrying it', async () => {
    execute.executeCommand.mockRejectedValue(new TypeError("Cannot read properties of undefined (reading 'x')"));
    await expect(processCommandRecord(record('1'))).resolves.toBeUndefined();
    expect(store.recordOutcome.mock.calls[0]![2]).toMatchObject({ status: 'failed', error: { status: 500 } });
  });

  it('leaves a close that fails permanently with its job failed, as Elasticsearch does when closing the process throws', async () => {
    store.getCommand.mockResolvedValue(command('close'));
    execute.executeCommand.mockRejectedValue(new RangeError('Invalid array length'));
    await expect(processCommandRecord(record('1'))).resolves.toBeUndefined();
    expect(execute.markJobFailed).toHaveBeenCalledWith('job-a', 'Exception closing autodetect process');
    expect(store.recordOutcome.mock.calls[0]![2]).toMatchObject({ error: { error: { reason: 'Exception closing autodetect process' } } });
  });

  it('publishes ML Command Failed with the error the client got, after the outcome is recorded', async () => {
    execute.executeCommand.mockRejectedValue(new ResourceNotFoundError("No known job with id 'job-a'"));
    eventsOut.commandFailed.mockImplementation(async () => expect(store.recordOutcome).toHaveBeenCalledTimes(1));
    await processCommandRecord(record('1'));
    expect(eventsOut.commandFailed).toHaveBeenCalledTimes(1);
    const [cmd, target, error] = eventsOut.commandFailed.mock.calls[0]!;
    expect(cmd.command_id).toBe('1');
    expect(target).toBe('job-a');
    expect(error).toMatchObject({ status: 404, error: { type: 'resource_not_found_exception', reason: "No known job with id 'job-a'" } });
  });

  it('publishes ML Command Failed for a close given up on, with its fixed 500', async () => {
    store.getCommand.mockResolvedValue(command('close'));
    execute.executeCommand.mockRejectedValue(new RangeError('Invalid array length'));
    await processCommandRecord(record('1'));
    expect(eventsOut.commandFailed.mock.calls[0]![2]).toMatchObject({ status: 500, error: { reason: 'Exception closing autodetect process' } });
  });

  it('publishes nothing for a command that succeeds or is handed on', async () => {
    execute.executeCommand.mockResolvedValue({ ok: true });
    await processCommandRecord(record('1'));
    execute.executeCommand.mockRejectedValue(new CloseDeferred('job-a'));
    await processCommandRecord(record('1'));
    expect(eventsOut.commandFailed).not.toHaveBeenCalled();
  });

  it('stores a generic 500 when the Elasticsearch error body itself cannot be stored', async () => {
    execute.executeCommand.mockRejectedValue(new ResourceNotFoundError('x'.repeat(500_000)));
    store.recordOutcome.mockRejectedValueOnce(itemTooLarge()).mockResolvedValue(undefined);
    await expect(processCommandRecord(record('1'))).resolves.toBeUndefined();
    expect(store.recordOutcome).toHaveBeenCalledTimes(2);
    expect(store.recordOutcome.mock.calls[1]![2]).toMatchObject({
      status: 'failed',
      error: { status: 500, error: { reason: 'Exception executing cluster:admin/xpack/ml/job/update' } },
    });
  });

  it('drops a malformed message on its first delivery instead of holding its group', async () => {
    await expect(processCommandRecord(record('1', '{"command_id":"abc"}'))).resolves.toBeUndefined();
    await expect(processCommandRecord(record('1', 'not json'))).resolves.toBeUndefined();
    expect(store.getCommand).not.toHaveBeenCalled();
  });
});

describe('the command runner on work that runs short of time', () => {
  beforeEach(() => {
    vi.resetAllMocks();
    noUpgradeMode();
    store.getCommand.mockResolvedValue(command('close'));
  });

  it('hands a deferred close on to a continuation in the same group and completes the record, even on its last delivery', async () => {
    execute.executeCommand.mockRejectedValue(new CloseDeferred('job-a'));
    await expect(processCommandRecord(record('5'))).resolves.toBeUndefined();
    expect(queue.enqueueContinuation).toHaveBeenCalledWith('1', 'job-a', 'm', undefined);
    expect(store.recordOutcome).not.toHaveBeenCalled();
    expect(execute.markJobFailed).not.toHaveBeenCalled();
  });

  it('leaves the record for redelivery when the continuation cannot be sent', async () => {
    execute.executeCommand.mockRejectedValue(new CloseDeferred('job-a'));
    queue.enqueueContinuation.mockRejectedValue(Object.assign(new Error('SQS down'), { name: 'ServiceUnavailable', $fault: 'server' }));
    await expect(processCommandRecord(record('1'))).rejects.toThrow('SQS down');
    expect(store.recordOutcome).not.toHaveBeenCalled();
  });
});

describe('the command runner in upgrade mode', () => {
  beforeEach(() => {
    vi.resetAllMocks();
    noUpgradeMode();
    store.getCommand.mockResolvedValue(command('close'));
  });

  it('parks a message taken while upgrade mode is on: nothing is carried out or recorded, the record completes, the lease is released', async () => {
    upgrade.shouldPark.mockResolvedValue(true);
    await expect(processCommandRecord(record('1'))).resolves.toBeUndefined();
    expect(upgrade.park).toHaveBeenCalledWith({ command_id: '1', target: 'job-a' }, expect.any(String));
    expect(execute.executeCommand).not.toHaveBeenCalled();
    expect(store.recordOutcome).not.toHaveBeenCalled();
    expect(upgrade.holdLease).toHaveBeenCalledWith('1', 'job-a');
    expect(upgrade.release).toHaveBeenCalledTimes(1);
  });

  it('takes the lease before it asks whether to park, so an enable that comes between sees the work', async () => {
    const order: string[] = [];
    upgrade.holdLease.mockImplementation(async () => {
      order.push('lease');
      return upgrade.release;
    });
    upgrade.shouldPark.mockImplementation(async () => {
      order.push('park?');
      return false;
    });
    execute.executeCommand.mockResolvedValue({ closed: true });
    await processCommandRecord(record('1'));
    expect(order).toEqual(['lease', 'park?']);
  });

  it('marks the command running and takes the lease at once, and releases the lease when marking fails', async () => {
    let leaseTaken = false;
    upgrade.holdLease.mockImplementation(async () => {
      leaseTaken = true;
      return upgrade.release;
    });
    // Marking waits for the lease: it would never finish if the two writes were made one after the other.
    store.markRunning.mockImplementation(async () => {
      await vi.waitFor(() => expect(leaseTaken).toBe(true));
      throw throttled();
    });
    await expect(processCommandRecord(record('1'))).rejects.toThrow('Rate of requests');
    expect(upgrade.release).toHaveBeenCalledTimes(1);
    expect(execute.executeCommand).not.toHaveBeenCalled();
  });

  it('releases the lease while the outcome of finished work is recorded, once', async () => {
    execute.executeCommand.mockResolvedValue({ closed: true });
    // Recording waits for the release: it would never finish if the release came after it.
    store.recordOutcome.mockImplementation(async () => {
      await vi.waitFor(() => expect(upgrade.release).toHaveBeenCalled());
    });
    await expect(processCommandRecord(record('1'))).resolves.toBeUndefined();
    expect(store.recordOutcome).toHaveBeenCalledTimes(1);
    expect(upgrade.release).toHaveBeenCalledTimes(1);
  });

  it('parks work halted between two steps (WorkParked) on any delivery, never failing it or handing it on', async () => {
    execute.executeCommand.mockRejectedValue(new WorkParked('close of job [job-a]'));
    await expect(processCommandRecord(record('5'))).resolves.toBeUndefined();
    expect(upgrade.park).toHaveBeenCalledTimes(1);
    expect(queue.enqueueContinuation).not.toHaveBeenCalled();
    expect(store.recordOutcome).not.toHaveBeenCalled();
    expect(execute.markJobFailed).not.toHaveBeenCalled();
    expect(upgrade.release).toHaveBeenCalledTimes(1);
  });

  it('releases the lease when the work throws, and a continuation of a resumed message stays resumed', async () => {
    execute.executeCommand.mockRejectedValue(new CloseDeferred('job-a'));
    await processCommandRecord(record('1', JSON.stringify({ command_id: '1', target: 'job-a', resumed: true })));
    expect(queue.enqueueContinuation).toHaveBeenCalledWith('1', 'job-a', 'm', true);
    execute.executeCommand.mockRejectedValue(new StaleStateError('x'));
    await expect(processCommandRecord(record('1'))).rejects.toThrow();
    expect(upgrade.release).toHaveBeenCalledTimes(2);
  });
});

describe('the command worker on a data command', () => {
  beforeEach(() => {
    vi.resetAllMocks();
    noUpgradeMode();
  });

  it('starts reading the body before the lease and the upgrade-mode check, and hands that read to the use case', async () => {
    const order: string[] = [];
    store.getCommand.mockResolvedValue({ ...command('data'), payload_chunks: 1, payload_nonce: 'n' });
    store.getCommandPayload.mockImplementation(async () => {
      order.push('payload read');
      return '{"t":1}';
    });
    upgrade.holdLease.mockImplementation(async () => {
      order.push('lease');
      return upgrade.release;
    });
    upgrade.shouldPark.mockImplementation(async () => {
      order.push('upgrade mode read');
      return false;
    });
    let body: string | undefined;
    execute.executeCommand.mockImplementation(async (_cmd: Command, _target: string, opts: { payload?: Promise<string> }) => {
      body = await opts.payload;
      return {};
    });
    await processCommandRecord(record('1'));
    expect(order).toEqual(['payload read', 'lease', 'upgrade mode read']);
    expect(store.getCommandPayload).toHaveBeenCalledTimes(1);
    expect(body).toBe('{"t":1}');
  });

  it('reads no body for a command without one', async () => {
    store.getCommand.mockResolvedValue(command('update'));
    execute.executeCommand.mockResolvedValue({});
    await processCommandRecord(record('1'));
    expect(store.getCommandPayload).not.toHaveBeenCalled();
    expect(execute.executeCommand.mock.calls[0]?.[2]).not.toHaveProperty('payload');
  });
});
