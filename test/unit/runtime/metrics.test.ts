import { afterEach, describe, expect, it, vi } from 'vitest';
import { COMMAND_EVENTS_REJECTED, countRejectedCommandEvent, METRICS_NAMESPACE } from '../../../lib/runtime/metrics.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

/** The Embedded Metric Format lines written while `fn` runs. */
function emfLines(fn: () => void): Array<Record<string, any>> {
  const lines: string[] = [];
  const capture = (chunk: unknown): boolean => {
    lines.push(String(chunk));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture as typeof process.stdout.write);
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')));
  fn();
  return lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.includes('"_aws"'))
    .map((l) => JSON.parse(l));
}

describe('the rejected command events metric', () => {
  it('writes one CommandEventsRejected count in the mlplane namespace with the service dimension the alarm reads', () => {
    const [line, ...rest] = emfLines(() => countRejectedCommandEvent());
    expect(rest).toEqual([]);
    expect(line?._aws.CloudWatchMetrics).toEqual([{ Namespace: METRICS_NAMESPACE, Dimensions: [['service']], Metrics: [{ Name: COMMAND_EVENTS_REJECTED, Unit: 'Count' }] }]);
    expect(line).toMatchObject({ service: 'mlplane', CommandEventsRejected: 1 });
  });
});
