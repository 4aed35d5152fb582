// The Grafana dashboards parse, are laid out sanely, and query only metric names the servers export: the media
// server's (from docs/media-server-contract.md plus prom-client's defaults) and the operator's own registry.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { operatorMetrics } from '../src/controller/operator-metrics.js';
import { DASHBOARDS_DIR, repoRoot } from '../tools/write-manifests.js';

function contractMetrics(): Map<string, string> {
  const doc = readFileSync(join(repoRoot, 'docs', 'media-server-contract.md'), 'utf8');
  const rows = [...doc.matchAll(/^\|\s*(fishjam_[a-z0-9_]+)\s*\|\s*(\w+)\s*\|/gm)];
  return new Map(rows.map((m) => [m[1]!, m[2]!]));
}

async function registryNames(registry: Registry): Promise<Map<string, string>> {
  return new Map((await registry.getMetricsAsJSON()).map((m) => [m.name, String(m.type)]));
}

/** Names a series selector can use for a metric of a given type. */
function seriesNames(metrics: Map<string, string>): Set<string> {
  const names = new Set<string>();
  for (const [name, type] of metrics) {
    names.add(name);
    if (type === 'histogram') ['_bucket', '_sum', '_count'].forEach((s) => names.add(name + s));
  }
  return names;
}

function load(file: string): any {
  return JSON.parse(readFileSync(join(DASHBOARDS_DIR, file), 'utf8'));
}

function expressions(dash: any): string[] {
  const vars = dash.templating.list.filter((v: any) => v.type === 'query').map((v: any) => v.definition as string);
  return [...dash.panels.flatMap((p: any) => p.targets.map((t: any) => t.expr as string)), ...vars];
}

const metricRefs = (expr: string) => [...expr.matchAll(/\b((?:fishjam|process|nodejs)_[a-zA-Z0-9_]+)\b/g)].map((m) => m[1]!);

test('the contract lists the load metrics the status and dashboards rely on', (t) => {
  const c = contractMetrics();
  for (const name of ['fishjam_rooms', 'fishjam_peers', 'fishjam_forwarded_tracks', 'fishjam_node_draining', 'fishjam_worker_cpu_ratio']) t.true(c.has(name), name);
});

test('cluster overview: queries use only metrics the media server exports', async (t) => {
  const defaults = new Registry();
  collectDefaultMetrics({ register: defaults });
  const known = seriesNames(new Map([...contractMetrics(), ...(await registryNames(defaults))]));
  const dash = load('fishjam-cluster-overview.json');
  const refs = expressions(dash).flatMap(metricRefs);
  t.true(refs.length > 15);
  for (const ref of refs) t.true(known.has(ref), `${ref} is not exported by the media server`);
});

test('cluster overview has the panels the issue asks for', (t) => {
  const dash = load('fishjam-cluster-overview.json');
  const byTitle = new Map<string, string>(dash.panels.map((p: any) => [p.title, p.targets.map((x: any) => x.expr).join(' ')]));
  const wanted: [RegExp, RegExp][] = [
    [/^Nodes$/, /fishjam_rooms/],
    [/^Rooms$/, /fishjam_rooms/],
    [/^Peers$/, /fishjam_peers/],
    [/^Forwarded tracks$/, /fishjam_forwarded_tracks/],
    [/bitrate in per node/, /rate\(fishjam_traffic_ingress_webrtc_total_bytes.*\* 8/],
    [/bitrate out per node/, /rate\(fishjam_traffic_egress_webrtc_total_bytes.*\* 8/],
    [/^Worker CPU$/, /fishjam_worker_cpu_ratio/],
    [/^Draining nodes$/, /fishjam_node_draining/],
  ];
  for (const [title, expr] of wanted) {
    const match = [...byTitle].find(([k]) => title.test(k));
    t.truthy(match, `panel ${title}`);
    t.regex(match![1], expr);
  }
});

test('operator health: queries use only metrics the operator registers', async (t) => {
  const known = seriesNames(await registryNames(operatorMetrics(true).registry));
  const refs = expressions(load('fishjam-operator-health.json')).flatMap(metricRefs);
  for (const name of ['fishjam_operator_reconcile_total', 'fishjam_operator_reconcile_errors_total', 'fishjam_operator_reconcile_duration_seconds_bucket']) {
    t.true(refs.includes(name), `uses ${name}`);
  }
  for (const ref of refs) t.true(known.has(ref), `${ref} is not registered by the operator`);
});

for (const file of ['fishjam-cluster-overview.json', 'fishjam-operator-health.json']) {
  test(`${file}: unique uid and panel ids, panels inside the 24-column grid, a datasource variable`, (t) => {
    const dash = load(file);
    t.regex(dash.uid, /^[a-z0-9-]{1,40}$/);
    const ids = dash.panels.map((p: any) => p.id);
    t.is(new Set(ids).size, ids.length);
    for (const p of dash.panels) {
      t.true(p.gridPos.x + p.gridPos.w <= 24, p.title);
      t.true(p.targets.length > 0, p.title);
      t.is(p.datasource.uid, '${datasource}');
    }
    t.truthy(dash.templating.list.find((v: any) => v.type === 'datasource' && v.query === 'prometheus'));
  });
}
