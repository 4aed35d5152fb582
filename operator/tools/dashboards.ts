// The Grafana dashboards, built as data: dashboards/*.json are this module's output (tools/write-manifests.ts
// writes them; test/dashboards.test.ts checks they are current and use only metric names the servers export).

type Target = { expr: string; legendFormat: string };
interface PanelSpec {
  title: string;
  type: 'stat' | 'timeseries';
  unit?: string;
  targets: Target[];
  w?: number;
  h?: number;
  description?: string;
}

const DS = { type: 'prometheus', uid: '${datasource}' };

function layout(panels: PanelSpec[]): object[] {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  return panels.map((p, i) => {
    const w = p.w ?? (p.type === 'stat' ? 4 : 12);
    const h = p.h ?? (p.type === 'stat' ? 4 : 8);
    if (x + w > 24) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const panel = {
      id: i + 1,
      type: p.type,
      title: p.title,
      ...(p.description ? { description: p.description } : {}),
      datasource: DS,
      gridPos: { x, y, w, h },
      fieldConfig: { defaults: { unit: p.unit ?? 'short' }, overrides: [] },
      options:
        p.type === 'stat'
          ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value', graphMode: 'area' }
          : { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi', sort: 'desc' } },
      targets: p.targets.map((t, j) => ({ refId: String.fromCharCode(65 + j), datasource: DS, expr: t.expr, legendFormat: t.legendFormat })),
    };
    x += w;
    rowHeight = Math.max(rowHeight, h);
    return panel;
  });
}

function dashboard(uid: string, title: string, templating: object[], panels: PanelSpec[]): object {
  return {
    uid,
    title,
    tags: ['fishjam'],
    timezone: 'browser',
    schemaVersion: 39,
    version: 1,
    editable: true,
    refresh: '30s',
    time: { from: 'now-1h', to: 'now' },
    templating: {
      list: [{ name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', current: {}, hide: 0 }, ...templating],
    },
    annotations: { list: [] },
    panels: layout(panels),
  };
}

const queryVar = (name: string, label: string, query: string, multi = true) => ({
  name,
  label,
  type: 'query',
  datasource: DS,
  query: { query, refId: `${name}-var` },
  definition: query,
  refresh: 2,
  includeAll: multi,
  multi,
  ...(multi ? { allValue: '.*' } : {}),
  current: {},
  hide: 0,
  sort: 1,
});

// The media pods are scraped through the headless Service "<cluster>-nodes" (the FishjamCluster's ServiceMonitor).
const SEL = 'namespace=~"$namespace", service=~"$service"';
const perNode = (metric: string) => `sum by (pod) (${metric}{${SEL}})`;
const bits = (counter: string) => `sum by (pod) (rate(${counter}{${SEL}}[$__rate_interval])) * 8`;

export function clusterOverview(): object {
  return dashboard(
    'fishjam-cluster-overview',
    'Fishjam / Cluster overview',
    [
      queryVar('namespace', 'Namespace', 'label_values(fishjam_rooms, namespace)'),
      queryVar('service', 'Cluster (headless Service)', 'label_values(fishjam_rooms{namespace=~"$namespace"}, service)'),
    ],
    [
      { title: 'Nodes', type: 'stat', targets: [{ expr: `count(fishjam_rooms{${SEL}})`, legendFormat: 'nodes' }] },
      { title: 'Rooms', type: 'stat', targets: [{ expr: `sum(fishjam_rooms{${SEL}})`, legendFormat: 'rooms' }] },
      { title: 'Peers', type: 'stat', targets: [{ expr: `sum(fishjam_peers{${SEL}})`, legendFormat: 'peers' }] },
      { title: 'Forwarded tracks', type: 'stat', targets: [{ expr: `sum(fishjam_forwarded_tracks{${SEL}})`, legendFormat: 'tracks' }] },
      { title: 'Draining nodes', type: 'stat', targets: [{ expr: `sum(fishjam_node_draining{${SEL}})`, legendFormat: 'draining' }] },
      {
        title: 'Cluster size seen by nodes (min)',
        type: 'stat',
        description: 'Lower than Nodes when some node does not see all the others (a split cluster).',
        targets: [{ expr: `min(fishjam_cluster_nodes{${SEL}})`, legendFormat: 'seen' }],
      },
      { title: 'Rooms per node', type: 'timeseries', targets: [{ expr: perNode('fishjam_rooms'), legendFormat: '{{pod}}' }] },
      { title: 'Peers per node', type: 'timeseries', targets: [{ expr: perNode('fishjam_peers'), legendFormat: '{{pod}}' }] },
      { title: 'Forwarded tracks per node', type: 'timeseries', targets: [{ expr: perNode('fishjam_forwarded_tracks'), legendFormat: '{{pod}}' }] },
      { title: 'Draining nodes', type: 'timeseries', targets: [{ expr: perNode('fishjam_node_draining'), legendFormat: '{{pod}}' }] },
      { title: 'WebRTC bitrate in per node', type: 'timeseries', unit: 'bps', targets: [{ expr: bits('fishjam_traffic_ingress_webrtc_total_bytes'), legendFormat: '{{pod}}' }] },
      { title: 'WebRTC bitrate out per node', type: 'timeseries', unit: 'bps', targets: [{ expr: bits('fishjam_traffic_egress_webrtc_total_bytes'), legendFormat: '{{pod}}' }] },
      {
        title: 'Worker CPU',
        type: 'timeseries',
        unit: 'percentunit',
        description: 'CPU of each mediasoup worker, as a share of one core.',
        targets: [{ expr: `max by (pod, worker) (fishjam_worker_cpu_ratio{${SEL}})`, legendFormat: '{{pod}} worker {{worker}}' }],
      },
      {
        title: 'Consumers per worker',
        type: 'timeseries',
        targets: [{ expr: `max by (pod, worker) (fishjam_worker_consumers{${SEL}})`, legendFormat: '{{pod}} worker {{worker}}' }],
      },
      {
        title: 'Peer sockets',
        type: 'timeseries',
        unit: 'ops',
        targets: [
          { expr: `sum(rate(fishjam_room_peer_connects_total{${SEL}}[$__rate_interval]))`, legendFormat: 'connects' },
          { expr: `sum(rate(fishjam_room_peer_disconnects_total{${SEL}}[$__rate_interval]))`, legendFormat: 'disconnects' },
          { expr: `sum(rate(fishjam_room_peer_crashes_total{${SEL}}[$__rate_interval]))`, legendFormat: 'crashes' },
        ],
      },
      {
        title: 'REST latency (p95)',
        type: 'timeseries',
        unit: 's',
        targets: [
          {
            expr: `histogram_quantile(0.95, sum by (le, route) (rate(fishjam_http_request_duration_seconds_bucket{${SEL}}[$__rate_interval])))`,
            legendFormat: '{{route}}',
          },
        ],
      },
      {
        title: 'Worker restarts',
        type: 'timeseries',
        targets: [{ expr: `sum by (pod) (increase(fishjam_worker_restarts_total{${SEL}}[$__rate_interval]))`, legendFormat: '{{pod}}' }],
      },
      {
        title: 'Memory per node',
        type: 'timeseries',
        unit: 'bytes',
        targets: [{ expr: `sum by (pod) (process_resident_memory_bytes{${SEL}})`, legendFormat: '{{pod}}' }],
      },
      {
        // what the chart's HPA/KEDA scale on (docs/operator.md, "The metric"): a node near 1 takes no more rooms
        title: 'Load ratio per node (autoscaling input)',
        type: 'timeseries',
        unit: 'percentunit',
        targets: [{ expr: `max by (pod) (fishjam_node_load_ratio{${SEL}})`, legendFormat: '{{pod}}' }],
      },
    ],
  );
}

const OP = 'namespace=~"$namespace", pod=~"$pod"';

export function operatorHealth(): object {
  return dashboard(
    'fishjam-operator-health',
    'Fishjam / Operator health',
    [
      queryVar('namespace', 'Namespace', 'label_values(fishjam_operator_reconcile_total, namespace)'),
      queryVar('pod', 'Operator pod', 'label_values(fishjam_operator_leader{namespace=~"$namespace"}, pod)'),
    ],
    [
      { title: 'Leader', type: 'stat', targets: [{ expr: `max by (pod) (fishjam_operator_leader{${OP}}) > 0`, legendFormat: '{{pod}}' }] },
      { title: 'Managed clusters', type: 'stat', targets: [{ expr: `max(fishjam_operator_managed_clusters{${OP}})`, legendFormat: 'clusters' }] },
      {
        title: 'Reconcile errors (1h)',
        type: 'stat',
        targets: [{ expr: `sum(increase(fishjam_operator_reconcile_errors_total{${OP}}[1h]))`, legendFormat: 'errors' }],
      },
      {
        title: 'Reconciles by result',
        type: 'timeseries',
        unit: 'ops',
        targets: [{ expr: `sum by (result) (rate(fishjam_operator_reconcile_total{${OP}}[$__rate_interval]))`, legendFormat: '{{result}}' }],
      },
      {
        title: 'Reconcile duration',
        type: 'timeseries',
        unit: 's',
        targets: [0.5, 0.95, 0.99].map((q) => ({
          expr: `histogram_quantile(${q}, sum by (le) (rate(fishjam_operator_reconcile_duration_seconds_bucket{${OP}}[$__rate_interval])))`,
          legendFormat: `p${Math.round(q * 100)}`,
        })),
      },
      {
        title: 'Work queue depth',
        type: 'timeseries',
        targets: [{ expr: `max by (queue) (fishjam_operator_queue_depth{${OP}})`, legendFormat: '{{queue}}' }],
      },
      {
        title: 'Status updates by result',
        type: 'timeseries',
        unit: 'ops',
        targets: [{ expr: `sum by (result) (rate(fishjam_operator_status_updates_total{${OP}}[$__rate_interval]))`, legendFormat: '{{result}}' }],
      },
      {
        title: 'Media pod scrape errors',
        type: 'timeseries',
        unit: 'ops',
        targets: [{ expr: `sum(rate(fishjam_operator_pod_scrape_errors_total{${OP}}[$__rate_interval]))`, legendFormat: 'errors' }],
      },
      {
        title: 'Drain requests',
        type: 'timeseries',
        targets: [{ expr: `sum by (result) (increase(fishjam_operator_drain_requests_total{${OP}}[$__rate_interval]))`, legendFormat: '{{result}}' }],
      },
      {
        title: 'Watch restarts',
        type: 'timeseries',
        targets: [{ expr: `sum by (resource) (increase(fishjam_operator_watch_restarts_total{${OP}}[$__rate_interval]))`, legendFormat: '{{resource}}' }],
      },
      {
        title: 'Operator CPU',
        type: 'timeseries',
        unit: 'percentunit',
        targets: [{ expr: `sum by (pod) (rate(fishjam_operator_process_cpu_seconds_total{${OP}}[$__rate_interval]))`, legendFormat: '{{pod}}' }],
      },
      {
        title: 'Operator memory',
        type: 'timeseries',
        unit: 'bytes',
        targets: [{ expr: `max by (pod) (fishjam_operator_process_resident_memory_bytes{${OP}})`, legendFormat: '{{pod}}' }],
      },
    ],
  );
}

export const DASHBOARDS: Record<string, () => object> = {
  'fishjam-cluster-overview.json': clusterOverview,
  'fishjam-operator-health.json': operatorHealth,
};

export const dashboardJson = (build: () => object) => `${JSON.stringify(build(), null, 2)}\n`;
