// NetworkPolicies for pod-network modes. Once any policy selects a pod, ingress not allowed by one of them is
// dropped, so these four together are the pod's whole ingress allow-list. hostNetwork pods ignore policies.
// PodNetwork mode adds an egress policy: the TURN relays inside the pods may send UDP only to the media pods'
// WebRTC ports (and DNS), whatever else lives in the pod network.
import type { NetworkPolicyPeer } from '../api/types.js';
import type { KubeObject } from '../api/types.js';
import { meta, type BuildContext } from './build-context.js';
import { webrtcPorts } from './services.js';

const rule = (ports: object[], from: NetworkPolicyPeer[]) => ({ ports, ...(from.length > 0 ? { from } : {}) });

function policy(
  ctx: BuildContext,
  part: 'dist' | 'api' | 'media' | 'metrics',
  ports: object[],
  from: NetworkPolicyPeer[],
  extraRules: object[] = [],
): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: meta(ctx, ctx.names.policy(part)),
    spec: {
      podSelector: { matchLabels: ctx.selector },
      policyTypes: ['Ingress'],
      // An ingress rule without "from" admits every source.
      ingress: [rule(ports, from), ...extraRules],
    },
  };
}

export function operatorPeer(ctx: BuildContext): NetworkPolicyPeer {
  return {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ctx.operator.operatorNamespace } },
    podSelector: { matchLabels: ctx.operator.operatorPodLabels },
  };
}

export function networkPolicies(ctx: BuildContext): KubeObject[] {
  const { spec } = ctx;
  if (spec.exposure.mode === 'PodNetwork') return podNetworkPolicies(ctx);
  if (!spec.networkPolicy.enabled || spec.exposure.mode === 'HostNetwork') return [];
  const tcp = (port: number) => ({ protocol: 'TCP', port });
  const ownPods: NetworkPolicyPeer = { podSelector: { matchLabels: ctx.selector } };
  const rtc = webrtcPorts(ctx).flatMap((p) => [{ protocol: 'UDP', port: p }, tcp(p)]);
  // The operator calls /admin/drain and reads /metrics; a restricted allow-list must still let it in.
  const withOperator = (peers: NetworkPolicyPeer[]) => (peers.length > 0 ? [...peers, operatorPeer(ctx)] : []);
  return [
    policy(ctx, 'dist', [tcp(spec.dist.portMapperPort), tcp(spec.dist.port)], [ownPods]),
    // Nodes forward REST calls and proxy peer sockets to each other over the API port, so own pods always pass.
    policy(ctx, 'api', [tcp(spec.httpPort)], spec.networkPolicy.apiFrom.length > 0 ? [...withOperator(spec.networkPolicy.apiFrom), ownPods] : []),
    // Clients reach the TURN listener (Fishjam's web SDK only uses relay candidates) and, with other clients, the
    // WebRTC ports directly. The TURN relay sends to the node's announced WebRTC address from the pod itself; when
    // mediaFrom is restricted that traffic (which may come back through a load balancer) must still be let in.
    policy(
      ctx,
      'media',
      [{ protocol: 'UDP', port: spec.webrtc.turnPort }, tcp(spec.webrtc.turnPort), ...rtc],
      spec.networkPolicy.mediaFrom,
      spec.networkPolicy.mediaFrom.length > 0 ? [rule(rtc, [ownPods])] : [],
    ),
    policy(ctx, 'metrics', [tcp(spec.metrics.port)], withOperator(spec.networkPolicy.metricsFrom)),
  ];
}

/**
 * PodNetwork: clients reach only the TURN port (through the TURN Service); the WebRTC ports take the relays of the
 * cluster's own TURN servers, so only the media pods. Egress: the relays (and everything else in the pod) may send
 * UDP only to the media pods' WebRTC ports and to DNS; TCP anywhere (webhooks, the dist link, REST forwarding; TURN
 * makes no TCP relays).
 */
export function podNetworkPolicies(ctx: BuildContext): KubeObject[] {
  const { spec } = ctx;
  if (!spec.networkPolicy.enabled || spec.exposure.mode !== 'PodNetwork') return [];
  const tcp = (port: number) => ({ protocol: 'TCP', port });
  const ownPods: NetworkPolicyPeer = { podSelector: { matchLabels: ctx.selector } };
  const udpRtc = webrtcPorts(ctx).map((p) => ({ protocol: 'UDP', port: p }));
  const rtc = webrtcPorts(ctx).flatMap((p) => [{ protocol: 'UDP', port: p }, tcp(p)]);
  const withOperator = (peers: NetworkPolicyPeer[]) => (peers.length > 0 ? [...peers, operatorPeer(ctx)] : []);
  return [
    policy(ctx, 'dist', [tcp(spec.dist.portMapperPort), tcp(spec.dist.port)], [ownPods]),
    policy(ctx, 'api', [tcp(spec.httpPort)], spec.networkPolicy.apiFrom.length > 0 ? [...withOperator(spec.networkPolicy.apiFrom), ownPods] : []),
    policy(ctx, 'media', [{ protocol: 'UDP', port: spec.webrtc.turnPort }, tcp(spec.webrtc.turnPort)], spec.networkPolicy.mediaFrom, [rule(rtc, [ownPods])]),
    policy(ctx, 'metrics', [tcp(spec.metrics.port)], withOperator(spec.networkPolicy.metricsFrom)),
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta(ctx, ctx.names.policy('egress')),
      spec: {
        podSelector: { matchLabels: ctx.selector },
        policyTypes: ['Egress'],
        egress: [
          { to: [ownPods], ports: udpRtc },
          { ports: [{ protocol: 'UDP', port: 53 }, tcp(53)] },
          { ports: [{ protocol: 'TCP' }] },
        ],
      },
    },
  ];
}
