// What every client-facing websocket of the node gets, written once for the peer socket, the server notification
// socket and the peer socket relay:
// - an auth deadline: a socket still unauthenticated after `authTimeoutMs` is closed 1000 with the socket's own
//   reason for a missing auth request;
// - a heartbeat: a ping every `pingIntervalMs`; a socket whose previous ping got no pong is terminated (its 'close'
//   handler then runs as for any dropped socket, so a vanished client is noticed within two intervals), unless this
//   process was itself stalled since that ping (then it pings again: a stall here must not drop every client);
// - an error boundary around each message handler: an exception is logged and closes that socket 1011, never the node.
import type { Logger } from 'pino';

export interface LivenessTimings {
  /** how long a socket may stay open without authenticating */
  readonly authTimeoutMs: number;
  /** time between pings; a ping without a pong by the next one ends the socket */
  readonly pingIntervalMs: number;
}

export const DEFAULT_LIVENESS: LivenessTimings = { authTimeoutMs: 5_000, pingIntervalMs: 30_000 };

/** The close code and reason of a socket whose message handler threw (Fishjam's reason for a crashed room). */
export const HANDLER_FAILURE = { code: 1011, reason: 'Internal server error' } as const;

const WS_OPEN = 1;
const WS_CLOSED = 3;

/** The part of a `ws` WebSocket supervision uses (the relay's virtual socket has it too). */
export interface SupervisedSocket {
  readonly readyState: number;
  ping(): void;
  close(code: number, reason: string): void;
  terminate(): void;
  on(event: 'pong' | 'close', listener: () => void): unknown;
  off(event: 'pong' | 'close', listener: () => void): unknown;
}

export interface SocketWatch {
  /** The socket authenticated: its auth deadline is lifted (the heartbeat goes on). */
  authenticated(): void;
  /** Stop every timer (also done when the socket closes). */
  stop(): void;
}

export interface WatchOptions {
  readonly timings?: Partial<LivenessTimings> | undefined;
  /** the close reason (code 1000) of a socket that did not authenticate in time */
  readonly unauthenticatedReason: string;
  readonly logger: Logger;
  /** names the socket in logs, e.g. "peer socket" */
  readonly what: string;
}

export function watchSocket(socket: SupervisedSocket, options: WatchOptions): SocketWatch {
  const { authTimeoutMs, pingIntervalMs } = { ...DEFAULT_LIVENESS, ...definedOnly(options.timings) };
  let answered = true;
  let authTimer: NodeJS.Timeout | undefined = setTimeout(() => {
    authTimer = undefined;
    options.logger.warn({ authTimeoutMs }, `${options.what}: not authenticated in time; closing`);
    closeSocket(socket, 1000, options.unauthenticatedReason);
  }, authTimeoutMs);
  authTimer.unref();
  let lastBeat = performance.now();
  let forgiven = false;
  const heartbeat = setInterval(() => {
    if (socket.readyState === WS_CLOSED) return stop();
    // This process itself stalled (a long GC pause, a starved CPU): timers run before pending socket reads, so a pong
    // that arrived meanwhile is still unread. The silence is ours, not the client's: ping again and judge next time.
    // Once in a row only: a node late on every beat (overloaded for good) must still drop the sockets that are dead.
    // (A monotonic clock: a wall-clock jump is no stall.)
    const now = performance.now();
    const stalled = now - lastBeat > pingIntervalMs * 1.5;
    lastBeat = now;
    const forgive = stalled && !forgiven;
    forgiven = forgive;
    if (!answered && !forgive) {
      options.logger.warn({ pingIntervalMs }, `${options.what}: no pong since the last ping; terminating`);
      stop();
      return socket.terminate();
    }
    answered = false;
    if (socket.readyState === WS_OPEN) socket.ping();
  }, pingIntervalMs);
  heartbeat.unref();
  const onPong = (): void => {
    answered = true;
  };
  const stop = (): void => {
    if (authTimer) clearTimeout(authTimer);
    authTimer = undefined;
    clearInterval(heartbeat);
    socket.off('pong', onPong);
    socket.off('close', stop);
  };
  socket.on('pong', onPong);
  socket.on('close', stop);
  if (socket.readyState === WS_CLOSED) stop();
  return {
    authenticated: () => {
      if (authTimer) clearTimeout(authTimer);
      authTimer = undefined;
    },
    stop,
  };
}

/**
 * `handler` inside an error boundary: an exception is logged and closes `socket` 1011 "Internal server error";
 * it never reaches the event emitter (where it would end the process).
 */
export function withErrorBoundary<A extends unknown[]>(
  socket: Pick<SupervisedSocket, 'readyState' | 'close'>,
  logger: Logger,
  what: string,
  handler: (...args: A) => void,
): (...args: A) => void {
  return (...args: A): void => {
    try {
      handler(...args);
    } catch (error) {
      const err = error instanceof Error ? { err: error.message, stack: error.stack } : { err: String(error) };
      logger.error(err, `${what}: handling a message failed; closing the socket`);
      closeSocket(socket, HANDLER_FAILURE.code, HANDLER_FAILURE.reason);
    }
  };
}

/** Close unless already closing or closed (`ws` ignores that too, but a virtual socket may not). */
export function closeSocket(socket: Pick<SupervisedSocket, 'readyState' | 'close'>, code: number, reason: string): void {
  if (socket.readyState < 2) socket.close(code, reason);
}

function definedOnly(timings: Partial<LivenessTimings> | undefined): Partial<LivenessTimings> {
  const out: { -readonly [K in keyof LivenessTimings]?: number } = {};
  if (timings?.authTimeoutMs !== undefined) out.authTimeoutMs = timings.authTimeoutMs;
  if (timings?.pingIntervalMs !== undefined) out.pingIntervalMs = timings.pingIntervalMs;
  return out;
}
