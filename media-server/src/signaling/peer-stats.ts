// Per-peer transport figures for MetricsReport and the WebRTC traffic counters: one getStats() per peer transport.
import type { SignalingHub } from './signaling-hub.js';

export interface PeerFigures {
  /** undefined while the peer has no WebRTC transport */
  transportId: string | undefined;
  bytesReceived: number;
  bytesSent: number;
  ingressBitrate: number;
  egressBitrate: number;
  packetLossReceived: number;
  availableOutgoingBitrate: number;
}

const NO_MEDIA: PeerFigures = Object.freeze({
  transportId: undefined,
  bytesReceived: 0,
  bytesSent: 0,
  ingressBitrate: 0,
  egressBitrate: 0,
  packetLossReceived: 0,
  availableOutgoingBitrate: 0,
});

/** room id -> peer id -> figures, for every peer with a socket on this node (zeros until it has a transport). */
export async function collectPeerStats(hub: SignalingHub): Promise<Map<string, Map<string, PeerFigures>>> {
  const out = new Map<string, Map<string, PeerFigures>>();
  await Promise.all(
    hub.all().flatMap((room) =>
      [...room.sessions.values()].map(async (session) => {
        let peers = out.get(room.roomId);
        if (!peers) out.set(room.roomId, (peers = new Map()));
        // A peer connected over its socket is reported before it has any media (as the original does), with zeros.
        peers.set(session.peerId, NO_MEDIA);
        const transport = session.transport;
        if (!transport || transport.closed) return;
        const [stats] = await transport.getStats().catch(() => []);
        if (!stats || transport.closed) return;
        peers.set(session.peerId, {
          transportId: transport.id,
          bytesReceived: stats.bytesReceived,
          bytesSent: stats.bytesSent,
          ingressBitrate: stats.recvBitrate,
          egressBitrate: stats.sendBitrate,
          packetLossReceived: stats.rtpPacketLossReceived ?? 0,
          availableOutgoingBitrate: stats.availableOutgoingBitrate ?? 0,
        });
      }),
    ),
  );
  return out;
}
