// The File component with real parts: a mediasoup worker, ffmpeg playing generated files, the server notification
// socket, and werift peers that must receive the file's RTP over WebRTC. Also what ends a playback (its end, a corrupt
// file, DELETE during start, the room deleted) and that every ending leaves the worker as it was.
import test from 'ava';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ServerEventType, ServerTrackType, type ServerMessage } from '../../src/proto/index.js';
import { ServerSocket, terminateAll } from '../notifications/support/sockets.js';
import { startTestNode, waitFor, workerObjectTotals, type TestNode } from '../support/test-node.js';
import { makeAudio, makeGarbage, makeResources, makeVideo } from './support/media-files.js';
import { joinAsReceiver, type Receiver } from './support/werift-receiver.js';

let n: TestNode;
let server: ServerSocket;

test.before(async () => {
  const res = await makeResources();
  await makeVideo(path.join(res.sources, 'one-second.h264'), 1);
  await makeVideo(path.join(res.sources, 'short.h264'), 0.1);
  await makeVideo(path.join(res.sources, 'long.h264'), 10);
  await makeAudio(path.join(res.sources, 'long.ogg'), 10);
  await makeGarbage(path.join(res.sources, 'corrupt.h264'), 20_000);
  await writeFile(path.join(res.sources, 'empty.ogg'), '');
  n = await startTestNode({ FJ_COMPONENTS_USED: 'file', FJ_RESOURCES_BASE_PATH: res.base });
  server = await ServerSocket.open(n.base);
  await server.subscribe('test-token', [ServerEventType.SERVER_NOTIFICATION]);
});
test.after.always(async () => {
  terminateAll();
  await n?.stop();
});

