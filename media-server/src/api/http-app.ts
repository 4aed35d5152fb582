// The koa application: CORS, request metrics, one error shape, public probes, then Bearer auth for everything else.
import cors from '@koa/cors';
import Router from '@koa/router';
import Koa from 'koa';
import type { Logger } from 'pino';
import type { RoomService } from '../rooms/room-service.js';
import { bearerAuth } from './auth.js';
import { errorHandling } from './error-handling.js';
import { refusedBodyLingering } from './json-body.js';
import { mountAdminRoutes } from './routes/admin-routes.js';
import { mountHealthRoute, mountProbeRoutes, type HealthSource } from './routes/health-routes.js';
import { mountOpenApiRoute } from './routes/openapi-route.js';
import { mountComponentRoutes } from './routes/component-routes.js';
import { mountHlsRoutes, type HlsContentSource, type RemoteHls } from './routes/hls-routes.js';
import { mountRecordingContentRoute, mountRecordingRoutes, type RemoteRecordings } from './routes/recording-routes.js';
import type { Recordings } from '../components/recordings.js';
import { mountRoomRoutes } from './routes/room-routes.js';
import { mountClusterOverviewRoute, mountPageRoutes, type PagesDeps } from '../pages/page-routes.js';

export interface RequestObservation {
  method: string;
  route: string;
  status: number;
  seconds: number;
  requestBytes: number;
  responseBytes: number;
}

export interface HttpAppDeps {
  readonly serverApiToken: string;
  readonly logger: Logger;
  readonly rooms: RoomService;
  readonly health: HealthSource;
  readonly startDrain: () => void;
  readonly drainStatus: () => { status: string; rooms: number };
  readonly observeRequest?: (o: RequestObservation) => void;
  /** the built-in pages (/, /demo, /cluster, /check; pages/) */
  readonly pages?: PagesDeps;
  /** the folders of live HLS components, for GET /hls (no auth, as the original) */
  readonly hls?: HlsContentSource;
  /** what persistent HLS components left, for /recording */
  readonly recordings?: Recordings;
  /** in a cluster: /hls and /recording of rooms and recordings held by the other nodes */
  readonly remoteFiles?: RemoteHls & RemoteRecordings;
}

export function createHttpApp(deps: HttpAppDeps): Koa {
  const app = new Koa();
  app.proxy = true;
  // What reaches koa's own error event: a connection failing after the response began (a client that hangs up while
  // a refused body is being discarded, say) is routine; anything else is a bug. Logged with the node's logger, not
  // koa's console.error.
  app.on('error', (error: Error & { headerSent?: boolean; code?: string }) => {
    if (error.headerSent) deps.logger.debug({ err: error.message, code: error.code }, 'HTTP connection failed after the response began');
    else deps.logger.error({ err: error }, 'HTTP request failed outside the error handling');
  });
  app.use(cors({ origin: '*', allowHeaders: ['authorization', 'content-type'], maxAge: 3600 }));
  if (deps.observeRequest) app.use(requestMetrics(deps.observeRequest));
  app.use(refusedBodyLingering()); // outside the error handling: it sends the 413 of a too-large body
  app.use(errorHandling(deps.logger));

  const open = new Router();
  mountProbeRoutes(open, deps.health);
  mountOpenApiRoute(open, deps.health.version);
  if (deps.pages) mountPageRoutes(open, deps.pages);
  if (deps.hls) mountHlsRoutes(open, deps.hls, deps.remoteFiles);
  if (deps.recordings) mountRecordingContentRoute(open, deps.recordings, deps.remoteFiles);
  app.use(open.routes());

  const api = new Router();
  api.use(bearerAuth(deps.serverApiToken));
  mountHealthRoute(api, deps.health);
  mountRoomRoutes(api, deps.rooms);
  mountComponentRoutes(api, deps.rooms);
  if (deps.recordings) mountRecordingRoutes(api, deps.recordings, deps.remoteFiles);
  mountAdminRoutes(api, deps.startDrain, deps.drainStatus);
  if (deps.pages) mountClusterOverviewRoute(api, deps.pages.overview);
  app.use(api.routes());
  app.use(api.allowedMethods());
  return app;
}

function requestMetrics(observe: (o: RequestObservation) => void): Koa.Middleware {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = (ctx as unknown as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      observe({
        method: ctx.method,
        route: String(route),
        status: ctx.status,
        seconds,
        requestBytes: Number(ctx.get('content-length') || 0),
        responseBytes: ctx.length ?? 0,
      });
    }
  };
}
