import { commandParamsSchemas, type Command, type CommandAction } from '../domain/command.ts';
import { applyClose, type CloseOptions } from './close.ts';
import { applyDatafeedLookback } from './datafeed-lookback.ts';
import { applyDelete } from './delete.ts';
import { applyFlush } from './flush.ts';
import { applyOpen } from './open.ts';
import { applyPersist } from './persist.ts';
import { applyPostData } from './post-data.ts';
import { applyUpdateCommand } from './update.ts';
import { getCommandPayload } from '../store/commands.ts';
import { applyUpgradeMode } from './upgrade-mode.ts';
import { applyWatchCommand } from './execute-watch.ts';
import { applyMaintenance } from './maintenance.ts';
import { applyRenormalize } from './renormalize.ts';

/** Test seams and invocation facts passed to the apply sides (close and the datafeed lookback use them). */
export type ApplyOptions = CloseOptions & {
  /** A `data` command's body, already being read by the runner (see `processCommandRecord`). */
  payload?: Promise<string>;
};

/** The apply side of one use case: carries out `cmd` for one target and returns that target's Elasticsearch response. */
export type ApplyCommand = (cmd: Command, target: string, opts: ApplyOptions) => Promise<unknown>;

/**
 * Which use case carries out each command action (the worker side of the use cases in
 * this folder). Domain failures are thrown as EsError (recorded as the target's outcome);
 * anything else is an infrastructure failure. Every apply side is idempotent under
 * redelivery.
 */
export const APPLY_BY_ACTION: Readonly<Record<CommandAction, ApplyCommand>> = {
  open: (cmd, target) => applyOpen(target, cmd.command_id),
  data: (cmd, target, opts) => applyPostData(cmd, target, opts.payload),
  flush: (cmd, target, opts) => applyFlush(cmd, target, opts.remainingMs ? { remainingMs: opts.remainingMs } : {}),
  close: (cmd, target, opts) => applyClose(target, cmd.command_id, opts),
  update: async (cmd, target) => applyUpdateCommand(target, await getCommandPayload(cmd)),
  persist: (cmd, target) => applyPersist(target, cmd.command_id),
  datafeed: (cmd, target, opts) => applyDatafeedLookback(cmd, target, commandParamsSchemas.datafeed.parse(cmd.params), opts),
  delete: (cmd, target) => applyDelete(target, cmd.params as { force?: boolean; create_time?: number }),
  upgrade_mode: (cmd, _target, opts) => applyUpgradeMode(cmd, commandParamsSchemas.upgrade_mode.parse(cmd.params), opts.remainingMs),
  watch: (cmd, target) => applyWatchCommand(target, commandParamsSchemas.watch.parse(cmd.params)),
  // Never queued: its message can only be forged or misrouted, and fails as a permanent error.
  command_event: async (cmd) => {
    throw new Error(`command ${cmd.command_id} is a command event's task, run by the command ingress; it is never queued`);
  },
  maintenance: (cmd, _target, opts) => applyMaintenance(cmd, commandParamsSchemas.maintenance.parse(cmd.params), { remainingMs: opts.remainingMs }),
  renormalize: (_cmd, target, opts) => applyRenormalize(target, opts.remainingMs ? { remainingMs: opts.remainingMs } : {}),
};

/** Carries out one command for one target through its use case's apply side. */
export function applyCommand(cmd: Command, target: string, opts: ApplyOptions = {}): Promise<unknown> {
  return APPLY_BY_ACTION[cmd.action](cmd, target, opts);
}