async function room(): Promise<string> {
  return (await n.api('/room', { method: 'POST', json: {} })).body.data.room.id as string;
}
async function addFile(roomId: string, filePath: string): Promise<string> {
  const r = await n.api(`/room/${roomId}/component`, { method: 'POST', json: { type: 'file', options: { filePath } } });
  if (r.status !== 201) throw new Error(`add component: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.data.id as string;
}
const of = (cid: string) => (m: ServerMessage) =>
  ('trackAdded' in m && m.trackAdded.componentId === cid) ||
  ('trackRemoved' in m && m.trackRemoved.componentId === cid) ||
  ('componentCrashed' in m && m.componentCrashed.componentId === cid);
const kinds = (cid: string) => server.received.filter(of(cid)).map((m) => Object.keys(m)[0]);
const idle = async () => {
  await waitFor(() => n.node.components.playing === 0, 5000, 'every player to end');
  await waitFor(() => JSON.stringify(workerObjectTotals(n.node)) === JSON.stringify({ transports: 0, producers: 0, consumers: 0 }), 5000, 'the worker to be back to no transports/producers');
};

test.serial('video: TrackAdded with component_id, played in real time, then TrackRemoved and the component leaves', async (t) => {
  const roomId = await room();
  const started = Date.now();
  const cid = await addFile(roomId, 'one-second.h264');
  const added = await server.waitFor((m) => 'trackAdded' in m && m.trackAdded.componentId === cid, 10_000, 'TrackAdded');
  if (!('trackAdded' in added)) throw new Error('unreachable');
  t.is(added.trackAdded.roomId, roomId);
  t.is(added.trackAdded.peerId, undefined);
  t.is(added.trackAdded.track?.type, ServerTrackType.VIDEO);
  t.is(added.trackAdded.track?.metadata, 'null');
  t.true(workerObjectTotals(n.node).producers === 1);
  const removed = await server.waitFor((m) => 'trackRemoved' in m && m.trackRemoved.componentId === cid, 15_000, 'TrackRemoved');
  const playedMs = Date.now() - started;
  if (!('trackRemoved' in removed)) throw new Error('unreachable');
  t.deepEqual(removed.trackRemoved.track, added.trackAdded.track);
  t.true(playedMs >= 900, `a 1 s file played in ${playedMs} ms: real time, not a burst`);
  t.deepEqual(kinds(cid), ['trackAdded', 'trackRemoved']);
  t.deepEqual((await n.api(`/room/${roomId}`)).body.data.components, []);
  await idle();
});

test.serial('a 0.1 s clip: TrackRemoved when it ends, and the room lists no components', async (t) => {
  const roomId = await room();
  const cid = await addFile(roomId, 'short.h264');
  await server.waitFor((m) => 'trackRemoved' in m && m.trackRemoved.componentId === cid, 10_000, 'TrackRemoved');
  t.deepEqual((await n.api(`/room/${roomId}`)).body.data.components, []);
  await idle();
});

test.serial('a corrupt file: TrackRemoved then ComponentCrashed; only that component goes, the room and the others go on', async (t) => {
  const roomId = await room();
  const audio = await addFile(roomId, 'long.ogg');
  const bad = await addFile(roomId, 'corrupt.h264');
  await server.waitFor((m) => 'componentCrashed' in m && m.componentCrashed.componentId === bad, 15_000, 'ComponentCrashed');
  t.deepEqual(kinds(bad), ['trackAdded', 'trackRemoved', 'componentCrashed']);
  const crashed = server.received.find((m) => 'componentCrashed' in m && m.componentCrashed.componentId === bad);
  t.deepEqual(crashed, { componentCrashed: { roomId, componentId: bad } });
  const listed = (await n.api(`/room/${roomId}`)).body.data.components as Array<{ id: string; tracks: unknown[] }>;
  t.deepEqual(listed.map((c) => c.id), [audio]);
  t.is(listed[0]!.tracks.length, 1);
  t.false(kinds(audio).includes('componentCrashed'));
  await n.api(`/room/${roomId}`, { method: 'DELETE' });
  await idle();
});

test.serial('an empty file (accepted at creation, as the original) crashes cleanly', async (t) => {
  const roomId = await room();
  const r = await n.api(`/room/${roomId}/component`, { method: 'POST', json: { type: 'file', options: { filePath: 'empty.ogg' } } });
  t.is(r.status, 201);
  await server.waitFor((m) => 'componentCrashed' in m && m.componentCrashed.componentId === r.body.data.id, 15_000, 'ComponentCrashed');
  t.is((await n.api(`/room/${roomId}`)).status, 200);
  await idle();
});

test.serial('DELETE right after create (during start): 204, no crash, nothing left running', async (t) => {
  const roomId = await room();
  const cid = await addFile(roomId, 'long.h264');
  const del = await n.api(`/room/${roomId}/component/${cid}`, { method: 'DELETE' });
  t.is(del.status, 204);
  await idle();
  const seen = kinds(cid);
  t.false(seen.includes('componentCrashed'));
  // a track announced before the delete is withdrawn; none is announced after it
  t.is(seen.filter((k) => k === 'trackAdded').length, seen.filter((k) => k === 'trackRemoved').length);
  t.deepEqual((await n.api(`/room/${roomId}`)).body.data.components, []);
});

test.serial('the room deleted while a file plays: its player is stopped, the worker is left as it was', async (t) => {
  const roomId = await room();
  const cid = await addFile(roomId, 'long.h264');
  await server.waitFor((m) => 'trackAdded' in m && m.trackAdded.componentId === cid, 10_000, 'TrackAdded');
  t.is(n.node.components.playing, 1);
  const started = Date.now();
  t.is((await n.api(`/room/${roomId}`, { method: 'DELETE' })).status, 204);
  await idle();
  t.true(Date.now() - started < 6000, `stopped at once (${Date.now() - started} ms), not at the end of the 10 s file`);
  t.false(kinds(cid).includes('componentCrashed'));
});

test.serial('peers receive the file tracks over WebRTC (video H264 and audio), a late joiner too; then tracksRemoved and endpointRemoved', async (t) => {
  const roomId = await room();
  const peer = async () => (await n.api(`/room/${roomId}/peer`, { method: 'POST', json: { type: 'webrtc' } })).body.data.token as string;
  const receivers: Receiver[] = [];
  try {
    const early = await joinAsReceiver(n.base, await peer());
    receivers.push(early);
    const video = await addFile(roomId, 'long.h264');
    const audio = await addFile(roomId, 'long.ogg');
    const added = await early.socket.waitForMediaEvent('endpointAdded', 10_000);
    t.is(added.data.type, 'file');
    t.is(added.data.metadata, null);
    await new Promise((r) => setTimeout(r, 700));
    const late = await joinAsReceiver(n.base, await peer());
    receivers.push(late);
    const connected = late.socket.mediaEvents().find((e) => e.type === 'connected')!;
    const endpoints = connected.data.otherEndpoints as Array<{ id: string; type: string; tracks: Record<string, unknown> }>;
    t.deepEqual(endpoints.filter((e) => e.type === 'file').map((e) => e.id).sort(), [video, audio].sort());
    for (const r of receivers) {
      await waitFor(() => r.packets.video > 30 && r.packets.audio > 25, 8000, 'RTP of both file tracks');
    }
    t.true(early.nalTypes.has(28) || early.nalTypes.has(5) || early.nalTypes.has(24), `H264 NAL types seen: ${[...early.nalTypes]}`);
    t.log(`early receiver: ${early.packets.video} video / ${early.packets.audio} audio packets; late: ${late.packets.video} / ${late.packets.audio}`);
    // the files end: their tracks and endpoints are withdrawn from the peers
    await waitFor(() => early.socket.mediaEvents().filter((e) => e.type === 'endpointRemoved').length === 2, 20_000, 'endpointRemoved for both components');
    const removed = early.socket.mediaEvents().filter((e) => e.type === 'tracksRemoved').map((e) => e.data.endpointId as string);
    t.deepEqual(removed.sort(), [video, audio].sort());
  } finally {
    for (const r of receivers) await r.close();
  }
  await n.api(`/room/${roomId}`, { method: 'DELETE' });
  await idle();
});
