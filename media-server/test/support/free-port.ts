// A TCP port that was free a moment ago on this address (tests start listeners on it right after).
import net from 'node:net';

export async function freePort(ip = '127.0.0.1'): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, ip, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
