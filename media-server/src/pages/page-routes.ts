// The built-in pages' HTTP side: the pages and their assets (static, from memory), the public page info, the demo
// peer endpoint (rate-limited, demo rooms only) and, on the authenticated router, the cluster view's data.
// No answer here ever carries the server API token: pages that need it (the cluster view) ask the user for it.
import { randomBytes } from 'node:crypto';
import type Router from '@koa/router';
import type Koa from 'koa';
import { HttpError } from '../api/http-error.js';
import { readJsonObject } from '../api/json-body.js';
import { DomainError } from '../rooms/domain-errors.js';
import type { RoomService } from '../rooms/room-service.js';
import type { RoomConfig } from '../rooms/room-types.js';
import type { ClusterOverview } from './cluster-overview.js';
import { DEMO_ROOM_NAME, DEMO_ROOM_OPTIONS, DEMO_ROOM_PREFIX, parseDemoPeerRequest } from './demo-request.js';
import { DEVELOPMENT_TOKEN, type PageAccess, type PageName } from './page-access.js';
import { RateLimiter, type RateLimiterOptions } from './rate-limiter.js';
import { ASSET_NAME, type StaticAsset } from './static-assets.js';

export interface PagesDeps {
  readonly access: PageAccess;
  readonly assets: ReadonlyMap<string, StaticAsset>;
  readonly rooms: RoomService;
  readonly overview: () => Promise<ClusterOverview>;
  readonly info: { readonly node: string; readonly version: string; readonly mode: string; readonly clustered: boolean };
  readonly rateLimits?: RateLimiterOptions;
  readonly now?: () => number;
}

/** A client may mint 10 demo peers at once, then one every 2 s; all clients together 60 at once, then 5 a second. */
export const DEMO_RATE_LIMITS: RateLimiterOptions = {
  perKey: { burst: 10, perSecond: 0.5 },
  overall: { burst: 60, perSecond: 5 },
  maxKeys: 10_000,
};
/** A demo peer request is `{"room": "<name>"}`: anything near this size is not one. */
const DEMO_BODY_LIMIT = 1024;

// The pages load only their own scripts and styles; media and sockets go to this node.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "media-src 'self' blob: mediastream:",
  "connect-src 'self' ws: wss:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

export function mountPageRoutes(router: Router, deps: PagesDeps): void {
  const { pages } = deps.access;
  const page = (name: PageName, file: string) => (ctx: Koa.Context) => {
    if (!pages.has(name)) return; // not served in this mode: the app's 404
    send(ctx, deps.assets.get(file), true);
  };
  router.get('/', page('landing', 'index.html'));
  router.get('/cluster', page('cluster', 'cluster.html'));
  router.get('/check', page('check', 'check.html'));
  router.get('/demo', (ctx) => {
    if (!pages.has('demo')) return;
    // A fresh room name, so "try the demo" never lands in somebody else's room by accident.
    ctx.redirect(`/demo/room-${randomBytes(4).toString('hex')}`);
  });
  router.get('/demo/:room', (ctx) => {
    if (!pages.has('demo') || !DEMO_ROOM_NAME.test(ctx.params.room!)) return;
    send(ctx, deps.assets.get('demo.html'), true);
  });
  router.get('/assets/:file', (ctx) => {
    const file = ctx.params.file!;
    if (!ASSET_NAME.test(file)) return;
    send(ctx, deps.assets.get(`assets/${file}`), false);
  });

  router.get('/pages-api/info', (ctx) => {
    ctx.set('cache-control', 'no-store');
    const disclose = deps.access.discloseNode;
    ctx.body = {
      ...deps.info,
      node: disclose ? deps.info.node : null,
      version: disclose ? deps.info.version : null,
      pages: [...pages].sort(),
      // Only the well-known development default, never a token the operator set (page-access.ts).
      prefillToken: deps.access.prefillDevelopmentToken ? DEVELOPMENT_TOKEN : null,
    };
  });

  if (deps.access.demoEndpoint) mountDemoEndpoint(router, deps);
}

/** GET /pages-api/cluster: the cluster view's data, on the router that checks the server token. */
export function mountClusterOverviewRoute(router: Router, overview: () => Promise<ClusterOverview>): void {
  router.get('/pages-api/cluster', async (ctx) => {
    ctx.set('cache-control', 'no-store');
    ctx.body = { data: await overview() };
  });
}

