// WebSocket upgrades on the API port: /socket/peer/websocket and /socket/server/websocket; other paths get 404.
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

export type SocketHandler = (socket: WebSocket, request: http.IncomingMessage) => void;

export function mountWebSockets(server: http.Server, routes: Record<string, SocketHandler>): WebSocketServer {
  // 1 MiB frames: SDP offers of many tracks fit; anything bigger is not a media event.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  server.on('upgrade', (request: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (request.url ?? '').split('?')[0] ?? '';
    const handler = routes[path];
    if (!handler) {
      socket.end('HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\n\r\n{"errors":"No websocket at this path"}');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => handler(ws, request));
  });
  return wss;
}
