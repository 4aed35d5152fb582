// One load test run: rooms through the REST API, publishers then subscribers joining through the peer socket (a
// bounded number at once), a progress line every second, the server's load sampled every 2 s, and everything closed
// and deleted after `durationS` (joins included) or on `signal`.
import { FishjamApi } from './fishjam-api.js';
import { LoadPeer } from './load-peer.js';
import { defaultMetricsUrl, type LoadOptions } from './load-options.js';
import type { LoadResult, PeerResult } from './load-report.js';
import { videoShapeFor } from './media-pump.js';
import { formatLoad, sampleLoad, type LoadSample } from './server-load.js';

export interface RunHooks {
  /** one progress line (the CLI rewrites it in place on a terminal) */
  progress: (line: string) => void;
  /** a line that stays (rooms created, errors) */
  log: (line: string) => void;
  signal?: AbortSignal;
}

interface Slot {
  label: string;
  role: 'publisher' | 'subscriber';
  roomId: string;
  peer?: LoadPeer;
  joined: boolean;
  error?: string;
  connectMs?: number;
  firstMediaMs?: number;
  sendingSince?: number;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

export async function runLoadTest(options: LoadOptions, hooks: RunHooks): Promise<LoadResult> {
  const startedAt = Date.now();
  const deadline = startedAt + options.durationS * 1000;
  const over = (): boolean => Date.now() >= deadline || hooks.signal?.aborted === true;
  const api = new FishjamApi(options.url, options.token);
  const health = await api.health();
  const metricsEndpoints = options.metrics.length > 0 ? options.metrics : [defaultMetricsUrl(options.url)];
  const cpu0 = process.cpuUsage();

  const roomIds: string[] = [];
  let joinedAtS = options.durationS;
  const slots: Slot[] = [];
  const samples: LoadSample[] = [];
  let lastSample: LoadSample | undefined;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      lastSample = await sampleLoad(metricsEndpoints, (Date.now() - startedAt) / 1000);
      samples.push(lastSample);
      await sleep(2000, hooks.signal);
    }
  })();

  let lastReceived = 0;
  let lastAt = Date.now();
  let lastCpu = process.cpuUsage();
  const progress = setInterval(() => {
    const joined = slots.filter((s) => s.joined);
    let received = 0;
    let lost = 0;
    let expected = 0;
    for (const s of joined) {
      if (s.role !== 'subscriber') continue;
      const t = s.peer!.counter.totals();
      received += t.received;
      lost += t.lost;
      expected += t.expected;
    }
    const now = Date.now();
    const cpu = process.cpuUsage(lastCpu);
    const rate = ((received - lastReceived) * 1000) / Math.max(1, now - lastAt);
    const selfCpu = (cpu.user + cpu.system) / 1000 / Math.max(1, now - lastAt);
    [lastReceived, lastAt, lastCpu] = [received, now, process.cpuUsage()];
    const failed = slots.filter((s) => s.error).length;
    hooks.progress(
      `[${String(Math.round((now - startedAt) / 1000)).padStart(4)}s/${options.durationS}s] joined ${joined.length}/${options.rooms * (options.publishers + options.subscribers)}` +
        `${failed ? ` failed ${failed}` : ''} | subscribers rx ${(rate / 1000).toFixed(1)}k pkt/s lost ${expected > 0 ? ((100 * lost) / expected).toFixed(2) : '0.00'}%` +
        ` | load tool ${Math.round(selfCpu * 100)}% | ${lastSample ? formatLoad(lastSample) : 'server load: …'}`,
    );
  }, 1000);

  try {
    for (let i = 0; i < options.rooms && !over(); i++) {
      const room = await api.createRoom();
      roomIds.push(room.roomId);
      for (let p = 0; p < options.publishers; p++) slots.push({ label: `r${i}-pub${p}`, role: 'publisher', roomId: room.roomId, joined: false });
    }
    hooks.log(`created ${roomIds.length} rooms on ${options.url}${health.nodesInCluster ? ` (cluster of ${health.nodesInCluster})` : ''}; metrics from ${metricsEndpoints.join(', ')}`);
    // subscribers round-robin over the rooms, after every publisher
    for (let k = 0; k < options.subscribers; k++) {
      for (const [i, roomId] of roomIds.entries()) slots.push({ label: `r${i}-sub${k}`, role: 'subscriber', roomId, joined: false });
    }
    const video = options.video ? videoShapeFor(options.videoKbps) : undefined;
    const join = async (slot: Slot): Promise<void> => {
      const t0 = Date.now();
      try {
        const ticket = await api.addPeer(slot.roomId);
        const peer = new LoadPeer({
          socketUrl: ticket.socketUrl,
          token: ticket.token,
          label: slot.label,
          publish: slot.role === 'publisher' ? { ...(video ? { video } : {}), audio: options.audio } : {},
        });
        slot.peer = peer;
        await peer.join();
        slot.joined = true;
        slot.sendingSince = Date.now();
        slot.connectMs = (peer.connectedAt ?? Date.now()) - t0;
        if (slot.role === 'subscriber') {
          void peer.firstPackets(Math.max(0, deadline - Date.now())).then((at) => {
            if (at !== undefined) slot.firstMediaMs = at - t0;
          });
        }
      } catch (error) {
        slot.error = (error as Error).message;
      }
    };
    // publishers first (all of them, a bounded number at once), then subscribers
    for (const role of ['publisher', 'subscriber'] as const) {
      const queue = slots.filter((s) => s.role === role);
      await Promise.all(
        Array.from({ length: Math.min(options.concurrency, queue.length) }, async () => {
          for (let slot = queue.shift(); slot && !over(); slot = queue.shift()) await join(slot);
        }),
      );
    }
    joinedAtS = (Date.now() - startedAt) / 1000;
    const errors = [...new Set(slots.flatMap((s) => (s.error ? [s.error] : [])))];
    if (errors.length > 0) hooks.log(`join errors (${slots.filter((s) => s.error).length}): ${errors.slice(0, 3).join('; ')}`);
    while (!over()) await sleep(Math.min(500, deadline - Date.now()), hooks.signal);
  } finally {
    clearInterval(progress);
    sampling = false;
  }
  for (const s of slots) s.peer?.stopSending();
  await sleep(500); // packets in flight arrive
  const end = Date.now();
  const peers: PeerResult[] = slots.map((s) => {
    const counts = s.peer?.counter.counts() ?? [];
    const totals = s.peer?.counter.totals() ?? { received: 0, expected: 0, lost: 0 };
    const firstAt = Math.min(...counts.flatMap((c) => (c.firstAt !== undefined ? [c.firstAt] : [])));
    return {
      label: s.label,
      role: s.role,
      joined: s.joined,
      ...(s.error !== undefined || s.peer?.error !== undefined ? { error: s.error ?? s.peer?.error } : {}),
      ...(s.connectMs !== undefined ? { connectMs: s.connectMs } : {}),
      ...(s.firstMediaMs !== undefined ? { firstMediaMs: s.firstMediaMs } : {}),
      streams: counts.length,
      ...totals,
      receivingS: Number.isFinite(firstAt) ? (end - 500 - firstAt) / 1000 : 0,
      sentRate: s.peer && s.sendingSince !== undefined ? s.peer.sentPackets / ((end - 500 - s.sendingSince) / 1000) : 0,
    };
  });
  const cpu = process.cpuUsage(cpu0);
  const elapsedS = (end - startedAt) / 1000;
  await Promise.all(slots.map((s) => s.peer?.close()));
  await Promise.all(roomIds.map((id) => api.deleteRoom(id).catch((error: Error) => hooks.log(`could not delete room ${id}: ${error.message}`))));
  await sampler.catch(() => undefined);
  return {
    options,
    startedAt,
    elapsedS,
    peers,
    samples,
    metricsEndpoints,
    joinedAtS,
    clientCpu: (cpu.user + cpu.system) / 1000 / (elapsedS * 1000),
    ...(health.version !== undefined ? { serverVersion: health.version } : {}),
    ...(health.nodesInCluster !== undefined ? { nodesInCluster: health.nodesInCluster } : {}),
  };
}
