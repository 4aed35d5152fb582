// The peer socket's supervision on a whole node (real registry, rooms, mediasoup, signalling): the test mounts the
// peer socket handler with short deadlines (1 s auth, 500 ms pings) on a listener of its own, next to the node's.
// A socket that never authenticates is closed "unauthenticated"; a client that stops answering pings is terminated,
// its peer turns `disconnected` and peerDisconnectedTimeout removes it; a media event whose handling throws closes
// only that socket 1011. The last test checks the node's own wiring with the default 5 s auth deadline.
import test from 'ava';
import type { WebSocket } from 'ws';
import type { DomainEvent } from '../../src/rooms/event-bus.js';
import { decodePeerMessage, encodePeerMessage, type PeerMessage } from '../../src/proto/index.js';
import { handlePeerSocket } from '../../src/signaling/peer-socket.js';
import { SignalingHub } from '../../src/signaling/signaling-hub.js';
import { connect, recordingLogger, serveSockets, sleep, type Client, type Endpoint } from '../support/socket-endpoint.js';
import { startTestNode, waitFor, type TestNode } from '../support/test-node.js';

// Long enough for a loaded 2-core machine: an authentication round trip (through the relay) and a pong fit easily.
const AUTH_MS = 1000;
const PING_MS = 500;
const PATH = '/socket/peer/websocket';

/** Signalling with a bug: an `explode` media event throws (any handler failure looks like this to the socket). */
class BuggySignalingHub extends SignalingHub {
  override receive(roomId: string, peerId: string, json: string): void {
    if (json.includes('"explode"')) throw new Error('media event handler broke');
    super.receive(roomId, peerId, json);
  }
}

let n: TestNode;
let endpoint: Endpoint;
let records: Array<Record<string, unknown>>;
const events: DomainEvent[] = [];
const clients: Client[] = [];

test.before(async () => {
  n = await startTestNode();
  n.node.bus.subscribe((e) => events.push(e));
  const recording = recordingLogger();
  records = recording.records;
  const hub = new BuggySignalingHub(n.node.registry, n.node.bus, recording.logger);
  endpoint = await serveSockets({
    [PATH]: (socket: WebSocket) =>
      handlePeerSocket(socket, {
        registry: n.node.registry,
        hub,
        secretKeyBase: n.node.config.secretKeyBase,
        logger: recording.logger,
        liveness: { authTimeoutMs: AUTH_MS, pingIntervalMs: PING_MS },
      }),
  });
});

test.after.always(async () => {
  for (const c of clients) c.ws.terminate();
  await endpoint?.close();
  await n?.stop();
});

async function open(options: { autoPong?: boolean; base?: string } = {}): Promise<Client> {
  const client = await connect(options.base ?? endpoint.url(PATH), options);
  clients.push(client);
  return client;
}

const peerMessages = (client: Client): PeerMessage[] => client.frames.flatMap((f) => {
  const decoded = decodePeerMessage(f);
  return decoded.ok ? [decoded.value] : [];
});

