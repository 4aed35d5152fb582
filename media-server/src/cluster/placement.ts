// Where a new room goes. Pure: reports, reservations and the clock are passed in.
//
// A node's score is its expected load in forwarded tracks:
//   max(forwardedTracks, (rooms + reserved) x cost) + componentCpu x capacity
// where componentCpu is the share of the node's cores its component processes (ffmpeg of HLS and File components)
// take, and capacity the tracks its workers can forward (workers x FJ_WORKER_MAX_CONSUMERS): a node whose cores are
// half taken by ffmpeg has room for half the tracks. (Workers' own CPU is not added: it follows the tracks already.)
// where `cost` is what one room is expected to forward, learned from the cluster's real rooms (all tracks / all rooms
// in the fresh reports, pulled toward a non-zero prior while there are few rooms), and `reserved` counts the rooms this
// entry placed on the node since its last report. A room that has not yet grown to the expected cost (it was just
// created, its peers are still joining) counts as the expected cost, so a node that just took a burst of rooms is not
// "empty" again the moment it reports: N creates over k equal nodes give each about N/k.
// Reserved rooms count inside the max, exactly as they will once the node reports them: the entry node's own rooms
// are counted live (in its rooms), and with reserved outside the max a loaded node's reserved rooms weighed on top of
// its tracks while the entry's own new rooms vanished under them (a 1000-create burst over 3 nodes of 1000 rooms gave
// the entry 427 and the others 286).
// The lowest score wins; ties go to fewer rooms, then to the preferred node (the entry node: no hop), then to the name. Only SERVING nodes with fresh reports are used.
export type NodeState = 'SERVING' | 'DRAINING' | 'STARTING' | 'STOPPING';

export interface LoadReport {
  readonly node: string;
  /** FJ_HOST of the node: what clients are told */
  readonly host: string;
  readonly state: NodeState;
  readonly rooms: number;
  readonly peers: number;
  readonly forwardedTracks: number;
  readonly cpu: number;
  /** share of the node's cores its component processes use, 0..1 (0 from nodes that do not send it) */
  readonly componentCpu?: number;
  /** forwarded tracks its workers can take (0 from nodes that do not send it) */
  readonly capacity?: number;
  readonly receivedAt: number;
}

/** Forwarded tracks a new room is assumed to bring before the cluster has rooms to learn from: two peers, each sending
 *  audio and video to the other. */
export const PRIOR_TRACKS_PER_ROOM = 4;
/** How many rooms' worth of weight the prior has against the learned average. */
export const PRIOR_WEIGHT_ROOMS = 20;

export interface PlacementOptions {
  readonly now: number;
  readonly maxAgeMs: number;
  /** rooms placed on a node since its last report */
  readonly reserved: ReadonlyMap<string, number>;
  /** nodes already tried for this create */
  readonly exclude?: ReadonlySet<string>;
  /** expected forwarded tracks per room; default: learned from the reports (expectedRoomCost) */
  readonly tracksPerRoom?: number;
  /** wins ties (the entry node itself) */
  readonly prefer?: string;
}

export function usable(r: LoadReport, options: Pick<PlacementOptions, 'now' | 'maxAgeMs' | 'exclude'>): boolean {
  return r.state === 'SERVING' && options.now - r.receivedAt <= options.maxAgeMs && !options.exclude?.has(r.node);
}

/** Forwarded tracks one room is expected to bring: the cluster's average, smoothed toward the prior. Never below 1. */
export function expectedRoomCost(reports: Iterable<LoadReport>): number {
  let tracks = 0;
  let rooms = 0;
  for (const r of reports) {
    tracks += r.forwardedTracks;
    rooms += r.rooms;
  }
  return Math.max(1, (tracks + PRIOR_TRACKS_PER_ROOM * PRIOR_WEIGHT_ROOMS) / (rooms + PRIOR_WEIGHT_ROOMS));
}

export function nodeScore(r: LoadReport, reserved: number, cost: number): number {
  return Math.max(r.forwardedTracks, (r.rooms + reserved) * cost) + componentLoad(r);
}

/** The component processes' CPU in forwarded tracks: the part of the node's capacity they take. */
export function componentLoad(r: Pick<LoadReport, 'componentCpu' | 'capacity'>): number {
  const share = r.componentCpu ?? 0;
  const capacity = r.capacity ?? 0;
  if (!Number.isFinite(share) || !Number.isFinite(capacity) || share <= 0 || capacity <= 0) return 0;
  return Math.min(1, share) * capacity;
}

export function rankNodes(reports: Iterable<LoadReport>, options: PlacementOptions): LoadReport[] {
  const fresh = [...reports].filter((r) => r.state !== 'STOPPING' && options.now - r.receivedAt <= options.maxAgeMs);
  const cost = options.tracksPerRoom ?? expectedRoomCost(fresh);
  const scored = fresh
    .filter((r) => usable(r, options))
    .map((r) => {
      const reserved = options.reserved.get(r.node) ?? 0;
      return { r, score: nodeScore(r, reserved, cost), rooms: r.rooms + reserved };
    });
  const preferred = (r: LoadReport) => (r.node === options.prefer ? 0 : 1);
  scored.sort(
    (a, b) => a.score - b.score || a.rooms - b.rooms || preferred(a.r) - preferred(b.r) || (a.r.node < b.r.node ? -1 : a.r.node > b.r.node ? 1 : 0),
  );
  return scored.map((s) => s.r);
}

export function chooseNode(reports: Iterable<LoadReport>, options: PlacementOptions): LoadReport | undefined {
  return rankNodes(reports, options)[0];
}
