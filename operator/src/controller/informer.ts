// A list+watch cache of one resource. client-node's ListWatch relists by itself when a watch ends with 410 Gone
// (an ERROR event or status); any other failure stops it, so this restarts it with backoff.
// Liveness: watches ask for bookmarks (the API server then sends one about every minute even when nothing changes)
// and a server-side timeout of 5-10 minutes (as client-go does); a watch that delivers nothing, not even a bookmark,
// for `silenceMs` is treated as silently dropped (a dead NAT entry, a half-open connection) and restarted from its
// last resourceVersion, instead of waiting ~11 minutes for TCP keepalive to notice.
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject, type ObjectCache } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { errorMessage } from './api-errors.js';
import { backoffDelay, type BackoffOptions } from './work-queue.js';

export interface InformerHandlers<T> {
  add?: (obj: T) => void;
  update?: (obj: T) => void;
  delete?: (obj: T) => void;
}

export interface ResilientInformer<T> {
  cache: ObjectCache<T>;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Number of list calls made: the first sync plus every relist (after 410 or a restart). */
  readonly lists: number;
  /** Watches restarted because they stayed silent past the limit. */
  readonly silentRestarts: number;
}

export const DEFAULT_WATCH_SILENCE_MS = 150_000;

/** Server-side watch timeout in seconds, spread over [5, 10) minutes so watches do not all reconnect at once. */
const serverTimeoutSeconds = () => 300 + Math.floor(Math.random() * 300);

type WatchCallback = (phase: string, apiObj: any, watchObj?: any) => void;
type DoneCallback = (err: any) => void;

/** A Watch whose streams carry bookmarks and end (done(null), so ListWatch resumes) after `silenceMs` of nothing. */
class LivenessWatch extends Watch {
  private readonly live = new Set<AbortController>();

  constructor(
    kc: KubeConfig,
    private readonly silenceMs: number,
    private readonly onSilent: () => void,
  ) {
    super(kc);
  }

  override async watch(path: string, queryParams: Record<string, any>, callback: WatchCallback, done: DoneCallback): Promise<AbortController> {
    let finished = false;
    let timer: NodeJS.Timeout | undefined;
    let inner: AbortController | undefined;
    const outer = new AbortController();
    this.live.add(outer);
    const end = () => {
      finished = true;
      clearTimeout(timer);
      inner?.abort();
      this.live.delete(outer);
    };
    const finish = (err: unknown) => {
      if (finished) return;
      end();
      done(err);
    };
    // ListWatch aborts what we return to stop or to replace a watch; that is no error to report.
    outer.signal.addEventListener('abort', end);
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (finished) return;
        this.onSilent();
        finish(null);
      }, this.silenceMs);
    };
    // Armed before the request: an API server that never even sends headers counts as silence too.
    arm();
    const params = { ...queryParams, allowWatchBookmarks: true, timeoutSeconds: serverTimeoutSeconds() };
    inner = await super.watch(
      path,
      params,
      (phase, obj, raw) => {
        if (finished) return;
        arm();
        callback(phase, obj, raw);
      },
      finish,
    );
    if (finished) inner.abort();
    return outer;
  }

  /** Ends every stream this watch opened (a replaced request may still be pending when the informer stops). */
  abortAll(): void {
    for (const c of [...this.live]) c.abort();
  }
}

export function resilientInformer<T extends KubernetesObject>(
  kc: KubeConfig,
  path: string,
  list: () => Promise<KubernetesListObject<T>>,
  handlers: InformerHandlers<T>,
  opts: {
    labelSelector?: string;
    backoff: BackoffOptions;
    log: Logger;
    onError?: (err: unknown) => void;
    silenceMs?: number;
    onSilent?: () => void;
  },
): ResilientInformer<T> {
  let lists = 0;
  let failures = 0;
  let silentRestarts = 0;
  let stopped = false;
  let restartTimer: NodeJS.Timeout | undefined;
  const counted = async () => {
    lists++;
    const result = await list();
    // A successful list means the connection is healthy again.
    failures = 0;
    return result;
  };
  const watch = new LivenessWatch(kc, opts.silenceMs ?? DEFAULT_WATCH_SILENCE_MS, () => {
    silentRestarts++;
    opts.log.warn({ path, silentForMs: opts.silenceMs ?? DEFAULT_WATCH_SILENCE_MS }, 'watch silent past its limit; restarting it');
    opts.onSilent?.();
  });
  const informer = new ListWatch<T>(path, watch, counted, false, opts.labelSelector);
  if (handlers.add) informer.on('add', handlers.add);
  if (handlers.update) informer.on('update', handlers.update);
  if (handlers.delete) informer.on('delete', handlers.delete);
  informer.on('error', (err: unknown) => {
    if (stopped) return;
    failures++;
    const delay = backoffDelay(failures, opts.backoff);
    opts.log.warn({ path, err: errorMessage(err), retryInMs: delay }, 'watch failed; restarting');
    opts.onError?.(err);
    if (restartTimer) clearTimeout(restartTimer);
    restartTimer = setTimeout(() => {
      if (!stopped) void informer.start();
    }, delay);
  });
  return {
    cache: informer,
    start: () => {
      stopped = false;
      return informer.start();
    },
    async stop() {
      stopped = true;
      if (restartTimer) clearTimeout(restartTimer);
      await informer.stop();
      watch.abortAll();
    },
    get lists() {
      return lists;
    },
    get silentRestarts() {
      return silentRestarts;
    },
  };
}
