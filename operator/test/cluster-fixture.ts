// Builders of FishjamCluster objects and lookups into reconcile output, shared by the tests.
import type { OperatorDefaults } from '../src/api/defaults.js';
import { API_VERSION, KIND, type FishjamCluster, type FishjamClusterSpec, type KubeObject } from '../src/api/types.js';
import { desired, type Desired, type Observed } from '../src/reconcile/desired.js';

export const operatorDefaults: OperatorDefaults = {
  image: 'ghcr.io/fishjam-ts/media-server:test',
  clusterDomain: 'cluster.local',
  operatorNamespace: 'fishjam-system',
  operatorPodLabels: { 'app.kubernetes.io/name': 'fishjam-operator' },
};

/** The test clusters' pod network (kind's default). */
export const POD_CIDRS = ['10.244.0.0/16'];

/**
 * A FishjamCluster. PodNetwork, the default mode, requires exposure.podCidrs: when the spec names no mode and no
 * pod network, POD_CIDRS is added so "the defaults" stay a valid cluster in tests; rawCluster adds nothing.
 */
export function makeCluster(spec: FishjamClusterSpec | undefined, name = 'media', namespace = 'live'): FishjamCluster {
  const needsCidrs = spec?.exposure?.mode === undefined && spec?.exposure?.podCidrs === undefined;
  return rawCluster(needsCidrs ? { ...spec, exposure: { ...spec?.exposure, podCidrs: [...POD_CIDRS] } } : spec, name, namespace);
}

export function rawCluster(spec: FishjamClusterSpec | undefined, name = 'media', namespace = 'live'): FishjamCluster {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name, namespace, uid: `uid-${name}`, generation: 3 },
    ...(spec ? { spec } : {}),
  };
}

export const NOW = new Date('2025-01-01T00:00:00Z');

export function observedNothing(overrides: Partial<Observed> = {}): Observed {
  return {
    statefulSetReplicas: undefined,
    nodes: [],
    scaleDown: undefined,
    now: NOW,
    randomSecret: (bytes) => `random-${bytes}`,
    ...overrides,
  };
}

export function reconcileSpec(spec: FishjamClusterSpec | undefined, observed: Partial<Observed> = {}): Desired {
  return desired(makeCluster(spec), observedNothing(observed), operatorDefaults);
}

export function find(d: Desired, kind: string, name: string): any {
  const obj = d.apply.find((o) => o.kind === kind && o.metadata.name === name);
  if (!obj) throw new Error(`no ${kind} ${name} in ${d.apply.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return obj;
}

export const kinds = (d: Desired, kind: string) => d.apply.filter((o: KubeObject) => o.kind === kind).map((o) => o.metadata.name);

export function podSpec(d: Desired): any {
  return find(d, 'StatefulSet', 'media').spec.template.spec;
}

export function container(d: Desired): any {
  return podSpec(d).containers[0];
}

/** The media container's env as name -> value, or name -> valueFrom for references. */
export function envOf(d: Desired): Record<string, unknown> {
  return Object.fromEntries(container(d).env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}
