// Which worker takes the next router: fewest consumers (what costs CPU in an SFU), then fewest producers, then
// fewest routers; the lowest index wins ties so the choice is deterministic.
export interface WorkerLoad {
  readonly consumers: number;
  readonly producers: number;
  readonly routers: number;
}

export function chooseWorker(loads: readonly WorkerLoad[]): number {
  if (loads.length === 0) throw new Error('chooseWorker: no workers');
  let best = 0;
  for (let i = 1; i < loads.length; i++) {
    const a = loads[i]!;
    const b = loads[best]!;
    if (a.consumers !== b.consumers ? a.consumers < b.consumers : a.producers !== b.producers ? a.producers < b.producers : a.routers < b.routers) {
      best = i;
    }
  }
  return best;
}
