// A werift peer that joins like the SDK and only receives: on each offerData it offers as many recvonly m-lines as
// the server announces tracks (H264 and opus, with Chromium's payload types), answers, and counts the RTP packets
// that arrive per kind. Enough to prove that a component's track reaches peers over real WebRTC (ICE, DTLS, SRTP).
import { RTCPeerConnection, RTCRtpCodecParameters, useNACK, usePLI, useSdesMid } from 'werift';
import { PeerSocket, withTimeout } from '../../notifications/support/sockets.js';

export interface Receiver {
  socket: PeerSocket;
  packets: { audio: number; video: number };
  /** payload bytes of received video, to check it is H264 (NAL unit types) */
  nalTypes: Set<number>;
  close(): Promise<void>;
}

export async function joinAsReceiver(base: string, token: string): Promise<Receiver> {
  const socket = await PeerSocket.open(base);
  await socket.authenticate(token);
  socket.sendMediaEvent({ type: 'connect', data: { metadata: { name: 'receiver' } } });
  await socket.waitForMediaEvent('connected', 5000);
  const pc = new RTCPeerConnection({
    bundlePolicy: 'max-bundle',
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceUseIpv6: false,
    codecs: {
      audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111 })],
      video: [
        new RTCRtpCodecParameters({
          mimeType: 'video/H264',
          clockRate: 90000,
          payloadType: 108,
          rtcpFeedback: [useNACK(), usePLI()],
          parameters: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
        }),
      ],
    },
    headerExtensions: { audio: [useSdesMid()], video: [useSdesMid()] },
  });
  const receiver: Receiver = {
    socket,
    packets: { audio: 0, video: 0 },
    nalTypes: new Set(),
    close: async () => {
      await pc.close().catch(() => undefined);
      await socket.close();
    },
  };
  pc.onTrack.subscribe((track) => {
    track.onReceiveRtp.subscribe((rtp) => {
      receiver.packets[track.kind as 'audio' | 'video']++;
      if (track.kind === 'video' && rtp.payload.length > 0) receiver.nalTypes.add(rtp.payload[0]! & 0x1f);
    });
  });
  let handled = 0;
  let negotiating = Promise.resolve();
  const poll = setInterval(() => {
    const offers = socket.mediaEvents().filter((e) => e.type === 'offerData');
    while (handled < offers.length) {
      const offer = offers[handled++]!;
      negotiating = negotiating.then(() => negotiate(offer.data.tracksTypes as { audio: number; video: number })).catch(() => undefined);
    }
  }, 20);
  poll.unref();
  socket.closed.then(() => clearInterval(poll), () => undefined);
  const answers = () => socket.mediaEvents().filter((e) => e.type === 'sdpAnswer');

  async function negotiate(types: { audio: number; video: number }): Promise<void> {
    for (const kind of ['audio', 'video'] as const) {
      const have = pc.getTransceivers().filter((t) => t.kind === kind).length;
      for (let i = have; i < types[kind]; i++) pc.addTransceiver(kind, { direction: 'recvonly' });
    }
    const before = answers().length;
    await pc.setLocalDescription(await pc.createOffer());
    socket.sendMediaEvent({
      type: 'custom',
      data: { type: 'sdpOffer', data: { sdpOffer: { type: 'offer', sdp: pc.localDescription!.sdp }, trackIdToTrackMetadata: {}, trackIdToTrackBitrates: {}, midToTrackId: {} } },
    });
    let waiting: NodeJS.Timeout | undefined;
    await withTimeout(
      new Promise<void>((resolve) => {
        waiting = setInterval(() => {
          if (answers().length > before) resolve();
        }, 10);
      }),
      5000,
      'sdpAnswer',
    ).finally(() => clearInterval(waiting));
    await pc.setRemoteDescription({ type: 'answer', sdp: answers()[before]!.data.sdp as string });
  }
  return receiver;
}
