// The headless Service (DNS discovery of every pod, ready or not), the client Service (REST across ready pods),
// in ServicePerPod mode one Service per pod carrying its HTTP, TURN and WebRTC ports, and in PodNetwork mode one
// TURN Service for the whole cluster. The TURN relay ports (FJ_WEBRTC_TURN_PORT_RANGE) are never exposed: a relay
// only talks to the media pods.
import type { KubeObject } from '../api/types.js';
import { meta, type BuildContext } from './build-context.js';
import { COMPONENT_LABEL } from './names.js';

export function webrtcPorts(ctx: BuildContext): number[] {
  const { minPort, maxPort } = ctx.spec.webrtc;
  return Array.from({ length: maxPort - minPort + 1 }, (_, i) => minPort + i);
}

export function headlessService(ctx: BuildContext): KubeObject {
  const { spec } = ctx;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(ctx, ctx.names.headless, { labels: { [COMPONENT_LABEL]: 'discovery' } }),
    spec: {
      clusterIP: 'None',
      // Draining (not ready) nodes must stay discoverable: their rooms live on until they end.
      publishNotReadyAddresses: true,
      selector: ctx.selector,
      ports: [
        { name: 'dist', port: spec.dist.port, targetPort: spec.dist.port, protocol: 'TCP' },
        { name: 'port-mapper', port: spec.dist.portMapperPort, targetPort: spec.dist.portMapperPort, protocol: 'TCP' },
        { name: 'metrics', port: spec.metrics.port, targetPort: spec.metrics.port, protocol: 'TCP' },
      ],
    },
  };
}

export function clientService(ctx: BuildContext): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(ctx, ctx.names.client, { labels: { [COMPONENT_LABEL]: 'api' } }),
    spec: {
      type: 'ClusterIP',
      selector: ctx.selector,
      ports: [{ name: 'http', port: ctx.spec.httpPort, targetPort: ctx.spec.httpPort, protocol: 'TCP' }],
    },
  };
}

/**
 * PodNetwork: the cluster's one TURN entry, in front of every ready pod's TURN port (UDP and TCP; a mixed-protocol
 * LoadBalancer needs Kubernetes >= 1.26). Whichever pod it picks accepts the client's credentials (one shared secret)
 * and relays to the pod that holds the room (pod network allowed). Draining pods are not ready: new allocations
 * avoid them.
 */
export function turnService(ctx: BuildContext): KubeObject[] {
  const { exposure, webrtc } = ctx.spec;
  if (exposure.mode !== 'PodNetwork') return [];
  const lb = exposure.turn.serviceType === 'LoadBalancer';
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(ctx, ctx.names.turn, {
        labels: { [COMPONENT_LABEL]: 'turn' },
        ...(Object.keys(exposure.turn.annotations).length > 0 ? { annotations: exposure.turn.annotations } : {}),
      }),
      spec: {
        type: exposure.turn.serviceType,
        selector: ctx.selector,
        ports: [
          { name: 'turn-udp', port: webrtc.turnPort, targetPort: webrtc.turnPort, protocol: 'UDP' },
          { name: 'turn-tcp', port: webrtc.turnPort, targetPort: webrtc.turnPort, protocol: 'TCP' },
        ],
        ...(lb ? { externalTrafficPolicy: exposure.turn.externalTrafficPolicy } : {}),
        ...(lb && exposure.turn.loadBalancerClass ? { loadBalancerClass: exposure.turn.loadBalancerClass } : {}),
      },
    },
  ];
}

export function podServices(ctx: BuildContext, podCount: number): KubeObject[] {
  const { exposure, httpPort, webrtc } = ctx.spec;
  if (exposure.mode !== 'ServicePerPod') return [];
  const ports = [
    { name: 'http', port: httpPort, targetPort: httpPort, protocol: 'TCP' },
    { name: 'turn-udp', port: webrtc.turnPort, targetPort: webrtc.turnPort, protocol: 'UDP' },
    { name: 'turn-tcp', port: webrtc.turnPort, targetPort: webrtc.turnPort, protocol: 'TCP' },
    ...webrtcPorts(ctx).flatMap((p, i) => [
      { name: `rtc-udp-${i}`, port: p, targetPort: p, protocol: 'UDP' },
      { name: `rtc-tcp-${i}`, port: p, targetPort: p, protocol: 'TCP' },
    ]),
  ];
  const lb = exposure.serviceType === 'LoadBalancer';
  return Array.from({ length: podCount }, (_, ordinal) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(ctx, ctx.names.podService(ordinal), {
      labels: { [COMPONENT_LABEL]: 'pod-exposure' },
      ...(Object.keys(exposure.serviceAnnotations).length > 0 ? { annotations: exposure.serviceAnnotations } : {}),
    }),
    spec: {
      type: exposure.serviceType,
      selector: { ...ctx.selector, 'statefulset.kubernetes.io/pod-name': ctx.names.pod(ordinal) },
      ports,
      ...(lb ? { externalTrafficPolicy: exposure.externalTrafficPolicy } : {}),
      ...(lb && exposure.loadBalancerClass ? { loadBalancerClass: exposure.loadBalancerClass } : {}),
    },
  }));
}
