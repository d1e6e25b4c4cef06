import { enqueueCommand } from '../queue/commands.ts';
import type { Command } from '../domain/command.ts';
import { InternalError } from '../domain/errors.ts';
import { listUnfinishedCommands, recordOutcome, rollUpStatus } from '../store/commands.ts';
import { listParked } from '../store/upgrade.ts';

/** Options of {@link requeuePendingCommands}. */
export interface RequeueOptions {
  /** Where to say that a table from before the pending index is scanned once to build it. */
  log?: (line: string) => void;
}

/**
 * Finds the commands still `queued` or `running` and sends again the messages of their
 * targets that have no outcome yet, oldest command first; a command whose targets all
 * have outcomes gets its status rolled up instead. The local runtime calls it at
 * start, because its SQS emulator keeps nothing across restarts; in AWS the queue is
 * durable and this is not needed. It reads only the pending index (`lib/store/keys.ts`),
 * never the whole table: one 100 MB `_data` payload once made every later restart scan it
 * for minutes. Duplicates are harmless: a target with an outcome is a no-op for the
 * worker, and the FIFO deduplication id is the same. Messages parked by upgrade mode are
 * not sent: they are in the table, and disabling upgrade mode sends them in their order.
 * @returns the number of messages sent
 */
export async function requeuePendingCommands(opts: RequeueOptions = {}): Promise<number> {
  const pending = await listUnfinishedCommands({
    onBackfill: () => opts.log?.('recovery: this data folder predates the index of unfinished commands; scanning the table once to build it'),
  });
  const parked = new Set((await listParked()).map((p) => `${p.command_id}#${p.target}`));
  let sent = 0;
  for (const cmd of pending) {
    if (cmd.action === 'command_event') {
      // A command event's task is never queued: the ingress that ran it stopped with the process.
      await abandonCommandEventTask(cmd);
      continue;
    }
    const targets = cmd.targets.filter((t) => !cmd.outcomes?.[t] && !parked.has(`${cmd.command_id}#${t}`));
    if (targets.length === 0 && cmd.targets.some((t) => parked.has(`${cmd.command_id}#${t}`))) continue;
    if (targets.length === 0) {
      // Every outcome is in but the previous run stopped before the roll-up, and no message is left to redo it.
      await rollUpStatus(cmd);
      continue;
    }
    await enqueueCommand(cmd.command_id, targets);
    sent += targets.length;
  }
  return sent;
}

/**
 * Closes the task of a command event whose ingress stopped before recording its outcome (the
 * process ended): a 500, so `GET _tasks/<id>` never reports it running for ever. What the event
 * started (a queued close) carries on and has its own task.
 */
async function abandonCommandEventTask(cmd: Command): Promise<void> {
  const error = new InternalError('mlplane stopped before the outcome of this command event was recorded').toBody();
  for (const target of cmd.targets) if (!cmd.outcomes?.[target]) await recordOutcome(cmd, target, { status: 'failed', error, finished_ms: Date.now() });
  await rollUpStatus(cmd);
}
