// Per-peer transport figures for MetricsReport and the WebRTC traffic counters: one getStats() per peer transport.
import type { SignalingHub } from './signaling-hub.js';

export interface PeerFigures {
  transportId: string;
  bytesReceived: number;
  bytesSent: number;
  ingressBitrate: number;
  egressBitrate: number;
  packetLossReceived: number;
  availableOutgoingBitrate: number;
}

/** room id -> peer id -> figures, for the peers that have a transport. */
export async function collectPeerStats(hub: SignalingHub): Promise<Map<string, Map<string, PeerFigures>>> {
  const out = new Map<string, Map<string, PeerFigures>>();
  await Promise.all(
    hub.all().flatMap((room) =>
      [...room.sessions.values()].map(async (session) => {
        const transport = session.transport;
        if (!transport || transport.closed) return;
        const [stats] = await transport.getStats().catch(() => []);
        if (!stats) return;
        let peers = out.get(room.roomId);
        if (!peers) out.set(room.roomId, (peers = new Map()));
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
