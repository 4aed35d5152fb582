// A prometheus-operator ServiceMonitor on the headless Service, which lists every pod (draining ones too).
import type { KubeObject } from '../api/types.js';
import { meta, type BuildContext } from './build-context.js';
import { COMPONENT_LABEL } from './names.js';

export function serviceMonitor(ctx: BuildContext): KubeObject[] {
  const sm = ctx.spec.metrics.serviceMonitor;
  if (!sm.enabled) return [];
  return [
    {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: meta(ctx, ctx.names.serviceMonitor, { labels: sm.labels }),
      spec: {
        selector: { matchLabels: { ...ctx.selector, [COMPONENT_LABEL]: 'discovery' } },
        namespaceSelector: { matchNames: [ctx.namespace] },
        endpoints: [{ port: 'metrics', path: '/metrics', interval: sm.interval }],
        targetLabels: ['app.kubernetes.io/instance'],
        podTargetLabels: ['statefulset.kubernetes.io/pod-name'],
      },
    },
  ];
}
