// A room bigger than one worker's share: once its worker holds FJ_WORKER_MAX_CONSUMERS consumers, new peers'
// transports go to a router on another worker and producers are piped there (pipeToRouter) to be consumed.
import test from 'ava';
import type { types } from 'mediasoup';
import { startTestNode } from '../support/test-node.js';

const opus: types.RtpParameters = {
  codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }],
  encodings: [{ ssrc: 1111 }],
  headerExtensions: [],
  rtcp: { cname: 'spread' },
};

test('consumers past a worker\'s share go to another worker through pipeToRouter', async (t) => {
  const n = await startTestNode({ FJ_WORKERS: '2', FJ_WORKER_MAX_CONSUMERS: '2' });
  try {
    const id = (await n.api('/room', { method: 'POST' })).body.data.room.id;
    const media = n.node.registry.get(id).media;
    const publisher = await media.createWebRtcTransport();
    const producer = await publisher.produce({ kind: 'audio', rtpParameters: opus });
    const caps = media.rtpCapabilities;
    const receivers: types.WebRtcTransport[] = [];
    for (let i = 0; i < 4; i++) {
      const transport = await media.createWebRtcTransport();
      await media.ensureConsumable(producer.id, transport);
      await transport.consume({ producerId: producer.id, rtpCapabilities: caps });
      receivers.push(transport);
    }
    const stats = n.node.pool.stats();
    const homeSlot = stats.find((s) => s.producers > 0)!;
    const otherSlot = stats.find((s) => s !== homeSlot)!;
    t.is(media.routerIds.length, 2, 'the room got a second router');
    t.is(homeSlot.consumers, 3, 'the first worker keeps its share: two peers and the one pipe to the other worker');
    t.is(otherSlot.consumers, 2, 'the rest went to the other worker');
    t.is(otherSlot.producers, 1, 'the other worker holds the piped producer');
    t.is(otherSlot.routers, 1);
    const routerIds = new Set(receivers.map((r) => (r.appData as { routerId: string }).routerId));
    t.is(routerIds.size, 2);
  } finally {
    await n.stop();
  }
});
