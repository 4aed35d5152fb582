// The media-server image built for real and the seed's Docker examples run as written (docker-compose against the
// engine's Docker API: podman here, see scripts/podman-setup.sh; a real Docker engine works too).
//   1. build the image; its size and the largest parts; non-root; /health healthy; drain on SIGTERM exits 0;
//   2. a second build with only a source change reuses the dependency and worker layers;
//   3. the seed's NODES_LIST example: a cluster of two, rooms placed on both nodes, a room reachable through the other
//      node, `docker stop` of one node drains it (exit 0) while the other keeps serving, `down` leaves nothing;
//   4. the seed's DNS example: the same cluster checks through the network alias;
//   5. the WebRTC-ready variant: up, UDP ports published, ICE/TURN addresses announced, down.
// Every wait is bounded; teardown removes this test's containers, networks and tags even when a step fails.
// Skipped (with the reason) when no engine/docker-compose is installed; FJ_E2E_COMPOSE=0 skips it on purpose.
// Measurements go to the test log and to $FJ_E2E_RESULTS (default: <tmp>/fishjam-ts-e2e/compose-results.json).
import test, { type ExecutionContext } from 'ava';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  api,
  cleanProject,
  compose,
  composeDir,
  containerName,
  engine,
  inspect,
  must,
  projectContainers,
  projectNetworks,
  repoRoot,
  run,
  sleep,
  tail,
  waitFor,
  waitReady,
  type ApiResult,
} from '../support/compose.js';
import { SEED_DNS, SEED_NODES_LIST, withoutBuildLine } from '../support/compose-seed.js';

const TOKEN = 'development'; // the seed's
const IMAGE = 'localhost/fishjam-ts:e2e';
const SINGLE = 'fjtest-image';
const PROJECTS = {
  nodes: { project: 'fjtest-nodes', file: path.join(composeDir, 'nodes-list.yml') },
  dns: { project: 'fjtest-dns', file: path.join(composeDir, 'dns.yml') },
  webrtc: { project: 'fjtest-webrtc', file: path.join(composeDir, 'webrtc.yml') },
};

const found = engine();
const skipReason = process.env.FJ_E2E_COMPOSE === '0' ? 'FJ_E2E_COMPOSE=0' : 'missing' in found ? found.missing : undefined;
const cli = 'cli' in found ? found.cli : 'podman';
const serial = skipReason ? test.serial.skip : test.serial;
if (skipReason) console.warn(`[compose e2e] skipped: ${skipReason}`);

const results: Record<string, unknown> = {};
const resultsFile = process.env.FJ_E2E_RESULTS ?? path.join(os.tmpdir(), 'fishjam-ts-e2e', 'compose-results.json');
function record(t: ExecutionContext, key: string, value: unknown, text?: string): void {
  results[key] = value;
  t.log(`${key}: ${text ?? JSON.stringify(value)}`);
  mkdirSync(path.dirname(resultsFile), { recursive: true });
  writeFileSync(resultsFile, JSON.stringify({ at: new Date().toISOString(), ...results }, null, 2) + '\n');
}

let imageBuilt = false;

function buildArgs(tag: string, context: string): string[] {
  return cli === 'podman' ? ['build', '--format', 'docker', '--layers', '-t', tag, context] : ['build', '-t', tag, context];
}

test.after.always(async () => {
  if (skipReason) return;
  await run(cli, ['rm', '-f', '-t', '0', SINGLE], { timeoutMs: 30_000 });
  await run(cli, ['rm', '-f', '-t', '0', `${SINGLE}-notoken`], { timeoutMs: 30_000 });
  for (const { project, file } of Object.values(PROJECTS)) await cleanProject(cli, project, file);
  await run(cli, ['rmi', `${IMAGE}-rebuild`], { timeoutMs: 60_000 });
});

