import { z } from 'zod';
import type { EsErrorBody } from './errors.ts';

/** What a command does to each of its targets (one job, or the cluster). */
export const commandActions = ['open', 'data', 'flush', 'close', 'delete', 'persist', 'update'] as const;
export type CommandAction = (typeof commandActions)[number];

/** The per-target outcome a worker records; `response` is the Elasticsearch body for that target. */
export interface TargetOutcome {
  status: 'done' | 'failed';
  response?: unknown;
  error?: EsErrorBody;
  finished_ms: number;
}

/**
 * A command: one request of a client, carried out by workers target by target, in the
 * FIFO group of each target (`job/<id>`). `status` is `queued` until every target has an
 * outcome, then `done` (all done) or `failed` (one failed).
 */
export interface Command {
  command_id: string;
  /** Elasticsearch task id `<node>:<n>` reported by 202 answers and `GET _tasks/<id>`. */
  task_id: string;
  action: CommandAction;
  /** Transport action name, e.g. `cluster:admin/xpack/ml/job/close` (shown by `_tasks`). */
  es_action: string;
  description: string;
  targets: string[];
  params: Record<string, unknown>;
  /** Number of payload chunks stored beside the command (post data bodies). */
  payload_chunks?: number;
  /** Random tag of this command's payload chunk keys, so a colliding id can never overwrite another command's payload. */
  payload_nonce?: string;
  status: 'queued' | 'running' | 'done' | 'failed';
  outcomes: Record<string, TargetOutcome>;
  created_ms: number;
  /** Epoch seconds, DynamoDB TTL. */
  expires_at: number;
}

/** The body of a command queue message: which command, and which of its targets. */
export const commandMessageSchema = z.strictObject({
  command_id: z.string().regex(/^\d+$/),
  target: z.string().min(1),
});
export type CommandMessage = z.infer<typeof commandMessageSchema>;

/** FIFO message group of a target: everything about one job runs in order. */
export const messageGroupId = (target: string): string => `job/${target}`;
