// Fishjam's room options that act over time, run for real with one-second timeouts.
import test from 'ava';
import type { DomainEvent } from '../../src/rooms/event-bus.js';
import { startTestNode, waitFor } from '../support/test-node.js';

test('peerlessPurgeTimeout removes a room with no connected peers; a connected peer keeps it', async (t) => {
  const n = await startTestNode();
  try {
    const events: DomainEvent[] = [];
    n.node.bus.subscribe((e) => events.push(e));
    await n.api('/room', { method: 'POST', json: { roomId: 'purged', peerlessPurgeTimeout: 1 } });
    await n.api('/room', { method: 'POST', json: { roomId: 'kept', peerlessPurgeTimeout: 1 } });
    const peer = (await n.api('/room/kept/peer', { method: 'POST', json: { type: 'webrtc', options: {} } })).body.data.peer.id;
    n.node.registry.markConnected('kept', peer);
    await waitFor(() => !n.node.registry.has('purged'), 3000, 'the peerless room to be purged');
    t.true(events.some((e) => e.type === 'roomDeleted' && e.roomId === 'purged'));
    await new Promise((r) => setTimeout(r, 1300));
    t.true(n.node.registry.has('kept'));
    n.node.registry.markDisconnected('kept', peer);
    await waitFor(() => !n.node.registry.has('kept'), 3000, 'the room to be purged once its last peer left');
  } finally {
    await n.stop();
  }
});

test('peerDisconnectedTimeout removes a peer that stays disconnected (PeerDeleted)', async (t) => {
  const n = await startTestNode();
  try {
    const events: DomainEvent[] = [];
    n.node.bus.subscribe((e) => events.push(e));
    await n.api('/room', { method: 'POST', json: { roomId: 'r', peerDisconnectedTimeout: 1 } });
    const a = (await n.api('/room/r/peer', { method: 'POST', json: { type: 'webrtc', options: {} } })).body.data.peer.id;
    const b = (await n.api('/room/r/peer', { method: 'POST', json: { type: 'webrtc', options: {} } })).body.data.peer.id;
    n.node.registry.markConnected('r', b);
    await waitFor(() => !n.node.registry.get('r').peers.has(a), 3000, 'the never-connected peer to be removed');
    t.true(events.some((e) => e.type === 'peerDeleted' && e.peerId === a));
    t.true(n.node.registry.get('r').peers.has(b), 'a connected peer stays');
    n.node.registry.markDisconnected('r', b);
    t.is((await n.api('/room/r')).body.data.peers[0].status, 'disconnected');
    await waitFor(() => !n.node.registry.get('r').peers.has(b), 3000, 'the disconnected peer to be removed');
  } finally {
    await n.stop();
  }
});

test('deleting a room emits PeerDeleted for each peer, then RoomDeleted', async (t) => {
  const n = await startTestNode();
  try {
    const events: DomainEvent[] = [];
    await n.api('/room', { method: 'POST', json: { roomId: 'd' } });
    await n.api('/room/d/peer', { method: 'POST', json: { type: 'webrtc', options: {} } });
    await n.api('/room/d/peer', { method: 'POST', json: { type: 'webrtc', options: {} } });
    n.node.bus.subscribe((e) => events.push(e));
    await n.api('/room/d', { method: 'DELETE' });
    t.deepEqual(events.map((e) => e.type), ['peerDeleted', 'peerDeleted', 'roomDeleted']);
  } finally {
    await n.stop();
  }
});
