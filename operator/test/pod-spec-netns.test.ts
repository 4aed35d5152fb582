// The generated pod spec, run for real. A FishjamCluster (pod-network mode, 3 replicas) goes through the operator's
// pure reconcile; the StatefulSet's container env is resolved the way the kubelet does it (fieldRefs, the generated
// Secrets, $(VAR) expansion) and `node media-server/dist/main.js` runs with exactly that env (plus PATH, which the
// image provides), one process per network namespace ("pod") on one bridge, with dnsmasq answering the headless
// Service name. Probes run on the spec's paths and ports; the nodes must form a cluster through DNS; rooms are
// created on the client port; then the operator's own status code, run inside a namespace on the same bridge,
// scrapes every pod's /metrics and must report the same rooms, peers and ready nodes.
// Network rule: the host namespace never addresses the subnet; every request starts inside a namespace.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import type { Aggregate } from '../src/status/aggregate.js';
import type { FishjamClusterStatus } from '../src/api/types.js';
import { desired } from '../src/reconcile/desired.js';
import { find, makeCluster, observedNothing, operatorDefaults } from './cluster-fixture.js';
import {
  createLan,
  ip,
  namespacesWithPrefix,
  pollUntil,
  removeNamespaces,
  repoRoot,
  runScriptIn,
  spawnIn,
  startAgent,
  startDnsmasq,
  stopChild,
  type Agent,
  type Proc,
} from './netns/harness.js';
import type { HttpResult } from './netns/agent.js';
import { expand, resolveEnv, secretValues } from './netns/pod-env.js';

const PREFIX = 'fjop-';
const SUBNET = '10.231.7';
const DNS_IP = `${SUBNET}.2`;
/** The operator's (and kubelet's) side: probes, client requests and the status refresh all start here. */
const OP_IP = `${SUBNET}.3`;
const podIp = (ordinal: number) => `${SUBNET}.${10 + ordinal}`;
const NAMESPACE = 'live';
const MEDIA_MAIN = path.join(repoRoot, 'media-server/dist/main.js');

const run = promisify(execFile);

const state: { agent?: Agent; dns?: { stop(): Promise<void> }; nodes: Proc[] } = { nodes: [] };

test.before(async () => {
  if (process.getuid?.() !== 0) throw new Error('pod-spec-netns needs root (network namespaces)');
  if (!existsSync(MEDIA_MAIN)) {
    await run('npm', ['run', 'build', '-w', 'media-server'], { cwd: repoRoot, timeout: 180_000 });
  }
  await removeNamespaces(PREFIX);
});

test.after.always(async () => {
  await state.agent?.stop().catch(() => undefined);
  // SIGINT closes a node at once (SIGTERM would drain for FJ_DRAIN_TIMEOUT); its coturn child goes with it.
  await Promise.all(state.nodes.map((n) => stopChild(n.child, 'SIGINT', 3000)));
  await state.dns?.stop().catch(() => undefined);
  // Anything left inside the namespaces (a TURN server of a killed node) is killed with them.
  await removeNamespaces(PREFIX);
});

test('Kubernetes $(VAR) expansion rules', (t) => {
  const vars = new Map([['A', 'x'], ['B', '$(A)']]);
  t.is(expand('$(A):8080', vars), 'x:8080');
  t.is(expand('$$(A)', vars), '$(A)', '$$ escapes');
  t.is(expand('$(C).d', vars), '$(C).d', 'unknown names stay as written');
  t.is(expand('$(B)', vars), '$(A)', 'values are not expanded twice');
  t.is(expand('a$b$', vars), 'a$b$');
  t.is(expand('$(A', vars), '$(A');
});

