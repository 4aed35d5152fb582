// Supervision of peer sockets relayed over a dist link, with short deadlines (1 s auth, 500 ms pings) at both ends:
// two cluster nodes linked in-process (real dist links, port mapper, cookie handshake), each with a PeerSocketProxy;
// the owner hands relayed sockets to the peer socket handler on a whole node's rooms (real registry, mediasoup,
// signalling). The entry node closes a silent client "unauthenticated", terminates a client that stops answering
// pings (which closes the session at the owner: the peer turns disconnected, then peerDisconnectedTimeout removes
// it), keeps a live client however long it stays, and a handler failure at the owner closes the client 1011 through
// the relay.
import test from 'ava';
import type { WebSocket } from 'ws';
import { ClusterNode } from '../../src/cluster/cluster-node.js';
import { PeerSocketProxy } from '../../src/cluster/peer-socket-proxy.js';
import { decodePeerMessage, encodePeerMessage, type PeerMessage } from '../../src/proto/index.js';
import { handlePeerSocket } from '../../src/signaling/peer-socket.js';
import { SignalingHub } from '../../src/signaling/signaling-hub.js';
import { freePort } from '../support/free-port.js';
import { connect, recordingLogger, serveSockets, sleep, type Client, type Endpoint } from '../support/socket-endpoint.js';
import { startTestNode, testConfig, waitFor, type TestNode } from '../support/test-node.js';

// Long enough for a loaded 2-core machine: an authentication round trip (through the relay) and a pong fit easily.
const AUTH_MS = 1000;
const PING_MS = 500;
const LIVENESS = { authTimeoutMs: AUTH_MS, pingIntervalMs: PING_MS };
const PATH = '/socket/peer/websocket';

class BuggySignalingHub extends SignalingHub {
  override receive(roomId: string, peerId: string, json: string): void {
    if (json.includes('"explode"')) throw new Error('media event handler broke');
    super.receive(roomId, peerId, json);
  }
}

let n: TestNode;
let entry: ClusterNode;
let owner: ClusterNode;
let endpoint: Endpoint;
let records: Array<Record<string, unknown>>;
const clients: Client[] = [];

function clusterNode(name: string, mapperPort: string, nodes: string): ClusterNode {
  const config = testConfig({ FJ_DIST_ENABLED: 'true', FJ_DIST_NODE_NAME: name, FJ_DIST_PORT_MAPPER_PORT: mapperPort, FJ_DIST_COOKIE: 'relay-cookie', FJ_DIST_NODES: nodes });
  return new ClusterNode({
    dist: config.dist,
    bindIp: '127.0.0.1',
    publicHost: `${name}:5002`,
    portMapperPort: config.dist.portMapperPort,
    reportIntervalMs: 1000,
    staleAfterMs: 2000,
    leftAfterMs: 15_000,
    localLoad: () => ({ state: 'SERVING', rooms: 0, peers: 0, forwardedTracks: 0, cpu: 0, roomIds: [] }),
    logger: recordingLogger().logger,
  });
}

test.before(async () => {
  n = await startTestNode();
  const recording = recordingLogger();
  records = recording.records;
  const mapperPort = String(await freePort());
  owner = clusterNode('owner@127.0.0.1', mapperPort, '');
  await owner.start();
  entry = clusterNode('entry@127.0.0.1', mapperPort, 'owner@127.0.0.1');
  await entry.start();
  await waitFor(() => entry.isLinked('owner@127.0.0.1') && owner.isLinked('entry@127.0.0.1'), 8000, 'the dist link');

  const hub = new BuggySignalingHub(n.node.registry, n.node.bus, recording.logger);
  const atOwner = (socket: WebSocket): void =>
    handlePeerSocket(socket, { registry: n.node.registry, hub, secretKeyBase: n.node.config.secretKeyBase, logger: recording.logger, liveness: LIVENESS });
  const unexpected = (): never => {
    throw new Error('the entry node holds no rooms');
  };
  new PeerSocketProxy(owner, async () => owner.self.full, atOwner, recording.logger.child({ node: 'owner' }), LIVENESS);
  const entryProxy = new PeerSocketProxy(entry, async () => owner.self.full, unexpected, recording.logger.child({ node: 'entry' }), LIVENESS);
  endpoint = await serveSockets({ [PATH]: (socket: WebSocket) => entryProxy.accept(socket) });
});

test.after.always(async () => {
  for (const c of clients) c.ws.terminate();
  await endpoint?.close();
  await entry?.stop();
  await owner?.stop();
  await n?.stop();
});

const peerMessages = (client: Client): PeerMessage[] => client.frames.flatMap((f) => {
  const decoded = decodePeerMessage(f);
  return decoded.ok ? [decoded.value] : [];
});

