// /hls and /recording through any node of a cluster: a room with an HLS component lives on node b; the master and
// media playlists, a segment, a part and a blocking LL-HLS reload are fetched through node a, bytes identical to b's
// own answers; a file larger than one dist message travels in chunks; a recording b holds is listed, served and
// deleted through a. Hostile: names escaping the folder through a (the same answers as b's), an unknown room (404 as a
// single node), a file over the forwarding limit (502, nothing read), identical blocked requests sharing one wait at
// b, blocked clients that hang up (the wait at b ends with the last one), b freezing while a blocked reload waits on it (a answers 503 within seconds) or while a 16 MiB body is
// read through a (the response is cut within seconds; a serves on). Real nodes, real ffmpeg.
import test from 'ava';
import { rm, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { freePort } from '../support/free-port.js';
import { startTestNode, waitFor, type TestNode } from '../support/test-node.js';
import { startChildNode } from '../cluster/child-process.js';
import { makeResources, makeVideo, type Resources } from './support/media-files.js';

const get = (base: string, p: string, init: RequestInit = {}) =>
  fetch(base + p, { signal: AbortSignal.timeout(30_000), ...init }).catch((error: Error) => {
    throw new Error(`${p}: ${error.message} (${String((error.cause as Error | undefined)?.message ?? '')})`);
  });
const bytes = async (r: Response) => Buffer.from(await r.arrayBuffer());
/** Byte equality without ava's deepEqual, which walks a large Buffer synchronously for seconds (stalling the nodes). */
const sameBytes = (x: Buffer, y: Buffer) => x.length === y.length && x.equals(y);
const HINT = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="segment_(\d+)_part_(\d+)\.m4s"/;

async function pair(t: { teardown: (fn: () => Promise<void>) => void }, env: Record<string, string> = {}) {
  const [resA, resB] = [await makeResources(), await makeResources()];
  await makeVideo(path.join(resB.sources, 'video.h264'), 40);
  const mapper = String(await freePort());
  const common = { FJ_DIST_ENABLED: 'true', FJ_DIST_PORT_MAPPER_PORT: mapper, FJ_DIST_COOKIE: 'hls-cookie', FJ_COMPONENTS_USED: 'file hls', ...env };
  const a = await startTestNode({ ...common, FJ_DIST_NODE_NAME: 'a@127.0.0.1', FJ_HOST: 'a.example:1', FJ_RESOURCES_BASE_PATH: resA.base });
  const b = await startTestNode({ ...common, FJ_DIST_NODE_NAME: 'b@127.0.0.1', FJ_DIST_NODES: 'a@127.0.0.1', FJ_HOST: 'b.example:1', FJ_RESOURCES_BASE_PATH: resB.base });
  t.teardown(async () => {
    await b.stop();
    await a.stop();
    for (const r of [resA, resB]) await rm(r.base, { recursive: true, force: true });
  });
  await waitFor(() => a.node.cluster!.linkedNodes().length === 1 && b.node.cluster!.linkedNodes().length === 1, 10_000, 'the link');
  return { a, b, resA, resB };
}

/** A room on b (created through b: ties go to the entry node) playing the clip into a (low-latency) HLS component. */
async function hlsRoomOnB(b: TestNode, options: Record<string, unknown>, chosenId?: string): Promise<string> {
  const created = await b.api('/room', { method: 'POST', json: { videoCodec: 'h264', ...(chosenId ? { roomId: chosenId } : {}) } });
  const roomId = created.body.data.room.id as string;
  if (!b.node.registry.has(roomId)) throw new Error('the room did not land on b');
  if ((await b.api(`/room/${roomId}/component`, { method: 'POST', json: { type: 'hls', options } })).status !== 201) throw new Error('hls');
  if ((await b.api(`/room/${roomId}/component`, { method: 'POST', json: { type: 'file', options: { filePath: 'video.h264' } } })).status !== 201) throw new Error('file');
  await waitFor(async () => (await get(b.base, `/hls/${roomId}/index.m3u8`)).status === 200, 90_000, 'the master playlist on b');
  if (options.lowLatency) await waitFor(async () => HINT.test(await (await get(b.base, `/hls/${roomId}/stream.m3u8`)).text()), 30_000, 'a part on b');
  return roomId;
}

test('LL-HLS of a room on b through a: playlists, a segment, parts and blocking reloads identical to b\'s; hostile paths and sizes', async (t) => {
  const { a, b, resA, resB } = await pair(t);
  const roomId = await hlsRoomOnB(b, { lowLatency: true });
  t.false(a.node.registry.has(roomId));

  // the master playlist: the same bytes and headers through a
  const [masterA, masterB] = [await get(a.base, `/hls/${roomId}/index.m3u8`), await get(b.base, `/hls/${roomId}/index.m3u8`)];
  t.is(masterA.status, 200, `${await masterA.clone().text()} / b: ${masterB.status} ${await masterB.clone().text()}`);
  t.is(masterA.headers.get('content-type'), masterB.headers.get('content-type'));
  t.is(masterA.headers.get('cache-control'), 'no-cache');
  t.true(sameBytes(await bytes(masterA), await bytes(masterB)));

  // a blocking reload for the hinted part, through a: answered when b publishes it, listing it
  const playlist = await (await get(a.base, `/hls/${roomId}/stream.m3u8`)).text();
  const [, msn, part] = HINT.exec(playlist)!.map(Number) as [number, number, number];
  const asked = Date.now();
  const reload = await get(a.base, `/hls/${roomId}/stream.m3u8?_HLS_msn=${msn}&_HLS_part=${part}`);
  t.is(reload.status, 200);
  const reloadText = await reload.text();
  t.true(reloadText.includes(`segment_${msn}_part_${part}.m4s`) || reloadText.includes(`segment_${msn}.m4s\n`), reloadText);
  t.log(`blocking reload through a answered after ${Date.now() - asked} ms`);
  // the same reload asked of b now answers at once with the same playlist (nothing newer published in between: retry)
  let same = false;
  for (let i = 0; i < 5 && !same; i++) {
    const q = `/hls/${roomId}/stream.m3u8?_HLS_msn=${msn}&_HLS_part=${part}`;
    const [viaA, viaB] = await Promise.all([get(a.base, q).then((r) => r.text()), get(b.base, q).then((r) => r.text())]);
    same = viaA === viaB;
  }
  t.true(same, 'a blocking reload through a answers b\'s playlist');
  // the part and its segment: byte-identical (parts and segments never change once written)
  const partName = `segment_${msn}_part_${part}.m4s`;
  const [partA, partB] = [await get(a.base, `/hls/${roomId}/${partName}`), await get(b.base, `/hls/${roomId}/${partName}`)];
  t.is(partA.status, 200);
  t.is(partA.headers.get('cache-control'), 'max-age=3600');
  t.is(partA.headers.get('content-type'), 'video/iso.segment');
  t.true(sameBytes(await bytes(partA), await bytes(partB)));
  const segment = /segment_(\d+)\.m4s/.exec(reloadText)![0];
  const [segA, segB] = [await bytes(await get(a.base, `/hls/${roomId}/${segment}`)), await bytes(await get(b.base, `/hls/${roomId}/${segment}`))];
  t.true(segA.length > 1000);
  t.true(sameBytes(segA, segB));
  // what the hop costs (logged, not asserted: a loaded machine decides these numbers)
  const timed = async (base: string) => {
    const started = performance.now();
    await bytes(await get(base, `/hls/${roomId}/${segment}`));
    return performance.now() - started;
  };
  const viaA: number[] = [];
  const fromB: number[] = [];
  for (let i = 0; i < 10; i++) {
    viaA.push(await timed(a.base));
    fromB.push(await timed(b.base));
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!.toFixed(1);
  t.log(`a segment of ${segA.length} bytes: median ${median(viaA)} ms through a, ${median(fromB)} ms from b (10 each)`);
  // the preload-hinted part itself, asked through a before it exists: held at b, then the same bytes
  const next = HINT.exec(reloadText)!;
  const hinted = await get(a.base, `/hls/${roomId}/segment_${next[1]}_part_${next[2]}.m4s`);
  if (hinted.status === 200) t.true(sameBytes(await bytes(hinted), await bytes(await get(b.base, `/hls/${roomId}/segment_${next[1]}_part_${next[2]}.m4s`))));
  else t.is(hinted.status, 404, 'the hint became the next segment\'s first part'); // as on a single node

  // a file larger than one dist message, in chunks; one over the limit: 502 at once (a sparse file: nothing is read)
  const folder = path.join(resB.base, 'temporary_hls', roomId);
  const big = Buffer.alloc(3 * 1024 * 1024 + 17);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
  await writeFile(path.join(folder, 'big.m4s'), big);
  const bigA = await get(a.base, `/hls/${roomId}/big.m4s`);
  t.is(bigA.headers.get('content-length'), String(big.length));
  t.true(sameBytes(await bytes(bigA), big));
  await writeFile(path.join(folder, 'huge.m4s'), '');
  await truncate(path.join(folder, 'huge.m4s'), 1.5 * 1024 * 1024 * 1024);
  const huge = await get(a.base, `/hls/${roomId}/huge.m4s`);
  t.deepEqual([huge.status, await huge.json()], [502, { errors: 'The file is too large to forward' }]);

  // names escaping the folder, through a: b's own answers (400 or 404), never a file outside
  await writeFile(path.join(resB.base, 'secret.m3u8'), 'outside the folder');
  await writeFile(path.join(resA.base, 'secret.m3u8'), 'outside the folder');
  for (const name of ['..%2Fsecret.m3u8', '%2e%2e%2Fsecret.m3u8', '..%2F..%2Fsecret.m3u8', '%2E%2E', '..%5Csecret.m3u8', 'stream.m3u8%00', 'x'.repeat(300), 'missing.m4s']) {
    const [viaA, viaB] = [await get(a.base, `/hls/${roomId}/${name}`), await get(b.base, `/hls/${roomId}/${name}`)];
    t.is(viaA.status, viaB.status, name);
    t.true(viaA.status === 400 || viaA.status === 404, name);
    t.deepEqual(await viaA.json(), await viaB.json(), name);
  }
  for (const raw of [`/hls/${roomId}/../../secret.m3u8`, `/hls/${roomId}/%2e%2e/%2e%2e/secret.m3u8`, `/hls/..%2F${roomId}/stream.m3u8`]) {
    const r = await get(a.base, raw);
    t.true(r.status === 400 || r.status === 404, raw);
    t.false((await r.text()).includes('outside the folder'), raw);
  }
  // garbage directives: b's 400s through a
  for (const q of ['_HLS_msn=abc', '_HLS_msn=-1', '_HLS_part=1', `_HLS_msn=${msn + 1000}`, '_HLS_msn=1&_HLS_msn=2']) {
    const [viaA, viaB] = [await get(a.base, `/hls/${roomId}/stream.m3u8?${q}`), await get(b.base, `/hls/${roomId}/stream.m3u8?${q}`)];
    t.deepEqual([viaA.status, await viaA.json()], [viaB.status, await viaB.json()], q);
  }
  // unknown rooms: the single node's 404, whichever node is asked
  for (const unknown of ['no-such-room', `${roomId.slice(0, -2)}ff`]) {
    const r = await get(a.base, `/hls/${unknown}/index.m3u8`);
    t.deepEqual([r.status, await r.json()], [404, { errors: 'File not found' }], unknown);
  }

  // blocked clients through a: identical requests share one wait at b (20 viewers, one waiter), distinct ones do not;
  // clients that hang up leave the shared wait, and the last one out ends it at b
  const ll = b.node.components.hls.lowLatencyOf(roomId)!;
  // The waits end anyway when b publishes the segment two ahead (a few seconds): a round in which that happened
  // before its checks were made proves nothing and is tried again.
  const round = async (): Promise<'done' | 'moved on'> => {
    const last = Number(HINT.exec(await (await get(b.base, `/hls/${roomId}/stream.m3u8`)).text())![1]);
    const published = () => ll.playlist.has(last + 2, 0);
    const blocked = (part: number, c: AbortController) =>
      fetch(`${a.base}/hls/${roomId}/stream.m3u8?_HLS_msn=${last + 2}&_HLS_part=${part}`, { signal: c.signal }).catch(() => undefined);
    const identical = Array.from({ length: 20 }, () => new AbortController());
    const others = [1, 2, 3].map(() => new AbortController());
    const hung = [...identical.map((c) => blocked(0, c)), ...others.map((c, i) => blocked(i + 1, c))];
    try {
      await waitFor(() => ll.waiters.size >= 4 || published(), 20_000, 'the blocked requests at b');
      await new Promise((r) => setTimeout(r, 300));
      const all = ll.waiters.size;
      for (const c of identical.slice(1)) c.abort();
      await new Promise((r) => setTimeout(r, 300));
      const oneLeft = ll.waiters.size;
      identical[0]!.abort();
      await waitFor(() => ll.waiters.size <= 3, 10_000, 'the last identical client gone');
      const lastGone = ll.waiters.size;
      if (published()) return 'moved on';
      t.is(all, 4, '20 identical requests wait once at b, 3 distinct ones once each');
      t.is(oneLeft, 4, 'one client still waits on the shared call');
      t.is(lastGone, 3, 'the last identical client gone: its wait at b ended');
      return 'done';
    } finally {
      for (const c of [...identical, ...others]) c.abort();
      await Promise.all(hung);
      await waitFor(() => ll.waiters.size === 0, 10_000, 'the hung-up requests released at b');
    }
  };
  let rounds = 1;
  while ((await round()) === 'moved on' && rounds < 5) rounds++;
  t.true(rounds < 5, 'a round within the stream\'s pace');

  // the room goes: 404 through a as on b
  t.is((await a.api(`/room/${roomId}`, { method: 'DELETE' })).status, 204);
  const gone = await get(a.base, `/hls/${roomId}/index.m3u8`);
  t.deepEqual([gone.status, await gone.json()], [404, { errors: 'File not found' }]);
});

test('recordings: listed on every node, served and deleted through a node that does not hold them', async (t) => {
  const { a, b } = await pair(t);
  // a chosen id: its node is not in the id, so a asks the others which one has the recording
  const roomId = await hlsRoomOnB(b, { persistent: true }, 'recorded-on-b');
  // a recording is listed once its room has no live HLS any more
  t.is((await b.api(`/room/${roomId}`, { method: 'DELETE' })).status, 204);
  await waitFor(async () => ((await b.api('/recording')).body.data as string[]).includes(roomId), 30_000, 'the recording on b');
  const listA = await a.api('/recording');
  t.is(listA.status, 200);
  t.deepEqual(listA.body, (await b.api('/recording')).body, 'the same list from either node');
  const [plA, plB] = [await get(a.base, `/recording/${roomId}/stream.m3u8`), await get(b.base, `/recording/${roomId}/stream.m3u8`)];
  t.is(plA.status, 200);
  const text = await plA.text();
  t.is(text, await plB.text());
  const segment = /segment_\d+\.m4s/.exec(text)![0];
  t.true(sameBytes(await bytes(await get(a.base, `/recording/${roomId}/${segment}`)), await bytes(await get(b.base, `/recording/${roomId}/${segment}`))));
  // hostile: the same 400/404 as b's
  for (const p of [`/recording/${roomId}/..%2F..%2Fsecret`, `/recording/..%2Fx/stream.m3u8`, `/recording/%2e%2e/stream.m3u8`, `/recording/nope/stream.m3u8`, `/recording/${roomId}/missing.m4s`]) {
    const [viaA, viaB] = [await get(a.base, p), await get(b.base, p)];
    t.deepEqual([viaA.status, await viaA.json()], [viaB.status, await viaB.json()], p);
  }
  t.deepEqual(await a.api('/recording/..%2Fx', { method: 'DELETE' }).then((r) => [r.status, r.body]), [400, { errors: 'Invalid recording id, got: ../x' }]);
  // deleted through a: gone on b; again: 404
  t.is((await a.api(`/recording/${roomId}`, { method: 'DELETE' })).status, 204);
  t.false(((await b.api('/recording')).body.data as string[]).includes(roomId));
  t.deepEqual(await a.api(`/recording/${roomId}`, { method: 'DELETE' }).then((r) => [r.status, r.body]), [404, { errors: 'Recording not found' }]);
  t.is((await get(a.base, `/recording/${roomId}/stream.m3u8`)).status, 404);
});

test('the owner freezing while a blocked reload waits on it (503 within seconds) or in the middle of a body (cut within seconds)', async (t) => {
  const res = await makeResources();
  await makeVideo(path.join(res.sources, 'video.h264'), 60);
  const mapper = String(await freePort());
  const common = { FJ_DIST_ENABLED: 'true', FJ_DIST_PORT_MAPPER_PORT: mapper, FJ_DIST_COOKIE: 'freeze-hls', FJ_COMPONENTS_USED: 'file hls' };
  const a = await startTestNode({ ...common, FJ_DIST_NODE_NAME: 'a@127.0.0.1', FJ_HOST: 'a.example:1' });
  const b = await startChildNode({ ...common, FJ_DIST_NODE_NAME: 'b@127.0.0.1', FJ_DIST_NODES: 'a@127.0.0.1', FJ_HOST: 'b.example:1', FJ_RESOURCES_BASE_PATH: res.base });
  t.teardown(async () => {
    await b.stop();
    await a.stop();
    await rm(res.base, { recursive: true, force: true });
  });
  await waitFor(() => a.node.cluster!.linkedNodes().length === 1, 10_000, 'the link');
  const created = await b.api('/room', { method: 'POST', json: { videoCodec: 'h264' } });
  const roomId = created.body.data.room.id as string;
  t.is(created.body.data.fishjam_address, 'b.example:1');
  t.is((await b.api(`/room/${roomId}/component`, { method: 'POST', json: { type: 'hls', options: { lowLatency: true } } })).status, 201);
  t.is((await b.api(`/room/${roomId}/component`, { method: 'POST', json: { type: 'file', options: { filePath: 'video.h264' } } })).status, 201);
  let text = '';
  await waitFor(async () => HINT.test((text = await (await get(a.base, `/hls/${roomId}/stream.m3u8`)).text())), 90_000, 'the stream through a');
  const [, msn] = HINT.exec(text)!.map(Number) as [number, number];
  // blocked at b (two segments ahead: seconds away), then b freezes
  const started = Date.now();
  const blocked = get(a.base, `/hls/${roomId}/stream.m3u8?_HLS_msn=${msn + 2}&_HLS_part=0`).then(async (r) => ({ status: r.status, body: await r.json(), ms: Date.now() - started }));
  await new Promise((r) => setTimeout(r, 300));
  b.child.kill('SIGSTOP');
  const answer = await blocked;
  t.log(`blocked reload answered ${answer.status} after ${answer.ms} ms (b frozen after 300 ms)`);
  t.deepEqual([answer.status, answer.body], [503, { errors: `Unable to reach Fishjam instance holding room ${roomId}` }]);
  t.true(answer.ms < 8000, `${answer.ms} ms`);
  // while b is frozen: 503 at once, as for its REST calls
  const quick = Date.now();
  const r = await get(a.base, `/hls/${roomId}/index.m3u8`);
  t.deepEqual([r.status, r.headers.get('retry-after')], [503, '1']);
  t.true(Date.now() - quick < 4000);
  b.child.kill('SIGCONT');
  await waitFor(async () => (await get(a.base, `/hls/${roomId}/index.m3u8`)).status === 200, 20_000, 'served again after SIGCONT');

  // frozen in the middle of a body: a 16 MiB file through a, read slowly; b freezes after the first bytes. The response
  // was promised 16 MiB (content-length): the client sees it cut within seconds, not a hang, and a serves on.
  await writeFile(path.join(res.base, 'temporary_hls', roomId, 'large.m4s'), Buffer.alloc(16 * 1024 * 1024, 9));
  const large = await get(a.base, `/hls/${roomId}/large.m4s`);
  t.is(large.headers.get('content-length'), String(16 * 1024 * 1024));
  const reader = large.body!.getReader();
  let received = (await reader.read()).value?.length ?? 0;
  b.child.kill('SIGSTOP');
  const frozenAt = Date.now();
  const end = await (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return 'complete';
        received += value.length;
      }
    } catch (error) {
      return `cut: ${(error as Error).message}`;
    }
  })();
  t.log(`a body from a frozen owner: ${end} after ${Date.now() - frozenAt} ms, ${received} of ${16 * 1024 * 1024} bytes`);
  t.regex(end, /^cut/);
  t.true(received < 16 * 1024 * 1024);
  t.true(Date.now() - frozenAt < 10_000);
  const unknown = await get(a.base, '/hls/no-such-room/index.m3u8');
  t.is(unknown.status, 404, 'a still answers');
  b.child.kill('SIGCONT');
});
