// A port mapper like Erlang's EPMD on TCP 4369: the first node on a host serves it, later nodes register with it,
// and a peer finds a node's distribution port by asking `<host>:4369` for the node's name. A registration lives as
// long as its TCP connection; if the serving node goes away, a registered node takes over serving.
// Wire format: one JSON object per line.
import net from 'node:net';
import readline from 'node:readline';
import type { Logger } from 'pino';

export const PORT_MAPPER_PORT = 4369;

export interface PortMapperHandle {
  readonly serving: boolean;
  close(): void;
}

export async function registerWithPortMapper(options: {
  name: string;
  port: number;
  mapperPort: number;
  bindIp: string;
  logger: Logger;
}): Promise<PortMapperHandle> {
  let closed = false;
  let server: net.Server | undefined;
  let client: net.Socket | undefined;
  const names = new Map<string, number>();

  const serve = (): Promise<boolean> =>
    new Promise((resolve) => {
      const s = net.createServer((socket) => handleMapperClient(socket, names));
      s.once('error', () => resolve(false));
      s.listen(options.mapperPort, options.bindIp, () => {
        server = s;
        names.set(options.name, options.port);
        options.logger.info({ port: options.mapperPort }, 'port mapper: serving');
        resolve(true);
      });
    });

  const register = (): Promise<boolean> =>
    new Promise((resolve) => {
      const socket = net.connect(options.mapperPort, options.bindIp === '0.0.0.0' ? '127.0.0.1' : options.bindIp);
      socket.setNoDelay(true);
      let done = false;
      socket.once('connect', () => socket.write(JSON.stringify({ op: 'register', name: options.name, port: options.port }) + '\n'));
      readline.createInterface({ input: socket }).on('error', () => undefined).once('line', (line) => {
        done = true;
        const ok = (JSON.parse(line) as { ok?: boolean }).ok === true;
        if (ok) client = socket;
        else socket.destroy();
        resolve(ok);
      });
      socket.on('error', () => undefined);
      socket.once('close', () => {
        if (!done) return resolve(false);
        if (client === socket && !closed) {
          client = undefined;
          options.logger.warn('port mapper: the serving node went away; taking over');
          void establish();
        }
      });
    });

  const establish = async (): Promise<void> => {
    for (let attempt = 0; !closed; attempt++) {
      if ((await serve()) || (await register())) return;
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
    }
  };
  await establish();
  return {
    get serving() {
      return server !== undefined;
    },
    close() {
      closed = true;
      server?.close();
      client?.destroy();
    },
  };
}

function handleMapperClient(socket: net.Socket, names: Map<string, number>): void {
  let registered: string | undefined;
  socket.on('error', () => undefined);
  readline.createInterface({ input: socket }).on('error', () => undefined).on('line', (line) => {
    let request: { op?: string; name?: unknown; port?: unknown };
    try {
      request = JSON.parse(line) as typeof request;
    } catch {
      return socket.destroy();
    }
    if (request.op === 'register' && typeof request.name === 'string' && Number.isInteger(request.port)) {
      if (names.has(request.name)) return void socket.end(JSON.stringify({ ok: false, error: 'name taken' }) + '\n');
      registered = request.name;
      names.set(request.name, request.port as number);
      socket.write(JSON.stringify({ ok: true }) + '\n');
    } else if (request.op === 'lookup' && typeof request.name === 'string') {
      const port = names.get(request.name);
      socket.end(JSON.stringify(port === undefined ? { error: 'not found' } : { port }) + '\n');
    } else {
      socket.destroy();
    }
  });
  socket.on('close', () => {
    if (registered !== undefined) names.delete(registered);
  });
}

/** The distribution port of node `name` on `host`, from that host's port mapper. */
export function lookupPort(host: string, name: string, mapperPort: number, timeoutMs = 2000): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(mapperPort, host);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`port mapper at ${host}:${mapperPort} did not answer`));
    }, timeoutMs);
    socket.once('connect', () => socket.write(JSON.stringify({ op: 'lookup', name }) + '\n'));
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    readline.createInterface({ input: socket }).on('error', () => undefined).once('line', (line) => {
      clearTimeout(timer);
      socket.destroy();
      const answer = JSON.parse(line) as { port?: number; error?: string };
      if (typeof answer.port === 'number') resolve(answer.port);
      else reject(new Error(`${name} is not registered at ${host}:${mapperPort}`));
    });
  });
}
