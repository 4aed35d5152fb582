// Placement counts the CPU of component processes: two real nodes with one room each, so a room created through b
// stays on b (a tie goes to the entry node). Then b's room gets an HLS component composing two File videos (a real
// ffmpeg decoding, scaling and encoding 1280x720): its CPU reaches b's load report and its load ratio, and the same
// create through b now lands on a. Each node counts only its own component processes (their pids), so two
// nodes in one test process do not see each other's ffmpeg.
import test from 'ava';
import path from 'node:path';
import { rm } from 'node:fs/promises';
import { availableCores } from '../../src/metrics/process-cpu.js';
import { freePort } from '../support/free-port.js';
import { startTestNode, waitFor, type TestNode } from '../support/test-node.js';
import { makeResources, makeVideo } from './support/media-files.js';

test('a room created through b stays on b until b\'s ffmpeg burns CPU; then it goes to a', async (t) => {
  const res = await makeResources();
  await makeVideo(path.join(res.sources, 'one.h264'), 120);
  await makeVideo(path.join(res.sources, 'two.h264'), 120);
  const mapper = String(await freePort());
  const common = { FJ_DIST_ENABLED: 'true', FJ_DIST_PORT_MAPPER_PORT: mapper, FJ_DIST_COOKIE: 'cpu-cookie', FJ_COMPONENTS_USED: 'file hls', FJ_RESOURCES_BASE_PATH: res.base };
  const a = await startTestNode({ ...common, FJ_DIST_NODE_NAME: 'a@127.0.0.1', FJ_HOST: 'a.example:1' });
  const b = await startTestNode({ ...common, FJ_DIST_NODE_NAME: 'b@127.0.0.1', FJ_DIST_NODES: 'a@127.0.0.1', FJ_HOST: 'b.example:1' });
  t.teardown(async () => {
    await b.stop();
    await a.stop();
    await rm(res.base, { recursive: true, force: true });
  });
  await waitFor(() => a.node.cluster!.linkedNodes().length === 1 && b.node.cluster!.linkedNodes().length === 1, 10_000, 'the link');
  const bReport = () => a.node.cluster!.reports().find((r) => r.node === 'b@127.0.0.1');
  const create = async (via: TestNode) => (await via.api('/room', { method: 'POST', json: { videoCodec: 'h264' } })).body.data as { room: { id: string }; fishjam_address: string };

  const onB = await b.api('/room', { method: 'POST', json: { videoCodec: 'h264', roomId: 'on-b' } });
  t.is(onB.body.data.fishjam_address, 'b.example:1');
  await waitFor(() => bReport()?.rooms === 1, 5000, 'b reporting its room');
  t.is((await a.api('/room', { method: 'POST', json: { roomId: 'on-a' } })).body.data.fishjam_address, 'a.example:1');
  t.deepEqual([a.node.registry.size, b.node.registry.size], [1, 1]);
  await waitFor(() => b.node.cluster!.reports()[0]?.rooms === 1, 5000, 'a reporting its room');
  t.is(bReport()!.componentCpu, 0);
  t.is(bReport()!.capacity, 500, 'one worker of FJ_WORKER_MAX_CONSUMERS 500');

  // without component CPU: a room created through b stays on b (equal load: the entry node wins the tie)
  const first = await create(b);
  t.is(first.fishjam_address, 'b.example:1');
  t.is((await b.api(`/room/${first.room.id}`, { method: 'DELETE' })).status, 204);
  await waitFor(() => bReport()?.rooms === 1, 5000, 'b reporting one room again');

  // b's room composes two videos into HLS: ffmpeg encodes, and b's load report carries its CPU
  t.is((await b.api('/room/on-b/component', { method: 'POST', json: { type: 'hls' } })).status, 201);
  for (const file of ['one.h264', 'two.h264']) t.is((await b.api('/room/on-b/component', { method: 'POST', json: { type: 'file', options: { filePath: file } } })).status, 201);
  await waitFor(() => b.node.components.processIds().length === 3, 60_000, 'two players and the HLS ffmpeg on b');
  // any share reported (0.01 of the cores x capacity 500 = 5 tracks) outweighs the tie
  await waitFor(() => (bReport()?.componentCpu ?? 0) >= 0.02, 60_000, 'b reporting its component CPU');
  const seen = bReport()!;
  t.log(`b: rooms ${seen.rooms}, tracks ${seen.forwardedTracks}, component CPU ${seen.componentCpu} of its cores, capacity ${seen.capacity}`);
  // one scrape: both gauges come from the same sample; the ratio is at least the components' share of the cores
  let cores = 0;
  let ratio = 0;
  await waitFor(async () => {
    const metrics = await (await fetch(`http://127.0.0.1:${b.node.metricsPort}/metrics`)).text();
    cores = Number(/^fishjam_component_cpu_cores (\S+)$/m.exec(metrics)?.[1]);
    ratio = Number(/^fishjam_node_load_ratio (\S+)$/m.exec(metrics)?.[1]);
    return cores > 0.02;
  }, 30_000, 'b\'s component CPU in its metrics');
  t.log(`b's metrics: fishjam_component_cpu_cores ${cores}, fishjam_node_load_ratio ${ratio}`);
  t.true(ratio >= cores / availableCores() - 1e-9, `the load ratio (${ratio}) counts the components' cores (${cores} of ${availableCores()})`);

  // the same create through b now lands on a (b's own view of itself is live, not a report)
  const second = await create(b);
  t.is(second.fishjam_address, 'a.example:1', JSON.stringify(bReport()));
  t.deepEqual([a.node.registry.size, b.node.registry.size], [2, 1]);
});
