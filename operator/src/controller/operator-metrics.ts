// The operator's own Prometheus metrics (dashboards/operator-health.json reads these names).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface OperatorMetrics {
  registry: Registry;
  reconcileTotal: Counter<'result'>;
  reconcileErrors: Counter;
  reconcileDuration: Histogram;
  statusUpdates: Counter<'result'>;
  scrapeErrors: Counter;
  drainRequests: Counter<'result'>;
  watchRestarts: Counter<'resource'>;
  queueDepth: Gauge<'queue'>;
  leader: Gauge;
  managedClusters: Gauge;
}

export function operatorMetrics(withDefaults = true): OperatorMetrics {
  const registry = new Registry();
  if (withDefaults) collectDefaultMetrics({ register: registry, prefix: 'fishjam_operator_' });
  const registers = [registry];
  return {
    registry,
    reconcileTotal: new Counter({ name: 'fishjam_operator_reconcile_total', help: 'Reconciles by result (success, error, invalid).', labelNames: ['result'], registers }),
    reconcileErrors: new Counter({ name: 'fishjam_operator_reconcile_errors_total', help: 'Reconciles that failed and were requeued with backoff.', registers }),
    reconcileDuration: new Histogram({
      name: 'fishjam_operator_reconcile_duration_seconds',
      help: 'Time to reconcile one FishjamCluster.',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    statusUpdates: new Counter({ name: 'fishjam_operator_status_updates_total', help: 'Status refreshes by result (written, unchanged, error).', labelNames: ['result'], registers }),
    scrapeErrors: new Counter({ name: 'fishjam_operator_pod_scrape_errors_total', help: 'Failed reads of a media pod metrics endpoint.', registers }),
    drainRequests: new Counter({ name: 'fishjam_operator_drain_requests_total', help: 'POST /admin/drain sent to media pods during scale-down.', labelNames: ['result'], registers }),
    watchRestarts: new Counter({ name: 'fishjam_operator_watch_restarts_total', help: 'Watches restarted after an error.', labelNames: ['resource'], registers }),
    queueDepth: new Gauge({ name: 'fishjam_operator_queue_depth', help: 'Keys waiting in a work queue.', labelNames: ['queue'], registers }),
    leader: new Gauge({ name: 'fishjam_operator_leader', help: '1 while this replica holds the leader lease.', registers }),
    managedClusters: new Gauge({ name: 'fishjam_operator_managed_clusters', help: 'FishjamClusters known to this operator.', registers }),
  };
}