function mountDemoEndpoint(router: Router, deps: PagesDeps): void {
  const now = deps.now ?? Date.now;
  const limiter = new RateLimiter(deps.rateLimits ?? DEMO_RATE_LIMITS, now());
  router.post('/pages-api/demo/peer', async (ctx) => {
    // The body first: a malformed request costs a bounded read and a 400, and must not use up the client's tokens,
    // which stand for what the limit protects (rooms and peers made).
    const { roomId } = parseDemoPeerRequest(await readJsonObject(ctx, DEMO_BODY_LIMIT));
    // Keyed by the connection's address, not X-Forwarded-For, which any client can write.
    const decision = limiter.take(clientKey(ctx.req.socket.remoteAddress), now());
    if (!decision.ok) {
      ctx.set('retry-after', String(decision.retryAfterSeconds));
      throw new HttpError(429, 'Too many demo peers requested; try again shortly');
    }
    await ensureDemoRoom(deps.rooms, roomId);
    const created = await deps.rooms.addPeer(roomId, { type: 'webrtc', options: { enableSimulcast: false } });
    ctx.status = 201;
    ctx.set('cache-control', 'no-store');
    // The page connects its socket to this node (any node proxies peer sockets to the room's node), so only the
    // token is needed; the room id is shown to the user.
    ctx.body = { data: { roomId, peerId: created.peer.id, token: created.token } };
  });
}

/** Demo rooms alive at once (in the whole cluster, as GET /room lists them); past it no new one is made. */
export const MAX_DEMO_ROOMS = 100;

async function ensureDemoRoom(rooms: RoomService, roomId: string): Promise<void> {
  const existing = await rooms.getRoom(roomId).then(
    (room) => room,
    (error: unknown) => {
      if (error instanceof DomainError && error.code === 'room_not_found') return undefined;
      if (error instanceof HttpError && error.status === 404) return undefined;
      throw error;
    },
  );
  if (existing) {
    // The prefix alone proves nothing: an application may have made "demo-standup" through the REST API. Only a
    // room with exactly the demo's settings is one (the endpoint never mints peers into anything else).
    if (!isDemoConfig(existing.config)) throw new HttpError(409, `Room ${roomId} exists and is not a demo room`);
    return;
  }
  const demoRooms = (await rooms.listRooms()).filter((r) => r.id.startsWith(DEMO_ROOM_PREFIX) && isDemoConfig(r.config)).length;
  if (demoRooms >= MAX_DEMO_ROOMS) throw new HttpError(503, `${MAX_DEMO_ROOMS} demo rooms are open; join one of them or try later`);
  try {
    await rooms.createRoom({ roomId, ...DEMO_ROOM_OPTIONS });
  } catch (error) {
    // Two tabs opening the same new room at once: the other one created it.
    const taken = (error instanceof DomainError && error.code === 'room_already_exists') || (error instanceof HttpError && error.status === 400 && /already exists/.test(error.message));
    if (!taken) throw error;
  }
}

function isDemoConfig(config: RoomConfig): boolean {
  return (
    config.maxPeers === DEMO_ROOM_OPTIONS.maxPeers &&
    config.videoCodec === DEMO_ROOM_OPTIONS.videoCodec &&
    config.peerlessPurgeTimeout === DEMO_ROOM_OPTIONS.peerlessPurgeTimeout &&
    config.peerDisconnectedTimeout === DEMO_ROOM_OPTIONS.peerDisconnectedTimeout &&
    (config.webhookUrl ?? null) === null
  );
}

/** The rate limit's key: the address, or its /64 for IPv6 (one host usually has a whole /64 to pick from). */
export function clientKey(address: string | undefined): string {
  if (address === undefined) return 'unknown';
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (v4) return v4[1]!;
  if (!address.includes(':')) return address;
  const [head = '', tail = ''] = address.split('::');
  const groups = head.split(':').filter((g) => g !== '');
  const tailGroups = tail.split(':').filter((g) => g !== '');
  const full = [...groups, ...Array(Math.max(0, 8 - groups.length - tailGroups.length)).fill('0'), ...tailGroups];
  return `${full.slice(0, 4).map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

function send(ctx: Koa.Context, asset: StaticAsset | undefined, isPage: boolean): void {
  if (!asset) {
    if (isPage) throw new HttpError(503, 'The built-in pages are not built: run `npm run build`');
    return;
  }
  ctx.type = asset.contentType;
  ctx.body = asset.body;
  ctx.set('x-content-type-options', 'nosniff');
  ctx.set('referrer-policy', 'no-referrer');
  // Pages and assets are rebuilt with the server: revalidate rather than cache stale scripts.
  ctx.set('cache-control', 'no-cache');
  if (isPage) ctx.set('content-security-policy', CSP);
}
