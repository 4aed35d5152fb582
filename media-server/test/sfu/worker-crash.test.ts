// A mediasoup worker killed with SIGKILL: only its rooms crash (RoomCrashed), the node keeps serving, the worker
// is replaced, and new rooms work.
import test from 'ava';
import type { DomainEvent } from '../../src/rooms/event-bus.js';
import { startTestNode, waitFor } from '../support/test-node.js';

test('killing a worker fails only its rooms and the pool replaces it', async (t) => {
  const n = await startTestNode({ FJ_WORKERS: '2' });
  try {
    const events: DomainEvent[] = [];
    n.node.bus.subscribe((e) => events.push(e));
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await n.api('/room', { method: 'POST', json: { roomId: `r${i}` } })).body.data.room.id);
    const stats = n.node.pool.stats();
    t.is(stats.length, 2);
    t.deepEqual(stats.map((s) => s.routers), [2, 2], 'rooms spread over the least-loaded worker');
    const victim = stats[0]!;
    const doomed = ids.filter((id) => n.node.pool.workerOfRouter(n.node.registry.get(id).media.routerId) === victim.pid);
    t.is(doomed.length, 2);

    process.kill(victim.pid, 'SIGKILL');
    await waitFor(() => events.filter((e) => e.type === 'roomCrashed').length === 2, 5000, 'rooms to crash');
    t.deepEqual(events.filter((e) => e.type === 'roomCrashed').map((e) => e.roomId).sort(), doomed.sort());

    for (const id of ids) t.is((await n.api(`/room/${id}`)).status, doomed.includes(id) ? 404 : 200, id);
    await waitFor(() => n.node.pool.stats().length === 2, 5000, 'a replacement worker');
    const replacement = n.node.pool.stats().find((s) => s.slot === victim.slot)!;
    t.not(replacement.pid, victim.pid);
    t.is(n.node.pool.restarts, 1);

    const fresh = await n.api('/room', { method: 'POST', json: { roomId: 'after-crash' } });
    t.is(fresh.status, 201);
    t.is(n.node.state.status, 'SERVING');
    const metrics = await (await fetch(`http://127.0.0.1:${n.node.metricsPort}/metrics`)).text();
    t.regex(metrics, /^fishjam_worker_restarts_total 1$/m);
  } finally {
    await n.stop();
  }
});
