import test from 'ava';
import { validateAgainst } from '../support/openapi-validator.js';
import { startTestNode, waitFor } from '../support/test-node.js';

test('/health follows the original document; probes need no token and reveal nothing else', async (t) => {
  const n = await startTestNode({ FJ_GIT_COMMIT: 'abc123' });
  try {
    const health = await n.api('/health');
    t.is(health.status, 200);
    t.deepEqual(validateAgainst('HealthcheckResponse', health.body), []);
    t.like(health.body.data, { status: 'UP', gitCommit: 'abc123', distribution: { enabled: false, nodeStatus: 'UP', nodesInCluster: 1 } });
    t.true(Number.isInteger(health.body.data.uptime));
    const live = await fetch(n.base + '/livez');
    t.deepEqual([live.status, await live.json()], [200, { status: 'alive' }]);
    const ready = await fetch(n.base + '/readyz');
    t.deepEqual([ready.status, await ready.json()], [200, { status: 'ready' }]);
  } finally {
    await n.stop();
  }
});

test('drain: no new rooms, existing rooms keep taking peers, readiness fails, metrics show it, done when empty', async (t) => {
  const n = await startTestNode({ FJ_DRAIN_TIMEOUT: '20' });
  try {
    await n.api('/room', { method: 'POST', json: { roomId: 'stays' } });
    const drained = n.api('/admin/drain', { method: 'POST' });
    t.is((await drained).status, 202);
    t.is(n.node.state.status, 'DRAINING');
    const refused = await n.api('/room', { method: 'POST' });
    t.deepEqual([refused.status, refused.body], [503, { errors: 'This Fishjam instance is draining and accepts no new rooms' }]);
    t.is((await n.api('/room/stays/peer', { method: 'POST', json: { type: 'webrtc', options: {} } })).status, 201);
    t.is((await fetch(n.base + '/readyz')).status, 503);
    t.is((await n.api('/health')).body.data.nodeState, 'DRAINING');
    const metrics = await (await fetch(`http://127.0.0.1:${n.node.metricsPort}/metrics`)).text();
    t.regex(metrics, /^fishjam_node_draining 1$/m);
    let outcome: string | undefined;
    void n.node.drain().then((o) => (outcome = o));
    await new Promise((r) => setTimeout(r, 300));
    t.is(outcome, undefined, 'a room is left, the drain waits');
    await n.api('/room/stays', { method: 'DELETE' });
    await waitFor(() => outcome === 'empty', 3000, 'drain to finish');
  } finally {
    await n.stop();
  }
});

test('drain gives up after FJ_DRAIN_TIMEOUT', async (t) => {
  const n = await startTestNode({ FJ_DRAIN_TIMEOUT: '1' });
  try {
    await n.api('/room', { method: 'POST' });
    const started = Date.now();
    t.is(await n.node.drain(), 'timeout');
    const took = Date.now() - started;
    t.true(took >= 900 && took < 10_000, `took ${took} ms`); // gives up (1 s), rather than how fast
  } finally {
    await n.stop();
  }
});

test('metrics endpoint exports the documented names', async (t) => {
  const n = await startTestNode();
  try {
    const id = (await n.api('/room', { method: 'POST' })).body.data.room.id;
    await n.api(`/room/${id}/peer`, { method: 'POST', json: { type: 'webrtc', options: {} } });
    const text = await (await fetch(`http://127.0.0.1:${n.node.metricsPort}/metrics`)).text();
    t.regex(text, /^fishjam_rooms 1$/m);
    t.regex(text, /^fishjam_peers 1$/m);
    t.true(text.includes(`fishjam_room_peers{room_id="${id}"} 1`));
    for (const name of ['fishjam_forwarded_tracks', 'fishjam_worker_cpu_ratio', 'fishjam_worker_consumers', 'fishjam_worker_producers', 'fishjam_worker_transports', 'fishjam_traffic_ingress_webrtc_total_bytes', 'fishjam_traffic_egress_http_total_bytes', 'fishjam_room_peer_connects_total', 'fishjam_http_request_duration_seconds_bucket', 'fishjam_cluster_nodes', 'process_cpu_seconds_total']) {
      t.regex(text, new RegExp(`^${name}`, 'm'), name);
    }
    t.regex(text, /fishjam_http_request_duration_seconds_count\{method="POST",route="\/room",status="201"\} 1/);
    t.is((await fetch(`http://127.0.0.1:${n.node.metricsPort}/other`)).status, 404);
  } finally {
    await n.stop();
  }
});