test('the generated pod spec runs: nodes get ready, form a cluster, and the status aggregation reads their load', async (t) => {
  const started = Date.now();
  const since = () => Date.now() - started;

  // --- the operator's desired objects -----------------------------------------------------------------------------
  const cluster = makeCluster(
    {
      replicas: 3,
      exposure: {
        mode: 'ServicePerPod',
        // per-pod ClusterIP Services named <name>-<ordinal>; media goes to the pod's own address
        hostTemplate: '$(POD_NAME).$(POD_NAMESPACE).svc.cluster.local:8080',
        announcedAddressTemplate: '$(POD_IP)',
        servicePerPod: { type: 'ClusterIP' },
      },
      dist: { pollingIntervalMs: 1000 },
      webrtc: { turnPort: 3479 },
      drainTimeoutSeconds: 5,
    },
    'media',
    NAMESPACE,
  );
  const d = desired(cluster, observedNothing({ randomSecret: (bytes) => randomBytes(bytes).toString('base64url') }), operatorDefaults);
  t.true(d.valid, JSON.stringify(d.conditions));
  const sts = find(d, 'StatefulSet', 'media');
  t.is(sts.spec.replicas, 3);
  t.falsy(sts.spec.template.spec.hostNetwork, 'pod-network mode');
  const container = sts.spec.template.spec.containers[0];
  const portOf = (name: string) => {
    const p = container.ports.find((q: { name: string }) => q.name === name);
    if (!p) throw new Error(`no container port ${name}`);
    return p.containerPort as number;
  };
  const probePort = (probe: { httpGet: { port: string | number } }) =>
    typeof probe.httpGet.port === 'number' ? probe.httpGet.port : portOf(probe.httpGet.port);
  const secrets = secretValues(d.createIfMissing);
  const headless = find(d, 'Service', sts.spec.serviceName);
  t.is(headless.spec.clusterIP, 'None');

  const pods = [0, 1, 2].map((ordinal) => {
    const name = `${sts.metadata.name}-${ordinal}`;
    const env = resolveEnv(
      container.env,
      { 'metadata.name': name, 'metadata.namespace': NAMESPACE, 'status.podIP': podIp(ordinal), 'status.hostIP': OP_IP },
      secrets,
    );
    return { ordinal, name, ip: podIp(ordinal), env };
  });
  const env0 = pods[0]!.env;
  const query = env0['FJ_DIST_QUERY']!;
  t.is(query, `${headless.metadata.name}.${NAMESPACE}.svc.cluster.local`, 'FJ_DIST_QUERY names the headless Service');
  t.is(env0['FJ_HOST'], `media-0.${NAMESPACE}.svc.cluster.local:8080`);
  t.is(env0['FJ_DIST_NODE_NAME'], `fishjam@${podIp(0)}`);
  t.is(env0['FJ_WEBRTC_ANNOUNCED_IP'], podIp(0));
  t.is(env0['FJ_WEBRTC_TURN_IP'], podIp(0));
  t.is(env0['FJ_WEBRTC_TURN_PORT'], String(portOf('turn-udp')));
  t.is(env0['FJ_PORT'], String(portOf('http')));
  t.is(env0['FJ_METRICS_PORT'], String(portOf('metrics')));
  t.is(env0['FJ_DIST_MIN_PORT'], String(portOf('dist')));
  t.false(Object.values(env0).some((v) => v.includes('$(')), 'every reference was expanded');
  const token = env0['FJ_SERVER_API_TOKEN']!;
  t.true(token.length > 20);
  t.is(pods[1]!.env['FJ_DIST_COOKIE'], env0['FJ_DIST_COOKIE'], 'one cookie for all pods');

  // --- the network: bridge, pods, DNS, the operator's namespace -----------------------------------------------------
  const lan = await createLan(
    PREFIX,
    SUBNET,
    { dns: 2, op: 3, ...Object.fromEntries(pods.map((p) => [p.name, 10 + p.ordinal])) },
    DNS_IP,
  );
  t.deepEqual((await namespacesWithPrefix(PREFIX)).sort(), [`${PREFIX}br`, `${PREFIX}dns`, `${PREFIX}media-0`, `${PREFIX}media-1`, `${PREFIX}media-2`, `${PREFIX}op`].sort());
  t.false((await ip('-4', 'addr')).includes(`${SUBNET}.`), 'the host namespace has no address on the subnet');
  state.dns = await startDnsmasq(lan.members.get('dns')!.ns, DNS_IP, query, pods.map((p) => p.ip));
  state.agent = await startAgent(lan.members.get('op')!.ns);
  const agent = state.agent;
  const http = (request: { method?: string; url: string; token?: string; body?: unknown; timeoutMs?: number }) =>
    agent.call<HttpResult>({ op: 'http', ...request }, (request.timeoutMs ?? 3000) + 2000);

  // --- the pods' processes, with exactly the resolved env -----------------------------------------------------------
  const spawnAt = since();
  for (const pod of pods) {
    const proc = spawnIn(lan.members.get(pod.name)!.ns, [process.execPath, MEDIA_MAIN], { PATH: process.env['PATH']!, ...pod.env }, repoRoot);
    state.nodes.push(proc);
  }
  const alive = () => {
    state.nodes.forEach((n, i) => {
      if (n.exited()) throw new Error(`${pods[i]!.name} exited (code ${n.child.exitCode}): ${n.output().slice(-3000)}`);
    });
  };

  // --- the kubelet: startup probe, then readiness, on the spec's paths and ports --------------------------------------
  const probeOk = async (ipAddr: string, probe: { httpGet: { path: string; port: string | number }; timeoutSeconds?: number }) => {
    const res = await http({ url: `http://${ipAddr}:${probePort(probe)}${probe.httpGet.path}`, timeoutMs: (probe.timeoutSeconds ?? 1) * 1000 });
    return res.status >= 200 && res.status < 400;
  };
  const readyAt = await Promise.all(
    pods.map(async (pod) => {
      // the spec allows periodSeconds x failureThreshold; polled faster here, bounded at 30 s
      await pollUntil(async () => (alive(), (await probeOk(pod.ip, container.startupProbe)) ? true : undefined), 30_000, 100, () => `${pod.name} startup probe ${container.startupProbe.httpGet.path}`);
      t.true(await probeOk(pod.ip, container.livenessProbe), `${pod.name} liveness`);
      await pollUntil(async () => (alive(), (await probeOk(pod.ip, container.readinessProbe)) ? true : undefined), 20_000, 100, () => `${pod.name} readiness probe ${container.readinessProbe.httpGet.path}`);
      return since() - spawnAt;
    }),
  );
  t.deepEqual([container.startupProbe.httpGet.path, container.readinessProbe.httpGet.path], ['/livez', '/readyz']);
  t.log(`ready (readiness probe 200) after ${readyAt.join(', ')} ms from spawn`);

  // --- they form a cluster through the headless Service's DNS name ----------------------------------------------------
  const health = await pollUntil(
    async () => {
      alive();
      const answers = await Promise.all(pods.map((p) => http({ url: `http://${p.ip}:${portOf('http')}/health`, token })));
      return answers.every((a) => a.status === 200 && a.body?.data?.distribution?.nodesInCluster === 3) ? answers : undefined;
    },
    30_000,
    200,
    () => `nodesInCluster 3 on every node: ${state.nodes.map((n) => n.output().slice(-400)).join('\n---\n')}`,
  );
  const formedAt = since() - spawnAt;
  t.log(`cluster of 3 formed ${formedAt} ms after spawn`);
  for (const h of health) t.like(h.body.data, { status: 'UP', distribution: { enabled: true, nodeStatus: 'UP', nodesInCluster: 3 } });
  t.is((await http({ url: `http://${podIp(0)}:${portOf('http')}/health` })).status, 401, '/health needs the token');

  // the TURN server listens on the spec's TURN port (UDP) of each pod
  for (const pod of pods) {
    const stun = await agent.call<{ answered: boolean }>({ op: 'stun', host: pod.ip, port: portOf('turn-udp'), timeoutMs: 3000 }, 5000);
    t.true(stun.answered, `${pod.name} answers STUN on ${portOf('turn-udp')}`);
  }

  // --- rooms and peers through the client-facing port -----------------------------------------------------------------
  const hosts = new Map(pods.map((p) => [p.env['FJ_HOST']!, p.name]));
  const roomOwner = new Map<string, string>();
  for (let i = 0; i < 5; i++) {
    const via = pods[i % 3]!;
    const res = await http({ method: 'POST', url: `http://${via.ip}:${portOf('http')}/room`, token, body: { maxPeers: 10 } });
    t.is(res.status, 201, JSON.stringify(res.body));
    const owner = hosts.get(res.body.data.fishjam_address);
    t.truthy(owner, `fishjam_address ${res.body.data.fishjam_address} is a pod's FJ_HOST`);
    roomOwner.set(res.body.data.room.id, owner!);
  }
  const roomIds = [...roomOwner.keys()];
  const peerRooms = [roomIds[0]!, roomIds[0]!, roomIds[1]!];
  for (const [i, roomId] of peerRooms.entries()) {
    const via = pods[(i + 1) % 3]!;
    const res = await http({ method: 'POST', url: `http://${via.ip}:${portOf('http')}/room/${roomId}/peer`, token, body: { type: 'webrtc', options: {} } });
    t.is(res.status, 201, JSON.stringify(res.body));
    t.true(String(res.body.data.peer_websocket_url).startsWith(`${[...hosts.entries()].find(([, n]) => n === roomOwner.get(roomId))![0]}/`));
  }
  const listed = await http({ url: `http://${podIp(2)}:${portOf('http')}/room`, token });
  t.is(listed.body.data.length, 5, 'GET /room lists the whole cluster');
  const expectRooms = (pod: string) => [...roomOwner.values()].filter((o) => o === pod).length;
  const expectPeers = (pod: string) => peerRooms.filter((r) => roomOwner.get(r) === pod).length;
  t.log(`rooms per node: ${pods.map((p) => `${p.name}=${expectRooms(p.name)}`).join(' ')}`);

  // --- the operator's status refresh, from inside the operator's namespace ----------------------------------------------
  const podObjects = pods.map((p) => ({
    metadata: { name: p.name, labels: sts.spec.template.metadata.labels },
    status: { podIP: p.ip, conditions: [{ type: 'Ready', status: 'True' }] },
  }));
  const input = JSON.stringify({
    cluster,
    pods: podObjects,
    outcome: { generation: 3, valid: true, conditions: d.conditions, scaleDown: undefined, error: undefined, desiredReplicas: 3 },
    operator: operatorDefaults,
  });
  const script = path.join(repoRoot, 'operator/test/netns/operator-status.ts');
  const statusStart = Date.now();
  const result = await pollUntil(
    async () => {
      const out = JSON.parse(await runScriptIn(lan.members.get('op')!.ns, script, input, 15_000)) as {
        aggregate: Aggregate;
        status: FishjamClusterStatus;
        scrapeErrors: number;
        metricsPort: number;
      };
      return out.aggregate.rooms === 5 && out.aggregate.peers === 3 ? out : undefined;
    },
    20_000,
    300,
    () => 'the aggregate to count 5 rooms and 3 peers',
  );
  t.log(`operator status refresh (tsx script in ${PREFIX}op): ${Date.now() - statusStart} ms`);
  t.is(result.metricsPort, portOf('metrics'));
  t.is(result.scrapeErrors, 0);
  const agg = result.aggregate;
  t.is(agg.readyNodes, 3);
  t.is(agg.rooms, 5);
  t.is(agg.peers, 3);
  t.is(agg.forwardedTracks, 0);
  t.deepEqual(agg.drainingNodes, []);
  t.deepEqual(
    agg.nodes.map((n) => [n.name, n.ordinal, n.podIP, n.ready, n.draining, n.rooms, n.peers, n.error]),
    pods.map((p) => [p.name, p.ordinal, p.ip, true, false, expectRooms(p.name), expectPeers(p.name), undefined]),
  );
  const status = result.status;
  t.is(status.nodesSummary, '3/3');
  t.is(status.rooms, 5);
  t.is(status.peers, 3);
  t.like(status.conditions?.find((c) => c.type === 'Ready'), { status: 'True', reason: 'AllNodesReady' });
  t.log(`total ${since()} ms`);
});
