// WebRTC and raw TURN clients for the network-namespace tests, run inside the agent (netns-agent.ts), so their
// packets start in the client's namespace. relayMedia: two werift peers that, like the web SDK, use only relay
// candidates from the TURN servers the server names (a publisher of audio and video, a subscriber that counts what
// arrives). turnProbe: a raw TURN client (RFC 5766) asking a TURN server for permissions to given peers and sending
// datagrams through it, to show what the relay refuses.
import { LoadPeer, type OfferedTurnServer } from '../../media-server/src/load/load-peer.js';
import { TurnClient, TurnError, UDP, type Address } from '../../media-server/test/turn/support/turn-client.js';

export interface RelayMediaOp {
  op: 'relayMedia';
  publisher: { socketUrl: string; token: string };
  subscriber: { socketUrl: string; token: string };
  timeoutMs: number;
  /** how long media is counted after the first packets */
  measureMs: number;
}

interface Pair {
  local: { type: string; host: string; port: number };
  remote: { type: string; host: string; port: number };
}

export interface RelayMediaResult {
  turnServers: OfferedTurnServer[];
  publisherPair: Pair | undefined;
  subscriberPair: Pair | undefined;
  sentPackets: number;
  streams: { kind: string; received: number; lost: number }[];
  error: string | undefined;
}

export async function relayMedia(op: RelayMediaOp): Promise<RelayMediaResult> {
  const publisher = new LoadPeer({ ...op.publisher, label: 'pub', publish: { video: { fps: 30, packetsPerFrame: 3, packetBytes: 900, keyFrameEvery: 30 }, audio: true }, relay: true, timeoutMs: op.timeoutMs });
  const subscriber = new LoadPeer({ ...op.subscriber, label: 'sub', publish: {}, relay: true, timeoutMs: op.timeoutMs });
  try {
    await publisher.join();
    await subscriber.join();
    const first = await subscriber.firstPackets(op.timeoutMs);
    if (first !== undefined) await new Promise((r) => setTimeout(r, op.measureMs));
    return {
      turnServers: subscriber.turnServers ?? [],
      publisherPair: publisher.selectedPair(),
      subscriberPair: subscriber.selectedPair(),
      sentPackets: publisher.sentPackets,
      streams: subscriber.counter.counts().map((c) => ({ kind: c.kind, received: c.received, lost: c.lost })),
      error: publisher.error ?? subscriber.error,
    };
  } finally {
    await Promise.all([publisher.close(), subscriber.close()]);
  }
}

export interface TurnProbeOp {
  op: 'turnProbe';
  server: Address;
  username: string;
  password: string;
  /** peers to ask a permission for, then to send a datagram to (with or without the permission) */
  peers: Address[];
  /** how long to wait for echoes */
  waitMs: number;
}

export interface TurnProbeResult {
  relayed: Address;
  /** per peer: 'ok' or the TURN error code of CreatePermission */
  permissions: (number | 'ok')[];
  /** per peer: the echo that came back through the relay, if any */
  echoes: (string | undefined)[];
}

export async function turnProbe(op: TurnProbeOp): Promise<TurnProbeResult> {
  const client = await TurnClient.open(op.server, op.username, op.password, '0.0.0.0');
  try {
    const relayed = await client.allocate(UDP);
    const permissions: (number | 'ok')[] = [];
    for (const peer of op.peers) {
      try {
        await client.createPermission(peer);
        permissions.push('ok');
      } catch (error) {
        if (!(error instanceof TurnError)) throw error;
        permissions.push(error.code);
      }
    }
    const echoes = await Promise.all(
      op.peers.map(async (peer, i) => {
        const back = client.nextData(op.waitMs, (from) => from.ip === peer.ip && from.port === peer.port);
        // sent whether the permission was granted or not: a refused one must not relay either
        client.send(peer, Buffer.from(`probe-${i}`));
        return (await back)?.data.toString();
      }),
    );
    return { relayed, permissions, echoes };
  } finally {
    await client.close();
  }
}