// ---------------------------------------------------------------------------------------------------------------------
serial('the image builds, is small enough, runs as non-root, is healthy and drains on SIGTERM', async (t) => {
  // A cold build compiles the mediasoup worker: about 8 min on 2 idle cores, twice that with the other core busy.
  t.timeout(40 * 60_000);
  const built = await run(cli, buildArgs(IMAGE, '.'), { timeoutMs: 35 * 60_000 });
  if (built.code !== 0) t.fail(`image build failed (${built.code}):\n${tail(built.stdout + built.stderr, 4000)}`);
  imageBuilt = true;
  const cachedSteps = (built.stdout.match(/Using cache|CACHED/g) ?? []).length;
  record(t, 'buildSeconds', Math.round(built.ms / 1000), `${Math.round(built.ms / 1000)} s (${cachedSteps} steps from cache)`);

  const size = Number(await inspect(cli, IMAGE, '{{.Size}}'));
  const layers = (await must(cli, ['history', '--format', '{{.Size}}\t{{.CreatedBy}}', IMAGE], { timeoutMs: 30_000 })).stdout
    .split('\n').filter(Boolean).map((l) => l.split('\t')).map(([s, c]) => `${s}  ${(c ?? '').replace(/\s+/g, ' ').slice(0, 90)}`);
  const parts = (await must(cli, ['run', '--rm', '--entrypoint', 'sh', IMAGE, '-c',
    'du -sh /app/node_modules/mediasoup/worker/out/Release/mediasoup-worker /usr/bin/node /usr/lib/node_modules/npm /app/node_modules ' +
    '/app/media-server/dist /usr/lib/x86_64-linux-gnu /usr/share 2>/dev/null; du -sh --exclude=/proc --exclude=/sys / 2>/dev/null | tail -1'],
  { timeoutMs: 60_000 })).stdout.trim();
  record(t, 'imageSizeMB', Math.round(size / 1e6), `${Math.round(size / 1e6)} MB (aim: under 800 MB; ffmpeg for File components is about 460 MB of it)\nlayers:\n  ${layers.join('\n  ')}\nparts:\n${parts}`);
  // 295 MB before ffmpeg (File components) came in with all of Debian's codec libraries: issue 13 notes the cost
  t.true(size < 800e6, `image is ${Math.round(size / 1e6)} MB`);

  // Production mode: no token, no start (exit 1, the message names the variable).
  const noToken = await run(cli, ['run', '--name', `${SINGLE}-notoken`, '--rm', IMAGE], { timeoutMs: 60_000 });
  t.is(noToken.code, 1, tail(noToken.stdout + noToken.stderr, 1000));
  t.regex(noToken.stdout + noToken.stderr, /FJ_SERVER_API_TOKEN/);

  // One node, published on a free localhost port; start-to-healthy is `run` to /readyz 200 and HEALTHCHECK healthy.
  const port = 18000 + Math.floor(Math.random() * 1000);
  await run(cli, ['rm', '-f', '-t', '0', SINGLE], { timeoutMs: 30_000 });
  const started = Date.now();
  await must(cli, ['run', '-d', '--name', SINGLE, '-p', `127.0.0.1:${port}:8080`, '-e', `FJ_SERVER_API_TOKEN=${TOKEN}`,
    '-e', 'FJ_WORKERS=1', '-e', 'FJ_DRAIN_TIMEOUT=4', IMAGE], { timeoutMs: 60_000 });
  await waitReady(port, 60_000);
  const readyMs = Date.now() - started;
  const health = await waitFor('the HEALTHCHECK to pass', 30_000, async () => {
    if (cli === 'podman') return (await run(cli, ['healthcheck', 'run', SINGLE], { timeoutMs: 15_000 })).code === 0 ? 'healthy' : undefined;
    const s = await inspect(cli, SINGLE, '{{.State.Health.Status}}');
    return s === 'healthy' ? s : undefined;
  }, 1000);
  t.is(health, 'healthy');
  record(t, 'startToHealthySeconds', +((Date.now() - started) / 1000).toFixed(1),
    `${((Date.now() - started) / 1000).toFixed(1)} s (/readyz 200 after ${(readyMs / 1000).toFixed(1)} s)`);
  const h = await api(port, '/health', { token: TOKEN });
  t.is(h.status, 200);
  t.is(h.body.data.status, 'UP');

  t.is(await inspect(cli, SINGLE, '{{.Config.User}}'), '1000:1000');
  t.is((await must(cli, ['exec', SINGLE, 'id', '-u'], { timeoutMs: 30_000 })).stdout.trim(), '1000');
  t.is((await run(cli, ['exec', SINGLE, 'test', '-f', '/app/media-server/dist/cli/drain.js'], { timeoutMs: 30_000 })).code, 0);
  const ps = (await must(cli, ['exec', SINGLE, 'cat', '/proc/1/cmdline'], { timeoutMs: 30_000 })).stdout.replace(/\0/g, ' ');
  t.regex(ps, /tini/, 'PID 1 is the init');

  // SIGTERM with a room open: the node drains, waits FJ_DRAIN_TIMEOUT (4 s) for the room, then exits 0.
  t.is((await api(port, '/room', { method: 'POST', token: TOKEN })).status, 201);
  const stop = await run(cli, ['stop', '-t', '30', SINGLE], { timeoutMs: 60_000 });
  t.is(stop.code, 0, stop.stderr);
  t.is(await inspect(cli, SINGLE, '{{.State.ExitCode}}'), '0');
  t.true(stop.ms >= 3500 && stop.ms < 25_000, `stop took ${stop.ms} ms`);
  record(t, 'sigtermStopSeconds', +(stop.ms / 1000).toFixed(1), `${(stop.ms / 1000).toFixed(1)} s with one room and FJ_DRAIN_TIMEOUT=4 (exit 0)`);
  const logs = (await run(cli, ['logs', SINGLE], { timeoutMs: 30_000 }));
  t.regex(logs.stdout + logs.stderr, /draining/i);
  await run(cli, ['rm', '-f', SINGLE], { timeoutMs: 30_000 });
});

