// reconcile: (FishjamCluster, observed state) -> the objects that should exist and the conditions to report.
// Pure: no API calls, no clock, no randomness of its own; the controller applies the result.
import { resolveSpec, type OperatorDefaults } from '../api/defaults.js';
import type { FishjamCluster, KubeObject, NodeStatus, ScaleDownState } from '../api/types.js';
import { describeErrors, validateSpec } from '../api/validate.js';
import { buildContext } from './build-context.js';
import type { ConditionInput } from './conditions.js';
import { podDisruptionBudget } from './disruption-budget.js';
import { HASH_ANNOTATION, MAX_CLUSTER_NAME } from './names.js';
import { networkPolicies } from './network-policies.js';
import { checkPodSecurity, podSecurityLevel } from './pod-security.js';
import { planScale, type ScalePlan } from './scale-down.js';
import { referencedSecrets, type SecretReference } from './secret-access.js';
import { generatedSecrets } from './secrets.js';
import { serviceMonitor } from './service-monitor.js';
import { clientService, headlessService, podServices, turnService } from './services.js';
import { specHash } from './spec-hash.js';
import { statefulSet } from './statefulset.js';

export interface Observed {
  /** spec.replicas of the StatefulSet as last applied or seen; undefined if it does not exist. */
  statefulSetReplicas: number | undefined;
  /** Per-node view from the last status refresh (ready, draining, rooms). */
  nodes: readonly NodeStatus[];
  scaleDown: ScaleDownState | undefined;
  now: Date;
  randomSecret: (bytes: number) => string;
}

export interface Desired {
  valid: boolean;
  /** Server-side applied on every change; everything else of the cluster's kinds with its label is pruned. */
  apply: KubeObject[];
  /** Created when missing, never updated (generated secrets must not rotate). */
  createIfMissing: KubeObject[];
  /** Secrets the pods or the operator read; the controller checks each may be used (secret-access.ts). */
  secrets: SecretReference[];
  conditions: ConditionInput[];
  scaleDown: ScaleDownState | undefined;
  drainOrdinal: number | undefined;
  requeueAfterMs: number | undefined;
  /** A drain that ended in this pass (the StatefulSet shrinks past it). */
  drainFinished?: ScalePlan['finished'];
}

/** What the PodSecurity admission would say about the media pods: which level they meet, and what breaks the next. */
function podSecurityCondition(sts: KubeObject | undefined): ConditionInput {
  const template = (sts?.['spec'] as { template?: { metadata?: { annotations?: Record<string, string> }; spec?: Record<string, unknown> } })?.template;
  const podSpec = template?.spec ?? {};
  const level = podSecurityLevel(podSpec, template?.metadata?.annotations ?? {});
  if (level === 'restricted') return { type: CONDITION.podSecurity, status: 'True', reason: 'Restricted', message: 'media pods meet PodSecurity restricted' };
  const broken = checkPodSecurity(podSpec, level === 'baseline' ? 'restricted' : 'baseline', template?.metadata?.annotations ?? {});
  const controls = [...new Set(broken.map((b) => b.control))].join(', ');
  return {
    type: CONDITION.podSecurity,
    status: 'False',
    reason: level === 'baseline' ? 'Baseline' : 'Privileged',
    message: `media pods meet PodSecurity ${level}; ${level === 'baseline' ? 'restricted' : 'baseline'} is broken by: ${controls}${podSpec['hostNetwork'] === true ? ' (exposure.mode HostNetwork)' : ''}`,
  };
}

const find = (kind: string, objects: readonly KubeObject[]) => objects.find((o) => o.kind === kind);

export const CONDITION = {
  valid: 'SpecValid',
  reconciled: 'Reconciled',
  ready: 'Ready',
  networkPolicy: 'NetworkPolicyEnforced',
  scalingDown: 'ScalingDown',
  podSecurity: 'PodSecurity',
} as const;

function invalid(message: string): Desired {
  return {
    valid: false,
    apply: [],
    createIfMissing: [],
    secrets: [],
    conditions: [{ type: CONDITION.valid, status: 'False', reason: 'InvalidSpec', message }],
    scaleDown: undefined,
    drainOrdinal: undefined,
    requeueAfterMs: undefined,
  };
}

function withHash(obj: KubeObject): KubeObject {
  const hash = specHash(obj);
  return { ...obj, metadata: { ...obj.metadata, annotations: { ...obj.metadata.annotations, [HASH_ANNOTATION]: hash } } };
}

export function desired(cluster: FishjamCluster, observed: Observed, operator: OperatorDefaults): Desired {
  const name = cluster.metadata.name ?? '';
  if (name.length > MAX_CLUSTER_NAME) {
    return invalid(`metadata.name must be at most ${MAX_CLUSTER_NAME} characters (pod and Service names derive from it)`);
  }
  const errors = validateSpec(cluster.spec);
  if (errors.length > 0) return invalid(describeErrors(errors));

  const spec = resolveSpec(name, cluster.spec ?? {}, operator);
  const ctx = buildContext(cluster, spec, operator);
  const plan = planScale({
    desiredReplicas: spec.replicas,
    currentReplicas: observed.statefulSetReplicas,
    scaleDown: observed.scaleDown,
    nodes: observed.nodes,
    drainTimeoutSeconds: spec.drainTimeoutSeconds,
    now: observed.now,
  });

  const apply = [
    headlessService(ctx),
    clientService(ctx),
    // A pod being drained keeps its Service until the StatefulSet lets it go.
    ...podServices(ctx, plan.statefulSetReplicas),
    ...turnService(ctx),
    statefulSet(ctx, plan.statefulSetReplicas),
    ...networkPolicies(ctx),
    ...podDisruptionBudget(ctx),
    ...serviceMonitor(ctx),
  ].map(withHash);

  const conditions: ConditionInput[] = [{ type: CONDITION.valid, status: 'True', reason: 'Valid', message: 'spec is valid' }];
  if (spec.exposure.mode === 'HostNetwork') {
    conditions.push({
      type: CONDITION.networkPolicy,
      status: 'False',
      reason: 'HostNetwork',
      message: 'NetworkPolicies do not apply to hostNetwork pods; restrict access with node firewall rules',
    });
  } else if (!spec.networkPolicy.enabled) {
    conditions.push({ type: CONDITION.networkPolicy, status: 'False', reason: 'Disabled', message: 'spec.networkPolicy.enabled is false' });
  } else {
    conditions.push({
      type: CONDITION.networkPolicy,
      status: 'True',
      reason: 'PoliciesApplied',
      message:
        spec.exposure.mode === 'PodNetwork'
          ? 'ingress limited to the configured peers; WebRTC ports and UDP egress only between the media pods'
          : 'ingress limited to the configured peers',
    });
  }
  conditions.push(podSecurityCondition(find('StatefulSet', apply)));
  conditions.push(
    plan.scaleDown
      ? {
          type: CONDITION.scalingDown,
          status: 'True',
          reason: 'DrainingNode',
          message: `draining ${ctx.names.pod(plan.scaleDown.ordinal)} before removing it (since ${plan.scaleDown.startedAt})`,
        }
      : { type: CONDITION.scalingDown, status: 'False', reason: 'Idle', message: 'no scale-down in progress' },
  );

  return {
    valid: true,
    apply,
    createIfMissing: generatedSecrets(ctx, observed.randomSecret),
    secrets: referencedSecrets(spec),
    conditions,
    scaleDown: plan.scaleDown,
    drainOrdinal: plan.drainOrdinal,
    requeueAfterMs: plan.requeueAfterMs,
    ...(plan.finished ? { drainFinished: plan.finished } : {}),
  };
}
