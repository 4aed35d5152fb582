// Free loopback UDP port pairs (p for RTP, p + 1 for the RTCP socket ffmpeg also opens) for a child process to listen
// on: each pair is bound here first, to learn that it is free, and released just before the child starts. Another
// process may take a port in between (then the child fails to bind, exits, and its supervisor starts it again).
import dgram from 'node:dgram';

const ATTEMPTS = 50;

async function bind(port: number, address: string): Promise<dgram.Socket | undefined> {
  const socket = dgram.createSocket('udp4');
  return new Promise((resolve) => {
    socket.once('error', () => {
      socket.close();
      resolve(undefined);
    });
    socket.bind(port, address, () => resolve(socket));
  });
}

/** `count` pairs of free ports (p even-or-odd, p + 1 free too); the sockets holding them are closed on release(). */
export async function reservePortPairs(count: number, address: string): Promise<{ ports: number[]; release: () => void }> {
  const held: dgram.Socket[] = [];
  const ports: number[] = [];
  const release = () => {
    for (const s of held.splice(0)) s.close();
  };
  try {
    for (let attempt = 0; ports.length < count && attempt < ATTEMPTS * count; attempt++) {
      const first = await bind(0, address);
      if (!first) continue;
      const port = first.address().port;
      const second = port < 65535 ? await bind(port + 1, address) : undefined;
      if (!second) {
        first.close();
        continue;
      }
      held.push(first, second);
      ports.push(port);
    }
    if (ports.length < count) throw new Error('no free loopback UDP ports');
    return { ports, release };
  } catch (error) {
    release();
    throw error;
  }
}
