// What crosses the wire between two nodes, captured by a TCP relay placed between them: with FJ_DIST_TLS_* set,
// nothing of the dist protocol is readable; without it (the control), the handshake and load reports are.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { freePort } from '../support/free-port.js';
import { startTestNode, waitFor, type TestNode } from '../support/test-node.js';


/** A port mapper stand-in on 127.0.0.2 that sends node b to a recording relay in front of node a. */
async function relayInFront(target: number, mapperPort: number): Promise<{ captured: () => string; close: () => void }> {
  const chunks: Buffer[] = [];
  const sockets: net.Socket[] = [];
  const relay = net.createServer((inbound) => {
    const outbound = net.connect(target, '127.0.0.1');
    sockets.push(inbound, outbound);
    inbound.on('data', (d) => (chunks.push(d), outbound.write(d)));
    outbound.on('data', (d) => (chunks.push(d), inbound.write(d)));
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
    inbound.on('error', () => undefined);
    outbound.on('error', () => undefined);
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.2', r));
  const relayPort = (relay.address() as net.AddressInfo).port;
  const mapper = net.createServer((socket) => {
    socket.on('data', () => socket.end(JSON.stringify({ port: relayPort }) + '\n'));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => mapper.listen(mapperPort, '127.0.0.2', r));
  return {
    captured: () => Buffer.concat(chunks).toString('latin1'),
    close: () => {
      for (const s of sockets) s.destroy();
      relay.close();
      mapper.close();
    },
  };
}

async function linkThroughRelay(tlsEnv: Record<string, string>): Promise<{ captured: string; a: TestNode; b: TestNode; close: () => Promise<void> }> {
  const mapperPort = await freePort();
  const common = { FJ_DIST_ENABLED: 'true', FJ_DIST_PORT_MAPPER_PORT: String(mapperPort), FJ_DIST_COOKIE: 'wire-cookie', ...tlsEnv };
  const a = await startTestNode({ ...common, FJ_DIST_NODE_NAME: 'a@127.0.0.1' });
  const relay = await relayInFront(a.node.cluster!.distPort, mapperPort);
  const b = await startTestNode({ ...common, FJ_DIST_NODE_NAME: 'b@127.0.0.1', FJ_DIST_NODES: 'a@127.0.0.2' });
  await waitFor(() => b.node.cluster!.linkedNodes().includes('a@127.0.0.1'), 8000, 'b linked to a through the relay');
  await new Promise((r) => setTimeout(r, 1500)); // a couple of load reports cross the relay
  return {
    captured: relay.captured(),
    a,
    b,
    close: async () => {
      relay.close();
      await b.stop();
      await a.stop();
    },
  };
}

test('with TLS the dist traffic is not readable on the wire; without it, it is', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dist-tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=fishjam-dist'], { stdio: 'ignore' });
    const plain = await linkThroughRelay({});
    try {
      t.regex(plain.captured, /"t":"challenge"/, 'control: the plain handshake is visible');
      t.regex(plain.captured, /"t":"load"/, 'control: load reports are visible');
      t.notRegex(plain.captured, /wire-cookie/, 'the cookie itself never crosses the wire');
    } finally {
      await plain.close();
    }
    const tls = await linkThroughRelay({
      FJ_DIST_TLS_CERT_PATH: path.join(dir, 'cert.pem'),
      FJ_DIST_TLS_KEY_PATH: path.join(dir, 'key.pem'),
      FJ_DIST_TLS_CA_PATH: path.join(dir, 'cert.pem'),
    });
    try {
      t.true(tls.captured.length > 1000, `${tls.captured.length} bytes captured`);
      for (const visible of ['"t":', 'challenge', 'load', 'a@127.0.0.1', 'b@127.0.0.1', 'wire-cookie', 'forwardedTracks']) {
        t.false(tls.captured.includes(visible), `"${visible}" must not be readable`);
      }
      t.deepEqual(tls.a.node.cluster!.linkedNodes(), ['b@127.0.0.1'], 'the TLS link works');
    } finally {
      await tls.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
