import { commandWorkerOptions, processCommandRecord } from '../../lib/app/command-runner.ts';
import { sqsWorker } from '../../lib/worker/chain.ts';

/** The commands queue's worker: each record through the command runner, in the partial-batch chain (order per FIFO group). */
export const handler = sqsWorker(processCommandRecord, commandWorkerOptions);

export { processCommandRecord };
