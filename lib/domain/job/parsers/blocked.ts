/**
 * The `blocked` parser (reason and `TaskId` task id).
 */
import { IllegalArgumentError } from '../../errors.ts';
import { ValueType, XObjectParser } from '../../json/object-parser.ts';
import { enumFromString } from '../java-emulation.ts';
import type { Blocked } from '../types.ts';

/** `new TaskId(String)`. */
function parseTaskId(raw: string): string {
  if (raw.length === 0 || raw === 'unset') return 'unset';
  const i = raw.indexOf(':');
  const node = i < 0 ? undefined : raw.slice(0, i);
  const id = i < 0 ? undefined : raw.slice(i + 1);
  if (node === undefined || id === undefined || node.length === 0 || id.length === 0 || !/^[+-]?\d+$/.test(id)) {
    throw new IllegalArgumentError(`malformed task id ${raw}`);
  }
  return `${node}:${BigInt(id)}`;
}

export const BLOCKED_PARSER = new XObjectParser<Blocked>(
  'blocked',
  {
    reason: {
      types: ValueType.STRING,
      parse: (n, p) => enumFromString('Blocked.Reason', ['none', 'delete', 'reset', 'revert'] as const, p.text(n)),
      arg: 'required',
    },
    task_id: { types: ValueType.STRING, parse: (n, p) => parseTaskId(p.text(n)), arg: 'optional' },
  },
  {
    construct: (a) => {
      const taskId = a[1] as string | undefined;
      return taskId !== undefined && taskId !== 'unset' ? { reason: a[0] as Blocked['reason'], task_id: taskId } : { reason: a[0] as Blocked['reason'] };
    },
  },
);
