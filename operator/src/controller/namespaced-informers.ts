// One resource watched in several namespaces (watchNamespaces) as one cache: an informer per namespace, because
// with Roles per namespace the operator may not list or watch across all of them. `undefined` = all namespaces,
// one cluster-wide informer (the ClusterRole case).
import type { KubernetesObject, ObjectCache } from '@kubernetes/client-node';
import type { ResilientInformer } from './informer.js';

export function namespacedInformers<T extends KubernetesObject>(
  namespaces: readonly string[] | undefined,
  make: (namespace: string | undefined) => ResilientInformer<T>,
): ResilientInformer<T> {
  const byNamespace = new Map<string | undefined, ResilientInformer<T>>((namespaces ?? [undefined]).map((ns) => [ns, make(ns)]));
  if (byNamespace.size === 1) return [...byNamespace.values()][0]!;
  const all = [...byNamespace.values()];
  const cache: ObjectCache<T> = {
    get: (name, namespace) => (namespace === undefined ? undefined : byNamespace.get(namespace)?.cache.get(name, namespace)),
    list: (namespace) => (namespace === undefined ? all.flatMap((i) => [...i.cache.list()]) : [...(byNamespace.get(namespace)?.cache.list(namespace) ?? [])]),
  };
  return {
    cache,
    start: async () => {
      await Promise.all(all.map((i) => i.start()));
    },
    stop: async () => {
      await Promise.all(all.map((i) => i.stop()));
    },
    get lists() {
      return all.reduce((n, i) => n + i.lists, 0);
    },
    get silentRestarts() {
      return all.reduce((n, i) => n + i.silentRestarts, 0);
    },
  };
}