async function room(json: Record<string, unknown> = {}): Promise<string> {
  const res = await n.api('/room', { method: 'POST', json });
  if (res.status !== 201) throw new Error(`create room: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data.room.id as string;
}

/** A peer that authenticates through the entry node. */
async function relayed(roomId: string, options: { autoPong?: boolean } = {}): Promise<{ peerId: string; client: Client }> {
  const res = await n.api(`/room/${roomId}/peer`, { method: 'POST', json: { type: 'webrtc', options: {} } });
  if (res.status !== 201) throw new Error(`add peer: ${res.status} ${JSON.stringify(res.body)}`);
  const client = await connect(endpoint.url(PATH), options);
  clients.push(client);
  client.ws.send(encodePeerMessage({ authRequest: { token: res.body.data.token as string } }));
  await waitFor(() => peerMessages(client).some((m) => 'authenticated' in m), 3000, 'authenticated through the relay');
  return { peerId: res.body.data.peer.id as string, client };
}

async function peerStatus(roomId: string, peerId: string): Promise<string | undefined> {
  const res = await n.api(`/room/${roomId}`);
  return (res.body?.data?.peers as Array<{ id: string; status: string }> | undefined)?.find((p) => p.id === peerId)?.status;
}

test('a client that sends nothing to the entry node is closed 1000 "unauthenticated" after the deadline', async (t) => {
  const client = await connect(endpoint.url(PATH));
  clients.push(client);
  const closed = await client.closed(3000);
  t.deepEqual([closed.code, closed.reason], [1000, 'unauthenticated']);
  t.true(closed.afterMs >= AUTH_MS / 2 && closed.afterMs < AUTH_MS + 1500, `closed after ${closed.afterMs} ms`);
});

test('a relayed peer that answers pings stays connected past both deadlines at both ends', async (t) => {
  const roomId = await room();
  const { peerId, client } = await relayed(roomId);
  let pings = 0;
  client.ws.on('ping', () => pings++);
  await sleep(AUTH_MS + PING_MS * 3);
  t.true(client.isOpen);
  t.true(pings >= 3, `${pings} pings from the entry node`);
  t.is(await peerStatus(roomId, peerId), 'connected');
  client.ws.send(encodePeerMessage({ mediaEvent: { data: JSON.stringify({ type: 'connect', data: { metadata: null } }) } }));
  await waitFor(() => peerMessages(client).some((m) => 'mediaEvent' in m && m.mediaEvent.data.includes('"connected"')), 5000, 'connected media event');
  client.ws.close();
  await waitFor(async () => (await peerStatus(roomId, peerId)) === 'disconnected', 3000, 'disconnected at the owner after a clean close');
});

test('a relayed peer that stops answering pings is terminated at the entry; the owner marks it disconnected, then removes it', async (t) => {
  const roomId = await room({ peerDisconnectedTimeout: 1 });
  const { peerId, client } = await relayed(roomId, { autoPong: false });
  t.is(await peerStatus(roomId, peerId), 'connected');
  const closed = await client.closed(3000);
  t.is(closed.code, 1006, 'terminated: no close frame');
  t.true(closed.afterMs >= 1.5 * PING_MS && closed.afterMs < 2 * PING_MS + 1500, `terminated after ${closed.afterMs} ms`);
  const terminatedAt = Date.now();
  await waitFor(async () => (await peerStatus(roomId, peerId)) === 'disconnected', 2000, 'disconnected at the owner');
  await waitFor(async () => (await peerStatus(roomId, peerId)) === undefined, 4000, 'the peer to be removed');
  const removedAfter = Date.now() - terminatedAt;
  t.true(removedAfter >= 700 && removedAfter < 3000, `removed ${removedAfter} ms after the termination`);
  t.true(records.some((r) => r.node === 'entry' && r.msg === 'peer socket: no pong since the last ping; terminating'));
});

test('a handler failure at the owner closes the relayed client 1011; the other relayed peer goes on', async (t) => {
  const roomId = await room();
  const victim = await relayed(roomId);
  const bystander = await relayed(roomId);
  victim.client.ws.send(encodePeerMessage({ mediaEvent: { data: JSON.stringify({ type: 'explode' }) } }));
  const closed = await victim.client.closed(3000);
  t.deepEqual([closed.code, closed.reason], [1011, 'Internal server error']);
  await waitFor(async () => (await peerStatus(roomId, victim.peerId)) === 'disconnected', 3000, 'the victim disconnected');
  t.true(bystander.client.isOpen);
  bystander.client.ws.send(encodePeerMessage({ mediaEvent: { data: JSON.stringify({ type: 'connect', data: { metadata: null } }) } }));
  await waitFor(() => peerMessages(bystander.client).some((m) => 'mediaEvent' in m && m.mediaEvent.data.includes('"connected"')), 5000, 'the bystander\'s connected');
  t.is(await peerStatus(roomId, bystander.peerId), 'connected');
  bystander.client.ws.close();
});
