// A list+watch cache of one resource. client-node's ListWatch relists by itself when a watch ends with 410 Gone
// (an ERROR event or status); any other failure stops it, so this restarts it with backoff.
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
}

export function resilientInformer<T extends KubernetesObject>(
  kc: KubeConfig,
  path: string,
  list: () => Promise<KubernetesListObject<T>>,
  handlers: InformerHandlers<T>,
  opts: { labelSelector?: string; backoff: BackoffOptions; log: Logger; onError?: (err: unknown) => void },
): ResilientInformer<T> {
  let lists = 0;
  let failures = 0;
  let stopped = false;
  let restartTimer: NodeJS.Timeout | undefined;
  const counted = async () => {
    lists++;
    const result = await list();
    // A successful list means the connection is healthy again.
    failures = 0;
    return result;
  };
  const informer = new ListWatch<T>(path, new Watch(kc), counted, false, opts.labelSelector);
  if (handlers.add) informer.on('add', handlers.add);
  if (handlers.update) informer.on('update', handlers.update);
  if (handlers.delete) informer.on('delete', handlers.delete);
  informer.on('error', (err: unknown) => {
    if (stopped) return;
    failures++;
    const delay = backoffDelay(failures, opts.backoff);
    opts.log.warn({ path, err: errorMessage(err), retryInMs: delay }, 'watch failed; restarting');
    opts.onError?.(err);
    restartTimer = setTimeout(() => {
      if (!stopped) void informer.start();
    }, delay);
  });
  return {
    cache: informer,
    start: () => informer.start(),
    async stop() {
      stopped = true;
      if (restartTimer) clearTimeout(restartTimer);
      await informer.stop();
    },
    get lists() {
      return lists;
    },
  };
}
