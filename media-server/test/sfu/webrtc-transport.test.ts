// A real WebRTC client (werift) reaches a room's mediasoup WebRtcTransport on the worker's shared WebRtcServer port:
// ICE, DTLS (Debian's OpenSSL in the worker) and SRTP, and its RTP lands in a Producer.
import test from 'ava';
import { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket } from 'werift';
import { startTestNode, waitFor } from '../support/test-node.js';

test('werift sends RTP through ICE+DTLS+SRTP into a producer of a room', async (t) => {
  const n = await startTestNode();
  const pc = new RTCPeerConnection({});
  try {
    const id = (await n.api('/room', { method: 'POST' })).body.data.room.id;
    const media = n.node.registry.get(id).media;
    const transport = await media.createWebRtcTransport();
    const serverPort = n.node.pool.stats()[0]!.port;
    const udp = transport.iceCandidates.find((c) => c.protocol === 'udp')!;
    t.is(udp.port, serverPort, 'the transport uses the WebRtcServer port, not a port of its own');

    const track = new MediaStreamTrack({ kind: 'audio' });
    pc.addTransceiver(track, { direction: 'sendonly' });
    await pc.setLocalDescription(await pc.createOffer());
    const offer = pc.localDescription!.sdp;
    const pick = (re: RegExp) => offer.match(re)?.[1];
    const pt = Number(pick(/a=rtpmap:(\d+) opus\/48000/i));
    const midExt = Number(pick(/a=extmap:(\d+) urn:ietf:params:rtp-hdrext:sdes:mid/));
    const ssrc = Number(pick(/a=ssrc:(\d+) /));
    await transport.connect({ dtlsParameters: { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: pick(/a=fingerprint:sha-256 (\S+)/)! }] } });
    const producer = await transport.produce({
      kind: 'audio',
      rtpParameters: {
        mid: '0',
        codecs: [{ mimeType: 'audio/opus', payloadType: pt, clockRate: 48000, channels: 2 }],
        headerExtensions: midExt ? [{ uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: midExt }] : [],
        encodings: [{ ssrc }],
        rtcp: { cname: 'werift' },
      },
    });
    const fingerprint = transport.dtlsParameters.fingerprints.find((f) => f.algorithm === 'sha-256')!.value;
    const answer = [
      'v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=ice-lite', 'a=group:BUNDLE 0',
      `m=audio 9 UDP/TLS/RTP/SAVPF ${pt}`, 'c=IN IP4 127.0.0.1', 'a=rtcp-mux', 'a=mid:0', 'a=recvonly',
      `a=ice-ufrag:${transport.iceParameters.usernameFragment}`, `a=ice-pwd:${transport.iceParameters.password}`,
      `a=fingerprint:sha-256 ${fingerprint}`, 'a=setup:passive',
      `a=candidate:${udp.foundation} 1 udp ${udp.priority} ${udp.address} ${udp.port} typ host`, 'a=end-of-candidates',
      `a=rtpmap:${pt} opus/48000/2`, ...(midExt ? [`a=extmap:${midExt} urn:ietf:params:rtp-hdrext:sdes:mid`] : []), '',
    ].join('\r\n');
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    await waitFor(() => pc.connectionState === 'connected', 10_000, 'werift to connect');
    await waitFor(() => transport.dtlsState === 'connected', 5000, 'mediasoup DTLS');

    for (let i = 0; i < 50; i++) {
      track.writeRtp(new RtpPacket(new RtpHeader({ payloadType: pt, sequenceNumber: 1000 + i, timestamp: i * 960, ssrc, marker: false }), Buffer.alloc(60, i)));
      await new Promise((r) => setTimeout(r, 10));
    }
    await waitFor(async () => ((await producer.getStats())[0]?.packetCount ?? 0) >= 40, 5000, 'RTP to reach the producer');
    t.is(transport.iceState, 'completed');
    t.is(n.node.pool.stats()[0]!.producers, 1, 'the pool counts the producer as load');
  } finally {
    await pc.close();
    await n.stop();
  }
});
