// The operator's whole vocabulary of API calls, on @kubernetes/client-node. Writes of owned objects are
// server-side applies under one field manager, with force: the operator is the sole owner of what it renders.
import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type CoreV1Event,
  type V1Lease,
  type V1Pod,
  type V1StatefulSet,
} from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type FishjamCluster, type FishjamClusterStatus, type KubeObject, type ObjectMeta } from '../api/types.js';
import { errorCode } from './api-errors.js';
import { withDeadlines } from './deadline.js';

export const FIELD_MANAGER = 'fishjam-operator';

export interface KubeApi {
  /** List functions of the informers; namespace undefined = all namespaces. */
  listClusters(namespace: string | undefined): Promise<KubernetesListObject<FishjamCluster & KubernetesObject>>;
  listStatefulSets(namespace: string | undefined, labelSelector: string): Promise<KubernetesListObject<V1StatefulSet>>;
  listPods(namespace: string | undefined, labelSelector: string): Promise<KubernetesListObject<V1Pod>>;
  apply(obj: KubeObject): Promise<KubeObject>;
  createIfMissing(obj: KubeObject): Promise<boolean>;
  listOwned(apiVersion: string, kind: string, namespace: string, labelSelector: string): Promise<KubeObject[]>;
  delete(apiVersion: string, kind: string, namespace: string, name: string): Promise<void>;
  applyClusterStatus(namespace: string, name: string, status: FishjamClusterStatus): Promise<void>;
  /** One Secret by name (never list/watch: the operator may not read Secrets wholesale); undefined when absent. */
  readSecret(namespace: string, name: string): Promise<SecretData | undefined>;
  createEvent(namespace: string, event: CoreV1Event): Promise<void>;
  readLease(namespace: string, name: string): Promise<V1Lease | undefined>;
  createLease(namespace: string, lease: V1Lease): Promise<V1Lease>;
  replaceLease(namespace: string, name: string, lease: V1Lease): Promise<V1Lease>;
}

export interface SecretData {
  metadata: ObjectMeta;
  /** Decoded values by key. */
  data: Record<string, string>;
}

/** Default deadline of one API call (lists of large namespaces included). */
export const DEFAULT_API_TIMEOUT_MS = 10_000;

export function kubeApi(kc: KubeConfig, timeoutMs: number = DEFAULT_API_TIMEOUT_MS): KubeApi {
  return withDeadlines(rawKubeApi(kc), timeoutMs);
}

/**
 * KubernetesObjectApi sends objects through client-node's typed model serializer, which writes only the fields its
 * TypeScript models know under their TypeScript names: a NetworkPolicy ingress rule's `from` (the model calls it
 * `_from`) was silently dropped, so every applied policy admitted everyone, and fields newer than the models would go
 * too. Treating every object as a plain KubernetesObject sends exactly what reconcile built (and reads answers as
 * they come). test/render.test.ts compares what reaches the API server with the rendered objects, field by field.
 */
class PlainObjectApi extends KubernetesObjectApi {
  protected override async getSerializationType(): Promise<string> {
    return 'KubernetesObject';
  }

  static forConfig(kc: KubeConfig): PlainObjectApi {
    const api = kc.makeApiClient(PlainObjectApi);
    api.setDefaultNamespace(kc);
    return api;
  }
}

function rawKubeApi(kc: KubeConfig): KubeApi {
  const objects = PlainObjectApi.forConfig(kc);
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const coordination = kc.makeApiClient(CoordinationV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const ignore404 = <T>(p: Promise<T>): Promise<T | undefined> =>
    p.catch((err: unknown) => {
      if (errorCode(err) === 404) return undefined;
      throw err;
    });

  return {
    async listClusters(namespace) {
      const list: unknown = namespace
        ? await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL })
        : await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL });
      return list as KubernetesListObject<FishjamCluster & KubernetesObject>;
    },
    listStatefulSets: (namespace, labelSelector) =>
      namespace ? apps.listNamespacedStatefulSet({ namespace, labelSelector }) : apps.listStatefulSetForAllNamespaces({ labelSelector }),
    listPods: (namespace, labelSelector) =>
      namespace ? core.listNamespacedPod({ namespace, labelSelector }) : core.listPodForAllNamespaces({ labelSelector }),
    async apply(obj) {
      const result = await objects.patch(obj as KubernetesObject, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
      return result as unknown as KubeObject;
    },
    async createIfMissing(obj) {
      const exists = await ignore404(objects.read({ apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name: obj.metadata.name!, namespace: obj.metadata.namespace! } }));
      if (exists) return false;
      try {
        await objects.create(obj as KubernetesObject, undefined, undefined, FIELD_MANAGER);
        return true;
      } catch (err) {
        if (errorCode(err) === 409) return false;
        throw err;
      }
    },
    async listOwned(apiVersion, kind, namespace, labelSelector) {
      const list = await objects.list(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector);
      return list.items as unknown as KubeObject[];
    },
    async delete(apiVersion, kind, namespace, name) {
      await ignore404(objects.delete({ apiVersion, kind, metadata: { name, namespace } }, undefined, undefined, undefined, undefined, 'Background'));
    },
    async applyClusterStatus(namespace, name, status) {
      await custom.patchNamespacedCustomObjectStatus(
        {
          group: GROUP,
          version: VERSION,
          namespace,
          plural: PLURAL,
          name,
          body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'FishjamCluster', metadata: { name, namespace }, status },
          fieldManager: FIELD_MANAGER,
          force: true,
        },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      );
    },
    async readSecret(namespace, name) {
      const secret = await ignore404(core.readNamespacedSecret({ namespace, name }));
      if (!secret) return undefined;
      const data = Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
      return { metadata: secret.metadata as ObjectMeta, data };
    },
    async createEvent(namespace, event) {
      await core.createNamespacedEvent({ namespace, body: event });
    },
    readLease: (namespace, name) => ignore404(coordination.readNamespacedLease({ namespace, name })),
    createLease: (namespace, lease) => coordination.createNamespacedLease({ namespace, body: lease }),
    replaceLease: (namespace, name, lease) => coordination.replaceNamespacedLease({ namespace, name, body: lease }),
  };
}
