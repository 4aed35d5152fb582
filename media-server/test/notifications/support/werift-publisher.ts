// A werift client that joins through the peer socket the way the SDK does (connect -> renegotiateTracks -> offerData
// -> sdpOffer -> sdpAnswer), publishes one audio track, connects ICE+DTLS to mediasoup and sends RTP.
import { RtpHeader, RtpPacket, type RTCPeerConnection } from 'werift';
import { createClientPeer, MediaStreamTrack } from '../../signaling/sdp/werift-peer.js';
import { PeerSocket, withTimeout } from './sockets.js';

export interface Publisher {
  socket: PeerSocket;
  pc: RTCPeerConnection;
  trackId: string;
  close(): Promise<void>;
}

export async function publishAudio(base: string, token: string, trackId: string, metadata: unknown): Promise<Publisher> {
  const socket = await PeerSocket.open(base);
  await socket.authenticate(token);
  socket.sendMediaEvent({ type: 'connect', data: { metadata: { name: 'werift' } } });
  await socket.waitForMediaEvent('connected', 5000);
  socket.sendMediaEvent({ type: 'custom', data: { type: 'renegotiateTracks' } });
  await socket.waitForMediaEvent('offerData', 5000);

  const pc = createClientPeer();
  const track = new MediaStreamTrack({ kind: 'audio' });
  pc.addTransceiver(track, { direction: 'sendonly' });
  await pc.setLocalDescription(await pc.createOffer());
  socket.sendMediaEvent({
    type: 'custom',
    data: {
      type: 'sdpOffer',
      data: {
        sdpOffer: { type: 'offer', sdp: pc.localDescription!.sdp },
        trackIdToTrackMetadata: { [trackId]: metadata },
        trackIdToTrackBitrates: { [trackId]: 50_000 },
        midToTrackId: { '0': trackId },
      },
    },
  });
  const answer = await socket.waitForMediaEvent('sdpAnswer', 5000);
  await pc.setRemoteDescription({ type: 'answer', sdp: answer.data.sdp as string });
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      if (pc.connectionState === 'connected') return resolve();
      pc.connectionStateChange.subscribe((state) => {
        if (state === 'connected') resolve();
        if (state === 'failed') reject(new Error('werift peer connection failed'));
      });
    }),
    10_000,
    'werift ICE and DTLS to connect',
  );
  let seq = 1;
  let timestamp = 1000;
  const timer = setInterval(() => {
    const header = new RtpHeader({ payloadType: 111, sequenceNumber: seq++, timestamp: (timestamp += 960), marker: true });
    track.writeRtp(new RtpPacket(header, Buffer.alloc(60, 0x5a)));
  }, 20);
  return {
    socket,
    pc,
    trackId,
    close: async () => {
      clearInterval(timer);
      await pc.close().catch(() => undefined);
      await socket.close();
    },
  };
}
