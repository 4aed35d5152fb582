// The operator's default exposure (PodNetwork) run for real: two media "pods" in network namespaces on one "pod
// network" bridge, each started with exactly the env the operator's pure reconcile renders for them (fieldRefs, the
// generated Secrets and $(VAR) resolved as the kubelet does). The TURN entry is pod A's TURN address (standing in for
// the TURN Service) and the HTTP entry is pod A too (standing in for the client Service, by DNS).
// Shows:
// - a WebRTC client (werift, relay candidates only, like the web SDK) in a third namespace allocates on pod A's TURN
//   server with the credentials pod B minted (one shared secret) and exchanges media with a room placed on pod B;
// - a TURN allocation on pod A cannot relay outside the pods' CIDR: a fourth namespace on another subnet, whose UDP
//   echo pod A reaches directly, gets nothing through the relay (CreatePermission 403, Send dropped), nor does an
//   address of the pod network's subnet outside the CIDR; inside the CIDR the same client relays.
// Network rule: the host namespace never addresses the subnets; every request starts inside a namespace.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import test from 'ava';
import type { OperatorDefaults } from '../../operator/src/api/defaults.js';
import { API_VERSION, KIND, type FishjamCluster } from '../../operator/src/api/types.js';
import { desired } from '../../operator/src/reconcile/desired.js';
import { resolveEnv, secretValues } from '../../operator/test/netns/pod-env.js';
import {
  assertNetnsPermitted,
  createLan,
  ip,
  removeNamespaces,
  root,
  sleep,
  spawnNode,
  startAgent,
  startDnsmasq,
  stopChild,
  waitUntil,
  type Agent,
  type Dns,
  type NsNode,
} from '../support/netns.js';
import type { HttpResult } from '../support/netns-agent.js';
import type { RelayMediaResult, TurnProbeResult } from '../support/relay-client.js';

const PREFIX = 'fjpn-';
const SUBNET = '10.78.0';
/** The pods' CIDR: .0-.15; the client (.100) shares the bridge's /24 but is outside it. */
const POD_CIDR = `${SUBNET}.0/28`;
const HOSTS = { client: 100, 'pod-a': 10, 'pod-b': 11 } as const;
const ipOf = (h: keyof typeof HOSTS) => `${SUBNET}.${HOSTS[h]}`;
/** The fourth namespace, on another subnet: reachable from pod A, outside the pods' CIDR. */
const OUTSIDE_NS = `${PREFIX}out`;
const OUTSIDE_IP = '10.79.0.5';
const ECHO_PORT = 40000;
const NAMESPACE = 'live';
const UDP_ECHO = path.join(root, 'e2e/support/udp-echo.ts');

const operator: OperatorDefaults = {
  image: 'ghcr.io/fishjam-ts/media-server:test',
  clusterDomain: 'cluster.local',
  operatorNamespace: 'fishjam-system',
  operatorPodLabels: { 'app.kubernetes.io/name': 'fishjam-operator' },
};

const state: { agent?: Agent; dns?: Dns; nodes: NsNode[]; helpers: ChildProcess[] } = { nodes: [], helpers: [] };

test.before(async () => {
  await assertNetnsPermitted(PREFIX);
  await removeNamespaces(PREFIX);
});

test.after.always(async () => {
  await state.agent?.stop().catch(() => undefined);
  // SIGINT closes a node at once (SIGTERM would drain); its coturn child goes with it (and with the namespace).
  await Promise.all(state.nodes.map((n) => stopChild(n.child, 'SIGINT', 5000)));
  await Promise.all(state.helpers.map((c) => stopChild(c, 'SIGTERM', 2000)));
  await state.dns?.stop().catch(() => undefined);
  await removeNamespaces(PREFIX);
});

/** A UDP echo (or a one-shot ping) inside `ns`; see udp-echo.ts. */
function udpTool(ns: string, mode: 'echo' | 'ping', host: string, port: number): { child: ChildProcess; output: () => string } {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', UDP_ECHO, mode, host, String(port)], {
    cwd: path.join(root, 'e2e'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, output: () => out };
}

