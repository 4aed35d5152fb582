// The media side of one room: its router (on the least-loaded worker) and the WebRtcServer its transports share.
// Knows nothing of peers or signalling; closing it closes every transport, producer and consumer under it.
import type { types } from 'mediasoup';
import { mediaCodecsFor } from './media-codecs.js';
import type { WorkerPool } from './worker-pool.js';

export class RoomMedia {
  private constructor(
    readonly router: types.Router,
    readonly webRtcServer: types.WebRtcServer,
  ) {}

  static async create(pool: WorkerPool, videoCodec: 'h264' | 'vp8' | null): Promise<RoomMedia> {
    const { router, webRtcServer } = await pool.createRouter(mediaCodecsFor(videoCodec));
    return new RoomMedia(router, webRtcServer);
  }

  get routerId(): string {
    return this.router.id;
  }

  get closed(): boolean {
    return this.router.closed;
  }

  /** A transport for one peer, on the worker's shared WebRtcServer port (ICE-lite). */
  createWebRtcTransport(): Promise<types.WebRtcTransport> {
    return this.router.createWebRtcTransport({
      webRtcServer: this.webRtcServer,
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
    });
  }

  close(): void {
    if (!this.router.closed) this.router.close();
  }
}
