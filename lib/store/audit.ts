/** ML notifications (audit messages) per job, as `.ml-notifications` documents. */
import { randomBytes } from 'node:crypto';
import { batchWrite, queryAll } from './batch.ts';
import { keys } from './keys.ts';

/** One ML notification (Elasticsearch's `.ml-notifications` document). */
export interface AuditMessage {
  job_id: string;
  message: string;
  level: 'info' | 'warning' | 'error';
  timestamp: number;
  node_name: string;
  job_type: 'anomaly_detector';
}

/** Appends audit messages for a job. */
export async function writeAudit(messages: AuditMessage[]): Promise<void> {
  await batchWrite(messages.map((m) => ({ ...keys.audit(m.job_id, m.timestamp, randomBytes(4).toString('hex')), doc: JSON.stringify(m) })));
}

/** A job's audit messages, oldest first. */
export async function listAudit(jobId: string): Promise<AuditMessage[]> {
  const items = await queryAll<{ doc: string }>({
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': keys.auditPartition(jobId) },
  });
  return items.map((i) => JSON.parse(i.doc) as AuditMessage);
}
