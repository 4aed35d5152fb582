// A port mapper like Erlang's EPMD on TCP 4369: the first node on a host serves it, later nodes register with it,
// and a peer finds a node's distribution port by asking `<host>:4369` for the node's name. A registration lives as
// long as its TCP connection; if the serving node goes away, a registered node takes over serving.
// Wire format: one JSON object per line, at most MAX_LINE bytes. The mapper listens only on the dist listener's
// address; a connection that has not registered is closed after IDLE_MS or when it sends a line too long.
import net from 'node:net';
import type { Logger } from 'pino';

export const PORT_MAPPER_PORT = 4369;
/** longest request or answer line (a node name is at most a few hundred bytes) */
export const MAX_LINE = 1024;
/** an unregistered connection (a lookup) has this long to ask and be answered */
export const IDLE_MS = 5000;

/** Calls `onLine` for each line; destroys the socket when a line grows past MAX_LINE without a newline. */
export function readLines(socket: net.Socket, onLine: (line: string) => void): void {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl >= 0 && !socket.destroyed; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      onLine(line);
    }
    if (buffered.length > MAX_LINE) socket.destroy();
  });
}

function parse(line: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(line) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

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
      readLines(socket, (line) => {
        if (done) return;
        done = true;
        const ok = parse(line)?.ok === true;
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
  // Until it registers, a connection gets IDLE_MS; a registration lives as long as its connection.
  socket.setTimeout(IDLE_MS, () => {
    if (registered === undefined) socket.destroy();
  });
  readLines(socket, (line) => {
    const request = parse(line) as { op?: string; name?: unknown; port?: unknown } | undefined;
    if (!request) return socket.destroy();
    if (registered !== undefined) return socket.destroy(); // a registered connection has nothing more to say
    if (request.op === 'register' && typeof request.name === 'string' && request.name.length <= 255 && Number.isInteger(request.port)) {
      if (names.has(request.name)) return void socket.end(JSON.stringify({ ok: false, error: 'name taken' }) + '\n');
      registered = request.name;
      socket.setTimeout(0);
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
    socket.once('close', () => {
      clearTimeout(timer);
      reject(new Error(`port mapper at ${host}:${mapperPort} closed without answering`));
    });
    readLines(socket, (line) => {
      clearTimeout(timer);
      socket.destroy();
      const answer = parse(line);
      if (typeof answer?.port === 'number') resolve(answer.port);
      else reject(new Error(`${name} is not registered at ${host}:${mapperPort}`));
    });
  });
}
