// What every object builder needs, computed once per reconcile.
import type { OperatorDefaults, ResolvedSpec } from '../api/defaults.js';
import type { FishjamCluster, KubeObject, ObjectMeta, OwnerReference } from '../api/types.js';
import { commonLabels, objectNames, ownerReference, selectorLabels } from './names.js';

export interface BuildContext {
  name: string;
  namespace: string;
  spec: ResolvedSpec;
  operator: OperatorDefaults;
  owner: OwnerReference;
  labels: Record<string, string>;
  selector: Record<string, string>;
  names: ReturnType<typeof objectNames>;
}

export function buildContext(cluster: FishjamCluster, spec: ResolvedSpec, operator: OperatorDefaults): BuildContext {
  const name = cluster.metadata.name!;
  return {
    name,
    namespace: cluster.metadata.namespace!,
    spec,
    operator,
    owner: ownerReference(cluster),
    labels: commonLabels(name),
    selector: selectorLabels(name),
    names: objectNames(name),
  };
}

export function meta(ctx: BuildContext, name: string, extra: Partial<ObjectMeta> = {}): ObjectMeta {
  return {
    name,
    namespace: ctx.namespace,
    labels: { ...extra.labels, ...ctx.labels },
    ...(extra.annotations ? { annotations: extra.annotations } : {}),
    ownerReferences: [ctx.owner],
  };
}

export type Builder = (ctx: BuildContext) => KubeObject[];
