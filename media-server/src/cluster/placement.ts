// Where a new room goes: the SERVING node with fresh load and the fewest forwarded tracks (ties: fewer rooms, then
// name), counting rooms placed on it since its last report so a burst of creates does not herd onto one node.
// Pure: reports, reservations and the clock are passed in.
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
  readonly receivedAt: number;
}

export interface PlacementOptions {
  readonly now: number;
  readonly maxAgeMs: number;
  /** rooms placed on a node since its last report */
  readonly reserved: ReadonlyMap<string, number>;
  /** nodes already tried for this create */
  readonly exclude?: ReadonlySet<string>;
  /** forwarded tracks one reserved room is assumed to add (default 0: a new room has none yet; it counts as a room) */
  readonly tracksPerReservedRoom?: number;
}

export function rankNodes(reports: Iterable<LoadReport>, options: PlacementOptions): LoadReport[] {
  const bump = options.tracksPerReservedRoom ?? 0;
  const candidates = [...reports].filter(
    (r) => r.state === 'SERVING' && options.now - r.receivedAt <= options.maxAgeMs && !options.exclude?.has(r.node),
  );
  const score = (r: LoadReport) => {
    const reserved = options.reserved.get(r.node) ?? 0;
    return { tracks: r.forwardedTracks + reserved * bump, rooms: r.rooms + reserved };
  };
  return candidates.sort((a, b) => {
    const [sa, sb] = [score(a), score(b)];
    return sa.tracks - sb.tracks || sa.rooms - sb.rooms || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0);
  });
}

export function chooseNode(reports: Iterable<LoadReport>, options: PlacementOptions): LoadReport | undefined {
  return rankNodes(reports, options)[0];
}
