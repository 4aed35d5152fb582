// Every second: per-peer figures -> a MetricsReport for METRICS subscribers (JSON keyed "room_id=<id>", then
// "endpoint_id=<peer>", as the original's engine reports), and the deltas of WebRTC bytes -> traffic counters.
import type { Logger } from 'pino';
import { ServerEventType } from '../proto/index.js';
import type { PeerFigures } from '../signaling/peer-stats.js';
import type { NotificationHub } from './notification-hub.js';

export interface MetricsReporterDeps {
  readonly hub: NotificationHub;
  readonly collect: () => Promise<Map<string, Map<string, PeerFigures>>>;
  readonly countTraffic: (ingressBytes: number, egressBytes: number) => void;
  readonly logger: Logger;
  readonly intervalMs?: number;
}

export function reportFor(stats: Map<string, Map<string, PeerFigures>>): Record<string, Record<string, Record<string, number>>> {
  const report: Record<string, Record<string, Record<string, number>>> = {};
  for (const [roomId, peers] of stats) {
    const room: Record<string, Record<string, number>> = {};
    for (const [peerId, f] of peers) {
      room[`endpoint_id=${peerId}`] = {
        'ingress.bytes': f.bytesReceived,
        'egress.bytes': f.bytesSent,
        'ingress.bitrate': f.ingressBitrate,
        'egress.bitrate': f.egressBitrate,
        'ingress.packet_loss': f.packetLossReceived,
        'egress.available_bitrate': f.availableOutgoingBitrate,
      };
    }
    report[`room_id=${roomId}`] = room;
  }
  return report;
}

export function startMetricsReporter(deps: MetricsReporterDeps): () => void {
  const lastBytes = new Map<string, { in: number; out: number }>();
  let running = false;
  const tick = async (): Promise<void> => {
    if (running) return;
    running = true;
    try {
      const stats = await deps.collect();
      const seen = new Set<string>();
      let ingress = 0;
      let egress = 0;
      for (const peers of stats.values()) {
        for (const f of peers.values()) {
          if (f.transportId === undefined) continue;
          seen.add(f.transportId);
          const before = lastBytes.get(f.transportId) ?? { in: 0, out: 0 };
          ingress += Math.max(0, f.bytesReceived - before.in);
          egress += Math.max(0, f.bytesSent - before.out);
          lastBytes.set(f.transportId, { in: f.bytesReceived, out: f.bytesSent });
        }
      }
      for (const id of [...lastBytes.keys()]) if (!seen.has(id)) lastBytes.delete(id);
      deps.countTraffic(ingress, egress);
      if (deps.hub.hasSubscribers(ServerEventType.METRICS)) {
        deps.hub.publish(ServerEventType.METRICS, { metricsReport: { metrics: JSON.stringify(reportFor(stats)) } });
      }
    } catch (error) {
      deps.logger.warn({ err: (error as Error).message }, 'metrics report failed');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), deps.intervalMs ?? 1000);
  timer.unref();
  return () => clearInterval(timer);
}
