// The REST calls a load test makes (Fishjam 0.6.3's API with the server token), with clear errors for the usual
// mistakes: nothing listening, a wrong token, a refusal.

export class ApiError extends Error {}

export interface JoinTicket {
  peerId: string;
  token: string;
  /** ws(s)://…/socket/peer/websocket */
  socketUrl: string;
}

export class FishjamApi {
  constructor(private readonly base: string, private readonly token: string, private readonly timeoutMs = 10_000) {}

  private async call(method: string, path: string, body?: unknown): Promise<any> {
    let res: Response;
    try {
      res = await fetch(this.base + path, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new ApiError(`${method} ${this.base}${path}: no answer (${cause}); is the server at --url running?`);
    }
    const text = await res.text();
    if (res.status === 401) throw new ApiError(`${method} ${path}: 401 ${text.slice(0, 200)}: check --token (the server API token)`);
    if (!res.ok) throw new ApiError(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : undefined;
  }

  /** GET /health: proves the URL and the token before anything is created. */
  async health(): Promise<{ version?: string; nodesInCluster?: number }> {
    const body = await this.call('GET', '/health');
    return { version: body?.data?.version, nodesInCluster: body?.data?.distribution?.nodesInCluster };
  }

  async createRoom(): Promise<{ roomId: string; address: string }> {
    const body = await this.call('POST', '/room', { videoCodec: 'vp8' });
    return { roomId: body.data.room.id as string, address: body.data.fishjam_address as string };
  }

  async addPeer(roomId: string): Promise<JoinTicket> {
    const body = await this.call('POST', `/room/${encodeURIComponent(roomId)}/peer`, { type: 'webrtc', options: {} });
    return { peerId: body.data.peer.id as string, token: body.data.token as string, socketUrl: socketUrlOf(this.base, body.data.peer_websocket_url as string) };
  }

  async deleteRoom(roomId: string): Promise<void> {
    await this.call('DELETE', `/room/${encodeURIComponent(roomId)}`).catch((error: Error) => {
      if (!/ 404 /.test(error.message)) throw error;
    });
  }
}

/** Fishjam's peer_websocket_url has no scheme (host:port/socket/peer/websocket): ws or wss like the API URL. */
export function socketUrlOf(apiBase: string, peerWebsocketUrl: string): string {
  if (/^wss?:\/\//.test(peerWebsocketUrl)) return peerWebsocketUrl;
  const secure = apiBase.startsWith('https:');
  return `${secure ? 'wss' : 'ws'}://${peerWebsocketUrl.replace(/^https?:\/\//, '')}`;
}
