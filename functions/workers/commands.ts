import { abandonCommandRecord, processCommandRecord } from '../../lib/app/command-runner.ts';
import { commandQueue } from '../../lib/runtime/topology.ts';
import { sqsWorker } from '../../lib/worker/chain.ts';

/** The commands queue's worker: each record through the command runner, in the partial-batch chain (order per FIFO group). */
export const handler = sqsWorker(processCommandRecord, { maxReceiveCount: commandQueue.maxReceiveCount, onAbandon: abandonCommandRecord });

export { processCommandRecord };
