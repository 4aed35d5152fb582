// "ours" of the interleaved forwarding benchmark: a whole node (startTestNode, 1 worker) in its own process, so the
// node process's own CPU (stats polling, signalling, metrics) is measured apart from the clients that load it.
// Talks to the benchmark over IPC: `ready` {base, token, workerPid}; `forwarded` -> the packets its consumers have sent.
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { freePort } from '../test/support/free-port.js';
import { startTestNode, TOKEN } from '../test/support/test-node.js';

const consumers: types.Consumer[] = [];
mediasoup.observer.on('newworker', (worker) =>
  worker.observer.on('newrouter', (router) =>
    router.observer.on('newtransport', (transport) => transport.observer.on('newconsumer', (c) => consumers.push(c))),
  ),
);

const port = await freePort();
const n = await startTestNode(
  { FJ_WORKERS: '1', FJ_WEBRTC_LISTEN_IP: '127.0.0.1', FJ_WORKER_MAX_CONSUMERS: '1000', FJ_HOST: `127.0.0.1:${port}` },
  { port },
);

async function forwarded(): Promise<number> {
  let packets = 0;
  for (const stats of await Promise.all(consumers.filter((c) => !c.closed).map((c) => c.getStats().catch(() => [])))) {
    packets += stats.find((s) => s.type === 'outbound-rtp')?.packetCount ?? 0;
  }
  return packets;
}

process.on('message', (m: { type: string; id?: number }) => {
  if (m.type === 'forwarded') void forwarded().then((packets) => process.send!({ type: 'forwarded', id: m.id, packets }));
  if (m.type === 'stop') void n.stop().finally(() => process.exit(0));
});
process.on('disconnect', () => void n.stop().finally(() => process.exit(0)));
process.send!({ type: 'ready', base: n.base, token: TOKEN, workerPid: n.node.pool.stats()[0]!.pid });