async function room(json: Record<string, unknown> = {}): Promise<string> {
  const res = await n.api('/room', { method: 'POST', json });
  if (res.status !== 201) throw new Error(`create room: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data.room.id as string;
}

async function joined(roomId: string, options: { autoPong?: boolean } = {}): Promise<{ peerId: string; client: Client }> {
  const res = await n.api(`/room/${roomId}/peer`, { method: 'POST', json: { type: 'webrtc', options: {} } });
  if (res.status !== 201) throw new Error(`add peer: ${res.status} ${JSON.stringify(res.body)}`);
  const client = await open(options);
  client.ws.send(encodePeerMessage({ authRequest: { token: res.body.data.token as string } }));
  await waitFor(() => peerMessages(client).some((m) => 'authenticated' in m), 3000, 'authenticated');
  return { peerId: res.body.data.peer.id as string, client };
}

const mediaEvent = (event: unknown): Uint8Array => encodePeerMessage({ mediaEvent: { data: JSON.stringify(event) } });

async function peerStatus(roomId: string, peerId: string): Promise<string | undefined> {
  const res = await n.api(`/room/${roomId}`);
  return (res.body?.data?.peers as Array<{ id: string; status: string }> | undefined)?.find((p) => p.id === peerId)?.status;
}

test('a peer socket that never authenticates is closed 1000 "unauthenticated" after the auth deadline', async (t) => {
  const client = await open();
  const closed = await client.closed(3000);
  t.deepEqual([closed.code, closed.reason], [1000, 'unauthenticated']);
  t.true(closed.afterMs >= AUTH_MS / 2 && closed.afterMs < AUTH_MS + 1500, `closed after ${closed.afterMs} ms`);
});

test('an authenticated peer that answers pings stays connected past both deadlines', async (t) => {
  const roomId = await room();
  const { peerId, client } = await joined(roomId);
  await sleep(AUTH_MS + PING_MS * 3);
  t.true(client.isOpen);
  t.is(await peerStatus(roomId, peerId), 'connected');
  client.ws.close();
  await client.closed(3000);
  await waitFor(async () => (await peerStatus(roomId, peerId)) === 'disconnected', 3000, 'disconnected after a clean close');
});

test('a peer that stops answering pings is terminated, shown disconnected, then removed by peerDisconnectedTimeout', async (t) => {
  const roomId = await room({ peerDisconnectedTimeout: 1 });
  const { peerId, client } = await joined(roomId, { autoPong: false });
  t.is(await peerStatus(roomId, peerId), 'connected');
  const closed = await client.closed(3000);
  t.is(closed.code, 1006, 'terminated: no close frame');
  t.true(closed.afterMs >= 1.5 * PING_MS && closed.afterMs < 2 * PING_MS + 1500, `terminated after ${closed.afterMs} ms`);
  const terminatedAt = Date.now();
  await waitFor(() => events.some((e) => e.type === 'peerDisconnected' && e.peerId === peerId), 2000, 'PeerDisconnected');
  t.is(await peerStatus(roomId, peerId), 'disconnected');
  await waitFor(async () => (await peerStatus(roomId, peerId)) === undefined, 4000, 'the peer to be removed');
  const removedAfter = Date.now() - terminatedAt;
  t.true(removedAfter >= 700 && removedAfter < 3000, `removed ${removedAfter} ms after the termination`);
  t.true(events.some((e) => e.type === 'peerDeleted' && e.peerId === peerId));
  t.true(records.some((r) => r.msg === 'peer socket: no pong since the last ping; terminating'));
});

test('a media event whose handling throws closes only that socket 1011; its room and the node go on', async (t) => {
  const roomId = await room();
  const victim = await joined(roomId);
  const bystander = await joined(roomId);
  for (const p of [victim, bystander]) p.client.ws.send(mediaEvent({ type: 'connect', data: { metadata: null } }));
  await waitFor(() => [victim, bystander].every((p) => peerMessages(p.client).some((m) => 'mediaEvent' in m && m.mediaEvent.data.includes('"connected"'))), 5000, 'connected');

  victim.client.ws.send(mediaEvent({ type: 'explode' }));
  const closed = await victim.client.closed(3000);
  t.deepEqual([closed.code, closed.reason], [1011, 'Internal server error']);
  t.is(records.find((r) => r.msg === 'peer socket: handling a message failed; closing the socket')?.err, 'media event handler broke');
  await waitFor(async () => (await peerStatus(roomId, victim.peerId)) === 'disconnected', 3000, 'the victim disconnected');

  t.true(bystander.client.isOpen);
  bystander.client.ws.send(mediaEvent({ type: 'updateEndpointMetadata', data: { metadata: { still: 'here' } } }));
  await waitFor(async () => {
    const res = await n.api(`/room/${roomId}`);
    return res.body.data.peers.find((p: { id: string }) => p.id === bystander.peerId)?.metadata?.still === 'here';
  }, 3000, 'the bystander\'s metadata update');
  t.is(await peerStatus(roomId, bystander.peerId), 'connected');
  t.is((await n.api('/room', { method: 'POST', json: {} })).status, 201, 'the node still serves');
  bystander.client.ws.close();
});

test('the node\'s own peer socket closes an unauthenticated socket after the default 5 s', async (t) => {
  const client = await open({ base: `${n.base.replace(/^http/, 'ws')}${PATH}` });
  const closed = await client.closed(9000);
  t.deepEqual([closed.code, closed.reason], [1000, 'unauthenticated']);
  t.true(closed.afterMs >= 4500 && closed.afterMs < 7000, `closed after ${closed.afterMs} ms`);
});
