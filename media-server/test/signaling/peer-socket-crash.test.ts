// A mediasoup worker killed under an authenticated peer socket: the socket closes 1011, only the rooms on that worker
// are affected, and the node goes on serving peer sockets. Its own node, so killing a worker touches no other test.
import test from 'ava';
import type { DomainEvent } from '../../src/rooms/event-bus.js';
import { PeerSocket, terminateAll } from '../notifications/support/sockets.js';
import { startTestNode, waitFor, type TestNode } from '../support/test-node.js';

let n: TestNode;

test.before(async () => {
  n = await startTestNode({ FJ_WORKERS: '2' });
});

test.after.always(async () => {
  terminateAll();
  await n?.stop();
});

async function joined(roomId: string): Promise<{ peerId: string; socket: PeerSocket }> {
  const res = await n.api(`/room/${roomId}/peer`, { method: 'POST', json: { type: 'webrtc', options: {} } });
  const socket = await PeerSocket.open(n.base);
  await socket.authenticate(res.body.data.token as string);
  socket.sendMediaEvent({ type: 'connect', data: { metadata: null } });
  await socket.waitForMediaEvent('connected', 5000);
  return { peerId: res.body.data.peer.id as string, socket };
}

test('a killed mediasoup worker closes the sockets of its rooms 1011; other rooms keep theirs', async (t) => {
  const events: DomainEvent[] = [];
  n.node.bus.subscribe((e) => events.push(e));
  const [doomedRoom, safeRoom] = [
    (await n.api('/room', { method: 'POST', json: {} })).body.data.room.id as string,
    (await n.api('/room', { method: 'POST', json: {} })).body.data.room.id as string,
  ];
  const workerOf = (roomId: string): number | undefined => n.node.pool.workerOfRouter(n.node.registry.get(roomId).media.routerId);
  t.not(workerOf(doomedRoom), workerOf(safeRoom), 'the two rooms are on different workers');
  const victims = [await joined(doomedRoom), await joined(doomedRoom)];
  const survivor = await joined(safeRoom);

  process.kill(workerOf(doomedRoom)!, 'SIGKILL');
  for (const { socket } of victims) t.deepEqual(await socket.closeResult(), { code: 1011, reason: 'Internal server error' });
  await waitFor(() => events.some((e) => e.type === 'roomCrashed' && e.roomId === doomedRoom), 5000, 'RoomCrashed');
  t.false(events.some((e) => e.type === 'roomCrashed' && e.roomId === safeRoom));
  t.is((await n.api(`/room/${doomedRoom}`)).status, 404);

  t.true(survivor.socket.isOpen);
  const room = await n.api(`/room/${safeRoom}`);
  t.deepEqual(room.body.data.peers.map((p: { id: string; status: string }) => [p.id, p.status]), [[survivor.peerId, 'connected']]);

  // the replacement worker takes new rooms and their peers
  await waitFor(() => n.node.pool.stats().length === 2, 5000, 'a replacement worker');
  const fresh = (await n.api('/room', { method: 'POST', json: {} })).body.data.room.id as string;
  const late = await joined(fresh);
  t.true(late.socket.isOpen);
  await late.socket.close();
  await survivor.socket.close();
});