// ---------------------------------------------------------------------------------------------------------------------
serial('a rebuild after a source change reuses the dependency and worker layers', async (t) => {
  t.timeout(20 * 60_000);
  if (!imageBuilt) return t.fail('the image was not built');
  // The same build context with one source file changed, in a temporary copy (the repository stays untouched).
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fishjam-ts-ctx-'));
  try {
    const files = (await must('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { timeoutMs: 30_000 })).stdout
      .split('\0').filter(Boolean);
    for (const f of files) {
      try {
        cpSync(path.join(repoRoot, f), path.join(dir, f), { recursive: false });
      } catch {
        /* deleted in the work tree */
      }
    }
    const changed = path.join(dir, 'media-server/src/version.ts');
    appendFileSync(changed, `\n// e2e cache probe ${Date.now()}\n`);
    const rebuilt = await run(cli, buildArgs(`${IMAGE}-rebuild`, dir), { timeoutMs: 15 * 60_000 });
    if (rebuilt.code !== 0) return t.fail(tail(rebuilt.stdout + rebuilt.stderr, 4000));
    const out = rebuilt.stdout + rebuilt.stderr;
    // podman: "STEP n/m: RUN ..." then "--> Using cache <id>"; BuildKit: "CACHED [deps 7/9] RUN ...".
    const stepCached = (needle: string): boolean => {
      if (/CACHED/.test(out)) return out.split('\n').some((l) => l.includes('CACHED') && l.includes(needle));
      const steps = out.split(/\n(?=\[\d+\/\d+\] STEP|STEP \d+)/);
      const s = steps.filter((x) => x.includes(needle));
      return s.length > 0 && s.every((x) => /Using cache/.test(x));
    };
    t.true(stepCached('npm ci --workspace media-server --include-workspace-root=false --ignore-scripts --no-audit'), 'npm ci (build) from cache');
    t.true(stepCached('build-worker.sh'), 'worker build from cache');
    t.true(stepCached('apt-get install'), 'Debian packages from cache');
    t.false(stepCached('npm run build -w media-server'), 'the TypeScript compile ran again');
    record(t, 'cachedRebuildSeconds', Math.round(rebuilt.ms / 1000), `${Math.round(rebuilt.ms / 1000)} s (source change only)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------------------------------
test.serial('the examples are the seed files with only the build context changed', (t) => {
  for (const [file, seed] of [['nodes-list.yml', SEED_NODES_LIST], ['dns.yml', SEED_DNS]] as const) {
    const text = readFileSync(path.join(composeDir, file), 'utf8');
    t.regex(text, /^\s+build: \.\.\/\.\.$/m, file);
    t.is(withoutBuildLine(text), withoutBuildLine(seed), `${file} differs from the seed beyond its build line`);
  }
});

interface Node {
  service: string;
  port: number;
  host: string;
}

async function upCluster(t: ExecutionContext, key: 'nodes' | 'dns', nodes: Node[]): Promise<void> {
  const { project, file } = PROJECTS[key];
  await cleanProject(cli, project, file);
  // `build: ../..` -> the root Dockerfile; layers come from the cache of the first test's build.
  const build = await compose(project, file, ['build'], 20 * 60_000);
  if (build.code !== 0) throw new Error(`docker-compose build failed:\n${tail(build.stdout + build.stderr, 3000)}`);
  record(t, `${key}.composeBuildSeconds`, Math.round(build.ms / 1000));
  const started = Date.now();
  const up = await compose(project, file, ['up', '-d'], 180_000);
  if (up.code !== 0) throw new Error(`docker-compose up failed:\n${tail(up.stdout + up.stderr, 3000)}`);
  await Promise.all(nodes.map((n) => waitReady(n.port, 90_000)));
  const readyMs = Date.now() - started;
  // The cluster of two: each node counts two nodes in /health's distribution.
  await Promise.all(
    nodes.map((n) =>
      waitFor(`a cluster of 2 seen by ${n.service}`, 60_000, async () => {
        const h = await api(n.port, '/health', { token: TOKEN });
        return h.status === 200 && h.body.data.distribution.enabled && h.body.data.distribution.nodesInCluster === 2 ? true : undefined;
      }),
    ),
  );
  record(t, `${key}.upToClusterSeconds`, +((Date.now() - started) / 1000).toFixed(1),
    `${((Date.now() - started) / 1000).toFixed(1)} s (both /readyz 200 after ${(readyMs / 1000).toFixed(1)} s)`);
}

/** The seed's check: two `POST /room` through one node give both nodes' FJ_HOST. */
async function createTwoRooms(t: ExecutionContext, via: Node, nodes: Node[]): Promise<ApiResult[]> {
  const rooms: ApiResult[] = [];
  for (let i = 0; i < 2; i++) {
    const r = await api(via.port, '/room', { method: 'POST', token: TOKEN });
    t.is(r.status, 201, JSON.stringify(r.body));
    rooms.push(r);
    await sleep(1500); // a person typing the second curl; load reports travel about every second
  }
  // Sorted lists, not Sets: ava compares Sets in insertion order, and either node may get the first room.
  t.deepEqual([...new Set(rooms.map((r) => r.body.data.fishjam_address as string))].sort(), nodes.map((n) => n.host).sort(),
    `fishjam_address of two rooms created through ${via.service}`);
  // Each room is reachable through the other node too (REST forwarded to its owner).
  for (const r of rooms) {
    const id = r.body.data.room.id as string;
    for (const n of nodes) {
      const got = await api(n.port, `/room/${encodeURIComponent(id)}`, { token: TOKEN });
      t.is(got.status, 200, `GET /room/${id} through ${n.service}: ${JSON.stringify(got.body)}`);
      t.is(got.body.data.id, id);
    }
  }
  return rooms;
}

async function downAndCheck(t: ExecutionContext, key: keyof typeof PROJECTS): Promise<void> {
  const { project, file } = PROJECTS[key];
  const down = await compose(project, file, ['down', '-t', '10'], 120_000);
  t.is(down.code, 0, down.stderr);
  t.deepEqual(await projectContainers(cli, project), [], 'no containers left');
  t.deepEqual(await projectNetworks(cli, project), [], 'no networks left');
}

// ---------------------------------------------------------------------------------------------------------------------
serial('NODES_LIST example: cluster of two, rooms on both, cross-node access, docker stop drains, down cleans up', async (t) => {
  t.timeout(20 * 60_000);
  const nodes: Node[] = [
    { service: 'fishjam1', port: 5001, host: 'localhost:5001' },
    { service: 'fishjam2', port: 5002, host: 'localhost:5002' },
  ];
  const [n1, n2] = nodes as [Node, Node];
  const { project } = PROJECTS.nodes;
  await upCluster(t, 'nodes', nodes);
  const rooms = await createTwoRooms(t, n1, nodes);
  // A peer added through the node that does not own the room.
  const remote = rooms.find((r) => r.body.data.fishjam_address === n2.host)!;
  const peer = await api(n1.port, `/room/${remote.body.data.room.id}/peer`, { method: 'POST', token: TOKEN, json: { type: 'webrtc', options: {} } });
  t.is(peer.status, 201, JSON.stringify(peer.body));
  await api(n1.port, `/room/${remote.body.data.room.id}/peer/${peer.body.data.peer.id}`, { method: 'DELETE', token: TOKEN });

  // `docker stop` of fishjam1 (which owns a room): it drains; fishjam2 keeps serving; once fishjam1's room is deleted
  // (through fishjam2) it exits 0, well inside the grace period.
  const c1 = containerName(project, n1.service);
  const stopping = run(cli, ['stop', '-t', '45', c1], { timeoutMs: 90_000 });
  await waitFor('fishjam1 to report draining', 15_000, async () => ((await api(n1.port, '/readyz')).status === 503 ? true : undefined));
  const listed = await api(n2.port, '/room', { token: TOKEN });
  t.is(listed.status, 200);
  const during = await api(n2.port, '/room', { method: 'POST', token: TOKEN });
  t.is(during.status, 201, JSON.stringify(during.body));
  t.is(during.body.data.fishjam_address, n2.host, 'no room is placed on a draining node');
  for (const r of rooms.filter((r) => r.body.data.fishjam_address === n1.host)) {
    const del = await api(n2.port, `/room/${r.body.data.room.id}`, { method: 'DELETE', token: TOKEN });
    t.is(del.status, 204, JSON.stringify(del.body));
  }
  const stopped = await stopping;
  t.is(stopped.code, 0, stopped.stderr);
  t.is(await inspect(cli, c1, '{{.State.ExitCode}}'), '0', 'the drained node exits 0');
  t.true(stopped.ms < 40_000, `docker stop took ${stopped.ms} ms`);
  record(t, 'nodes.drainStopSeconds', +(stopped.ms / 1000).toFixed(1));
  // The survivor still serves: its rooms, new rooms, health.
  t.is((await api(n2.port, `/room/${during.body.data.room.id}`, { token: TOKEN })).status, 200);
  t.is((await api(n2.port, '/room', { method: 'POST', token: TOKEN })).status, 201);
  t.is((await api(n2.port, '/readyz')).status, 200);
  await downAndCheck(t, 'nodes');
});

// ---------------------------------------------------------------------------------------------------------------------
serial('DNS example: cluster of two through the network alias, rooms on both, cross-node access, down cleans up', async (t) => {
  t.timeout(20 * 60_000);
  const nodes: Node[] = [
    { service: 'app1', port: 4001, host: 'localhost:4001' },
    { service: 'app2', port: 4002, host: 'localhost:4002' },
  ];
  await upCluster(t, 'dns', nodes);
  await createTwoRooms(t, nodes[1]!, nodes); // the seed creates both through localhost:4002
  await downAndCheck(t, 'dns');
});

// ---------------------------------------------------------------------------------------------------------------------
serial('WebRTC-ready example: UDP ports published, the announced address in the peer configuration', async (t) => {
  t.timeout(20 * 60_000);
  const { project, file } = PROJECTS.webrtc;
  await cleanProject(cli, project, file);
  const build = await compose(project, file, ['build'], 20 * 60_000);
  t.is(build.code, 0, tail(build.stderr, 2000));
  const up = await compose(project, file, ['up', '-d'], 180_000);
  t.is(up.code, 0, tail(up.stdout + up.stderr, 3000));
  await Promise.all([waitReady(5001, 90_000), waitReady(5002, 90_000)]);
  const ports = (await must(cli, ['port', containerName(project, 'fishjam1')], { timeoutMs: 30_000 })).stdout;
  t.regex(ports, /50000\/udp/, ports);
  t.regex(ports, /3478\/udp/, ports);
  const turn = await api(5001, '/health', { token: TOKEN });
  t.is(turn.status, 200);
  const room = await api(5001, '/room', { method: 'POST', token: TOKEN });
  t.is(room.status, 201);
  const peer = await api(5001, `/room/${room.body.data.room.id}/peer`, { method: 'POST', token: TOKEN, json: { type: 'webrtc', options: {} } });
  t.is(peer.status, 201, JSON.stringify(peer.body));
  await downAndCheck(t, 'webrtc');
});
