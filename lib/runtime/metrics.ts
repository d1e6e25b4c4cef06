import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** CloudWatch namespace of mlplane's own metrics (the stack's alarms read them from here). */
export const METRICS_NAMESPACE = 'mlplane';

/** Name of the metric giving how long upgrade mode has been on, in seconds (published only while it is on). */
export const UPGRADE_MODE_ON_SECONDS = 'UpgradeModeOnSeconds';

let metrics: Metrics | undefined;

/**
 * Publishes how long upgrade mode has been on, as one CloudWatch Embedded Metric Format line
 * (Powertools Metrics; Lambda's log pipeline turns it into the metric the stack's alarm watches).
 * Nothing is published while upgrade mode is off, so the log stays quiet then and the alarm's
 * missing data counts as not breaching.
 * @param seconds time since upgrade mode was enabled, s (0 when off: nothing is written)
 */
export function publishUpgradeModeOnSeconds(seconds: number): void {
  if (seconds <= 0) return;
  metrics ??= new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'mlplane' });
  metrics.addMetric(UPGRADE_MODE_ON_SECONDS, MetricUnit.Seconds, seconds);
  metrics.publishStoredMetrics();
}

/** Name of the metric counting command events refused with a 4xx (malformed, 400, 403, 404, 409, 429 …); the stack alarms on it. */
export const COMMAND_EVENTS_REJECTED = 'CommandEventsRejected';

/**
 * Counts one command event the ingress refused with a 4xx outcome (recorded on its task and not
 * retried: the same event would fail the same way), as one Embedded Metric Format line with the
 * dimension `service`. A 5xx is not counted here: it is retried, and the DLQ alarm covers it.
 */
export function countRejectedCommandEvent(): void {
  metrics ??= new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'mlplane' });
  metrics.addMetric(COMMAND_EVENTS_REJECTED, MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
}

/** Name of the metric counting events out that could not be published (after retries). */
export const EVENTS_PUBLISH_FAILED = 'EventsPublishFailed';

/**
 * Counts events out that could not be published to EventBridge (or the local events file)
 * after retries, as one Embedded Metric Format line. Nothing is written for 0.
 * @param count events lost
 */
export function publishEventsPublishFailed(count: number): void {
  if (count <= 0) return;
  metrics ??= new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'mlplane' });
  metrics.addMetric(EVENTS_PUBLISH_FAILED, MetricUnit.Count, count);
  metrics.publishStoredMetrics();
}