/** The fourth namespace on its own subnet, on the same bridge, with routes between the two subnets (no router). */
async function addOutsideHost(bridgeNs: string): Promise<void> {
  await ip('netns', 'add', OUTSIDE_NS);
  await ip('-n', OUTSIDE_NS, 'link', 'set', 'lo', 'up');
  await ip('-n', bridgeNs, 'link', 'add', 'v-out', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', OUTSIDE_NS);
  await ip('-n', bridgeNs, 'link', 'set', 'v-out', 'master', 'br0', 'up');
  await ip('-n', OUTSIDE_NS, 'addr', 'add', `${OUTSIDE_IP}/24`, 'dev', 'eth0');
  await ip('-n', OUTSIDE_NS, 'link', 'set', 'eth0', 'up');
  await ip('-n', OUTSIDE_NS, 'route', 'add', `${SUBNET}.0/24`, 'dev', 'eth0');
  // pod A can reach it: only its TURN server's peer rules may keep the relay away
  await ip('-n', `${PREFIX}pod-a`, 'route', 'add', '10.79.0.0/24', 'dev', 'eth0');
}

test('PodNetwork: media through one TURN entry to a room on another pod; the relay reaches nothing outside the pods', async (t) => {
  t.timeout(600_000); // generous: nodes start from source through tsx on a loaded machine; no timing is asserted
  // --- the operator's desired objects for the default mode ----------------------------------------------------------
  const cluster: FishjamCluster = {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name: 'media', namespace: NAMESPACE, uid: 'uid-media', generation: 1 },
    spec: {
      replicas: 2,
      workers: 1,
      exposure: { podCidrs: [POD_CIDR], turn: { address: ipOf('pod-a'), serviceType: 'ClusterIP' } },
      dist: { pollingIntervalMs: 1000 },
      drainTimeoutSeconds: 5,
      // HLS on: a component writes to the resources folder, the one writable place besides /tmp
      env: [{ name: 'FJ_COMPONENTS_USED', value: 'hls' }],
    },
  };
  const d = desired(cluster, { statefulSetReplicas: undefined, nodes: [], scaleDown: undefined, now: new Date(), randomSecret: (n) => randomBytes(n).toString('base64url') }, operator);
  t.true(d.valid, JSON.stringify(d.conditions));
  const sts = d.apply.find((o) => o.kind === 'StatefulSet') as any;
  const podSpec = sts.spec.template.spec;
  t.falsy(podSpec.hostNetwork, 'pod network');
  const container = podSpec.containers[0];
  t.true(container.ports.every((p: any) => p.hostPort === undefined), 'no host ports');
  const turnService = d.apply.find((o) => o.kind === 'Service' && o.metadata.name === 'media-turn') as any;
  t.truthy(turnService, 'the TURN Service');
  const turnSecret = d.createIfMissing.find((o) => o.metadata.name === 'media-turn-secret');
  t.truthy(turnSecret, 'the generated TURN secret');
  t.deepEqual(turnSecret!.metadata.ownerReferences?.map((r) => r.uid), ['uid-media']);
  const secrets = secretValues(d.createIfMissing);
  const pods = (['pod-a', 'pod-b'] as const).map((host, ordinal) => {
    const env = resolveEnv(
      container.env,
      { 'metadata.name': `media-${ordinal}`, 'metadata.namespace': NAMESPACE, 'status.podIP': ipOf(host), 'status.hostIP': ipOf('client') },
      secrets,
    );
    return { host, ip: ipOf(host), env };
  });
  const [a, b] = pods as [(typeof pods)[0], (typeof pods)[0]];
  t.is(a.env['FJ_WEBRTC_ANNOUNCED_IP'], a.ip);
  t.is(b.env['FJ_WEBRTC_ANNOUNCED_IP'], b.ip);
  t.is(b.env['FJ_WEBRTC_TURN_IP'], a.ip, 'every pod names the one TURN entry');
  t.is(b.env['FJ_WEBRTC_TURN_ALLOWED_PEER_CIDRS'], POD_CIDR);
  t.is(a.env['FJ_WEBRTC_TURN_SECRET'], b.env['FJ_WEBRTC_TURN_SECRET'], 'one TURN secret for all pods');
  t.true(a.env['FJ_WEBRTC_TURN_SECRET']!.length >= 32);
  t.false(Object.values(a.env).some((v) => v.includes('$(')), 'every reference was expanded');
  const token = a.env['FJ_SERVER_API_TOKEN']!;
  const httpPort = Number(a.env['FJ_PORT']);
  const metricsPort = Number(a.env['FJ_METRICS_PORT']);
  const turnPort = Number(a.env['FJ_WEBRTC_TURN_PORT']);
  const [clientServiceHost] = a.env['FJ_HOST']!.split(':');
  t.is(a.env['FJ_HOST'], `media.${NAMESPACE}.svc.cluster.local:${httpPort}`, 'one HTTP entry: the client Service');

  // --- the network: a bridge, the pods, the client, the outside host ------------------------------------------------
  const lan = await createLan(PREFIX, SUBNET, HOSTS, ipOf('client'));
  await addOutsideHost(lan.bridgeNs);
  t.false((await ip('-4', 'addr')).includes(`${SUBNET}.`) || (await ip('-4', 'addr')).includes('10.79.0.'), 'the host namespace has no address on the subnets');
  // DNS: the headless Service (discovery) and, standing in for the client Service, pod A
  state.dns = await startDnsmasq(lan.hosts.get('client')!.ns, ipOf('client'), a.env['FJ_DIST_QUERY']!, [a.ip, b.ip], { [clientServiceHost!]: [a.ip] });
  state.agent = await startAgent(lan.hosts.get('client')!.ns);
  const agent = state.agent;
  const http = (request: { method?: string; url: string; token?: string; body?: unknown }) => agent.call<HttpResult>({ op: 'http', timeoutMs: 5000, ...request }, 10_000);

  // --- the pods, with exactly the resolved env and what their securityContext promises ----------------------------
  // runAsUser/runAsGroup, no privilege escalation, ALL capabilities dropped, a read-only root with the emptyDir volumes
  // as the only writable mounts (seccomp RuntimeDefault is the container runtime's profile: not applied here)
  const podSecurity = podSpec.securityContext;
  t.like(container.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  t.true(podSecurity.runAsNonRoot && podSecurity.runAsUser > 0 && podSecurity.runAsGroup > 0);
  const emptyDirs = new Set(podSpec.volumes.filter((v: any) => v.emptyDir).map((v: any) => v.name));
  const writable: string[] = container.volumeMounts.filter((m: any) => emptyDirs.has(m.name)).map((m: any) => m.mountPath);
  t.deepEqual(writable, ['/tmp', a.env['FJ_RESOURCES_BASE_PATH']], 'the temp folder and the resources folder');
  const confined = { uid: podSecurity.runAsUser, gid: podSecurity.runAsGroup, writable };
  for (const pod of pods) state.nodes.push(spawnNode(`${PREFIX}${pod.host}`, pod.env, { fromSource: true, confined }));
  const alive = () =>
    state.nodes.forEach((n, i) => {
      if (n.exited()) throw new Error(`${pods[i]!.host} exited (code ${n.child.exitCode}): ${n.output().slice(-3000)}`);
    });
  const deadline = Date.now() + 90_000;
  for (;;) {
    alive();
    const answers = await Promise.all(pods.map((p) => http({ url: `http://${p.ip}:${httpPort}/health`, token })));
    if (answers.every((r) => r.status === 200 && r.body?.data?.distribution?.nodesInCluster === 2)) break;
    if (Date.now() > deadline) throw new Error(`no cluster of 2: ${JSON.stringify(answers.map((r) => r.body))}\n${state.nodes.map((n) => n.output().slice(-1500)).join('\n---\n')}`);
    await sleep(300);
  }

  // --- each node runs confined: its user, no capabilities, no new privileges, a read-only root ---------------------
  for (const node of state.nodes) {
    const status = readFileSync(`/proc/${node.child.pid}/status`, 'utf8');
    const field = (name: string) => new RegExp(`^${name}:[ \\t]*(.*)$`, 'm').exec(status)?.[1]?.trim().split(/\s+/).filter(Boolean);
    t.deepEqual(field('Uid'), Array(4).fill(String(confined.uid)), `${node.ns}: uid`);
    t.deepEqual(field('Gid'), Array(4).fill(String(confined.gid)), `${node.ns}: gid`);
    t.deepEqual(field('Groups'), [], `${node.ns}: no supplementary groups`);
    t.deepEqual([field('CapEff'), field('CapBnd'), field('NoNewPrivs')], [['0000000000000000'], ['0000000000000000'], ['1']], `${node.ns}: no capabilities`);
    const mounts = readFileSync(`/proc/${node.child.pid}/mountinfo`, 'utf8').split('\n').map((l) => l.split(' '));
    const optionsOf = (mountPoint: string) => mounts.filter((m) => m[4] === mountPoint).at(-1)?.[5]?.split(',');
    t.true(optionsOf('/')?.includes('ro'), `${node.ns}: read-only root`);
    for (const dir of writable) t.true(optionsOf(dir)?.includes('rw'), `${node.ns}: ${dir} writable`);
  }

  // --- a room on pod B, created through the HTTP entry (pod A) ------------------------------------------------------
  const roomsOn = async (pod: { ip: string }) => {
    const metrics = await http({ url: `http://${pod.ip}:${metricsPort}/metrics` });
    return Number(/^fishjam_rooms (\d+)/m.exec(String(metrics.body))?.[1] ?? NaN);
  };
  let roomId: string | undefined;
  for (let i = 0; i < 6 && !roomId; i++) {
    const before = await roomsOn(b);
    const created = await http({ method: 'POST', url: `http://${clientServiceHost}:${httpPort}/room`, token, body: {} });
    t.is(created.status, 201, JSON.stringify(created.body));
    if ((await roomsOn(b)) > before) roomId = created.body.data.room.id;
  }
  t.truthy(roomId, 'placement put a room on pod B');
  const addPeer = async () => {
    const r = await http({ method: 'POST', url: `http://${clientServiceHost}:${httpPort}/room/${roomId}/peer`, token, body: { type: 'webrtc', options: {} } });
    t.is(r.status, 201, JSON.stringify(r.body));
    return { socketUrl: `ws://${r.body.data.peer_websocket_url}`, token: r.body.data.token as string };
  };
  const [publisher, subscriber] = [await addPeer(), await addPeer()];
  t.true(publisher.socketUrl.startsWith(`ws://${clientServiceHost}:${httpPort}/`), 'the peer socket goes to the HTTP entry, which proxies to pod B');

  // --- media: relay candidates only, allocated on pod A's TURN server, to the room on pod B ---------------------------
  const media = await agent.call<RelayMediaResult>({ op: 'relayMedia', publisher, subscriber, timeoutMs: 30_000, measureMs: 3000 }, 120_000);
  t.log(`media: ${JSON.stringify({ streams: media.streams, sent: media.sentPackets, pub: media.publisherPair, sub: media.subscriberPair })}`);
  t.is(media.error, undefined);
  t.deepEqual(media.turnServers.map((s) => `${s.transport}:${s.serverAddr}:${s.serverPort}`), [`udp:${a.ip}:${turnPort}`, `tcp:${a.ip}:${turnPort}`], 'pod B names the one TURN entry');
  for (const pair of [media.publisherPair, media.subscriberPair]) {
    t.is(pair?.local.type, 'relay', 'a relay candidate');
    t.is(pair?.local.host, a.ip, 'relayed by pod A\'s TURN server');
    t.is(pair?.remote.host, b.ip, 'to pod B\'s WebRTC address');
  }
  t.deepEqual(media.streams.map((s) => s.kind).sort(), ['audio', 'video']);
  for (const s of media.streams) t.true(s.received > 20, `${s.kind}: ${s.received} packets received through the relay`);
  alive();

  // --- the relay's limits ------------------------------------------------------------------------------------------
  // echoes: outside the CIDR on another subnet, and inside the CIDR (pod B's namespace) as a control
  const outsideEcho = udpTool(OUTSIDE_NS, 'echo', OUTSIDE_IP, ECHO_PORT);
  const podEcho = udpTool(`${PREFIX}pod-b`, 'echo', b.ip, ECHO_PORT);
  state.helpers.push(outsideEcho.child, podEcho.child);
  await waitUntil(() => outsideEcho.output().includes('ready') && podEcho.output().includes('ready'), 20_000, 'the UDP echoes');
  // the outside host is reachable from pod A's namespace: only the TURN server's rules can keep the relay away
  const direct = udpTool(`${PREFIX}pod-a`, 'ping', OUTSIDE_IP, ECHO_PORT);
  const directCode = await new Promise<number | null>((resolve) => direct.child.once('exit', resolve));
  t.is(directCode, 0, `pod A reaches ${OUTSIDE_IP} directly: ${direct.output()}`);
  const gotBefore = outsideEcho.output().split('got ').length - 1;
  // what the outside host logged so far: the direct ping, whose ephemeral source port may well start with 5
  const logBefore = outsideEcho.output().length;
  t.is(gotBefore, 1, 'the direct ping arrived');

  const turn = media.turnServers.find((s) => s.transport === 'udp')!;
  const probe = await agent.call<TurnProbeResult>(
    {
      op: 'turnProbe',
      server: { ip: turn.serverAddr, port: turn.serverPort },
      username: turn.username,
      password: turn.password,
      peers: [{ ip: b.ip, port: ECHO_PORT }, { ip: OUTSIDE_IP, port: ECHO_PORT }, { ip: ipOf('client'), port: ECHO_PORT }],
      waitMs: 3000,
    },
    30_000,
  );
  t.log(`probe: ${JSON.stringify(probe)}`);
  t.is(probe.relayed.ip, a.ip, 'allocated on pod A');
  t.deepEqual(probe.permissions, ['ok', 403, 403], 'inside the CIDR: allowed; another subnet and the pod subnet outside the CIDR: 403 Forbidden');
  t.is(probe.echoes[0], 'echo:probe-0', 'the control: relayed to the pod and back');
  t.falsy(probe.echoes[1], 'nothing came back from the outside host');
  t.falsy(probe.echoes[2], 'nor from the pod subnet outside the CIDR');
  await sleep(500);
  t.is(outsideEcho.output().split('got ').length - 1, gotBefore, 'no datagram from the relay reached the outside host');
  t.false(outsideEcho.output().slice(logBefore).includes(`got ${a.ip}:`), 'nothing from pod A after the direct ping (a relay port)');

  // --- a component writes where the pod lets it: its HLS folder appears in the node's resources tmpfs ---------------
  const hlsRoom = await http({ method: 'POST', url: `http://${clientServiceHost}:${httpPort}/room`, token, body: { videoCodec: 'h264' } });
  t.is(hlsRoom.status, 201, JSON.stringify(hlsRoom.body));
  const hlsRoomId = hlsRoom.body.data.room.id as string;
  const hls = await http({ method: 'POST', url: `http://${clientServiceHost}:${httpPort}/room/${hlsRoomId}/component`, token, body: { type: 'hls' } });
  t.is(hls.status, 201, JSON.stringify(hls.body));
  // seen through /proc/<pid>/root: the node's own mounts, invisible in the host's file system
  const folders = state.nodes.map((n) => `/proc/${n.child.pid}/root${a.env['FJ_RESOURCES_BASE_PATH']}/temporary_hls/${hlsRoomId}`);
  await waitUntil(() => folders.some((f) => existsSync(f)), 20_000, 'the HLS folder in a node\'s resources');
  const made = statSync(folders.find((f) => existsSync(f))!);
  t.deepEqual([made.uid, made.gid], [confined.uid, confined.gid], 'made by the node\'s user');
  t.false(existsSync(`${a.env['FJ_RESOURCES_BASE_PATH']}/temporary_hls/${hlsRoomId}`), 'not on the host\'s file system');
  alive();
});
