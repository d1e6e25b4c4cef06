import { truncateAuditMessage } from '../domain/limits.ts';
import { config } from '../runtime/config.ts';
import { type AuditMessage, writeAudit } from '../store/audit.ts';

/** Writes one info-level notification for a job (Elasticsearch's job audit messages, e.g. "Job is closing"), truncated as Elasticsearch stores it. */
export async function audit(jobId: string, message: string, level: AuditMessage['level'] = 'info', nowMs = Date.now()): Promise<void> {
  await writeAudit([{ job_id: jobId, message: truncateAuditMessage(message), level, timestamp: nowMs, node_name: config().nodeName, job_type: 'anomaly_detector' }]);
}
