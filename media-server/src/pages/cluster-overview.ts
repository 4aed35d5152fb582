// The data of the /cluster page: every node with its load, every room with the node holding it and its peers, and
// the node the next room would go to. Built from what the cluster layer already has: the members' pushed load
// reports (cluster-node.ts), placement's ranking (placement.ts), and each member's room list over the dist link
// (the same paged `room.list` call GET /room uses). Answers are cached briefly: many open /cluster pages polling every
// second cost the members one list call per cache period, not one per page.
import type { ClusterNode } from '../cluster/cluster-node.js';
import { rankNodes, type LoadReport } from '../cluster/placement.js';
import type { RoomView } from '../rooms/room-types.js';

export interface NodeOverview {
  readonly node: string;
  readonly host: string;
  readonly state: string;
  readonly rooms: number;
  readonly peers: number;
  readonly forwardedTracks: number;
  /** mean worker CPU of the node, 0..1 of one core per worker */
  readonly cpu: number;
  readonly self: boolean;
}

export interface RoomOverview {
  readonly id: string;
  readonly node: string;
  readonly peers: ReadonlyArray<{ readonly id: string; readonly name: string | null; readonly status: string; readonly tracks: number }>;
}

export interface ClusterOverview {
  readonly self: string;
  readonly clustered: boolean;
  readonly nodes: readonly NodeOverview[];
  readonly rooms: readonly RoomOverview[];
  /** nodes whose room list did not come (no answer in time): their rooms are missing from `rooms` */
  readonly unlisted: readonly string[];
  /** rooms per node shown at most; a node with more is listed in `truncated` */
  readonly truncated: readonly string[];
  /** where placement would put a room created now; undefined when no node accepts rooms */
  readonly nextNode: string | undefined;
  readonly at: number;
}

export interface ClusterOverviewDeps {
  readonly selfName: string;
  readonly selfReport: () => LoadReport;
  readonly cluster: ClusterNode | undefined;
  readonly localRooms: () => RoomView[];
  /** how old a report may be for placement (the cluster's staleAfterMs) */
  readonly staleAfterMs: number;
  readonly cacheMs?: number;
  readonly now?: () => number;
}

/** Rooms per node the view shows; a page over a thousand rooms is not read by anyone. */
export const ROOMS_SHOWN_PER_NODE = 200;
const LIST_BYTES = 256 * 1024;
const LIST_TIMEOUT_MS = 1500;

export function clusterOverviewSource(deps: ClusterOverviewDeps): () => Promise<ClusterOverview> {
  const now = deps.now ?? Date.now;
  const cacheMs = deps.cacheMs ?? 500;
  let cached: { at: number; value: Promise<ClusterOverview> } | undefined;
  return () => {
    const t = now();
    if (!cached || t - cached.at >= cacheMs) {
      const value = build(deps, t);
      cached = { at: t, value };
      value.catch(() => (cached = undefined));
    }
    return cached.value;
  };
}

async function build(deps: ClusterOverviewDeps, at: number): Promise<ClusterOverview> {
  const self = deps.selfReport();
  const reports = [self, ...(deps.cluster?.reports() ?? [])];
  const ranked = rankNodes(reports, { now: at, maxAgeMs: deps.staleAfterMs, reserved: new Map(), prefer: deps.selfName });
  const truncated: string[] = [];
  const unlisted: string[] = [];
  const local = deps.localRooms();
  if (local.length > ROOMS_SHOWN_PER_NODE) truncated.push(deps.selfName);
  const lists = await Promise.all(
    reports
      .filter((r) => r.node !== deps.selfName)
      .map(async (r) => {
        try {
          const answer = (await deps.cluster!.request(r.node, 'room.list', { maxBytes: LIST_BYTES }, LIST_TIMEOUT_MS)) as { rooms: RoomView[]; next?: string };
          if (answer.next !== undefined || answer.rooms.length > ROOMS_SHOWN_PER_NODE) truncated.push(r.node);
          return answer.rooms.slice(0, ROOMS_SHOWN_PER_NODE).map((room) => roomOverview(room, r.node));
        } catch {
          unlisted.push(r.node);
          return [];
        }
      }),
  );
  const rooms = [...local.slice(0, ROOMS_SHOWN_PER_NODE).map((room) => roomOverview(room, deps.selfName)), ...lists.flat()];
  rooms.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    self: deps.selfName,
    clustered: deps.cluster !== undefined,
    nodes: reports
      .map((r) => ({ node: r.node, host: r.host, state: r.state, rooms: r.rooms, peers: r.peers, forwardedTracks: r.forwardedTracks, cpu: r.cpu, self: r.node === deps.selfName }))
      .sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0)),
    rooms,
    unlisted,
    truncated,
    nextNode: ranked[0]?.node,
    at,
  };
}

function roomOverview(room: RoomView, node: string): RoomOverview {
  return {
    id: room.id,
    node,
    peers: room.peers.map((p) => ({ id: p.id, name: nameOf(p.metadata), status: p.status, tracks: p.tracks.length })),
  };
}

/** The demo page (and most apps) put a display name in the peer metadata; anything else shows no name. */
function nameOf(metadata: unknown): string | null {
  if (metadata && typeof metadata === 'object' && typeof (metadata as { name?: unknown }).name === 'string') {
    return (metadata as { name: string }).name.slice(0, 64);
  }
  return null;
}
