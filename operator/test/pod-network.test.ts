// PodNetwork, the default exposure mode: media pods on the pod network, one TURN Service as the cluster's TURN entry,
// one TURN secret shared by the pods, each pod's TURN server relaying only to the pod network; and the specs that
// mix modes or give a bad pod network, refused with a message naming the field.
import test from 'ava';
import { desired } from '../src/reconcile/desired.js';
import { checkPodSecurity } from '../src/reconcile/pod-security.js';
import { container, envOf, find, kinds, observedNothing, operatorDefaults, podSpec, rawCluster, reconcileSpec } from './cluster-fixture.js';

const POD = { podCidrs: ['10.244.0.0/16'] };
const OWN = { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'fishjam', 'app.kubernetes.io/instance': 'media' } } };

test('pods on the pod network announce their pod IP; clients are told the TURN entry; no host ports', (t) => {
  const d = reconcileSpec({ replicas: 3, workers: 2, exposure: POD });
  t.true(d.valid, JSON.stringify(d.conditions));
  const pod = podSpec(d);
  t.falsy(pod.hostNetwork);
  t.falsy(pod.dnsPolicy);
  t.true(container(d).ports.every((p: any) => p.hostPort === undefined));
  t.falsy(pod.affinity, 'several media pods per node');
  const env = envOf(d);
  t.is(env['FJ_WEBRTC_ANNOUNCED_IP'], '$(POD_IP)');
  t.is(env['FJ_WEBRTC_TURN_IP'], 'media-turn.$(POD_NAMESPACE).svc.cluster.local', 'default: the TURN Service in-cluster');
  t.is(env['FJ_WEBRTC_TURN_PORT'], '3478');
  t.deepEqual(env['FJ_WEBRTC_TURN_SECRET'], { secretKeyRef: { name: 'media-turn-secret', key: 'secret' } }, 'a Secret, never a literal');
  t.is(env['FJ_WEBRTC_TURN_ALLOWED_PEER_CIDRS'], '10.244.0.0/16');
  t.is(env['FJ_HOST'], 'media.$(POD_NAMESPACE).svc.cluster.local:8080', 'one HTTP entry: the client Service');
  const names = container(d).env.map((e: any) => e.name);
  t.true(names.indexOf('POD_NAMESPACE') < names.indexOf('FJ_WEBRTC_TURN_IP'), '$(POD_NAMESPACE) is declared first');
  t.true(names.indexOf('POD_IP') < names.indexOf('FJ_WEBRTC_ANNOUNCED_IP'));
  t.false(JSON.stringify(container(d)).includes('random-32'), 'no secret value in the pod spec');
  t.deepEqual(checkPodSecurity(pod, 'restricted'), [], 'PodSecurity restricted');
});

test('the TURN entry: one Service over every pod, TURN port in UDP and TCP, nothing else', (t) => {
  const d = reconcileSpec({
    exposure: { ...POD, turn: { address: 'turn.example.com', annotations: { 'lb.example/type': 'nlb' }, loadBalancerClass: 'lbc' } },
    webrtc: { turnPort: 3479 },
  });
  const svc = find(d, 'Service', 'media-turn');
  t.is(svc.spec.type, 'LoadBalancer');
  t.is(svc.spec.externalTrafficPolicy, 'Local');
  t.is(svc.spec.loadBalancerClass, 'lbc');
  t.is(svc.metadata.annotations['lb.example/type'], 'nlb');
  t.deepEqual(svc.spec.selector, OWN.podSelector.matchLabels, 'every pod, not one');
  t.deepEqual(svc.spec.ports, [
    { name: 'turn-udp', port: 3479, targetPort: 3479, protocol: 'UDP' },
    { name: 'turn-tcp', port: 3479, targetPort: 3479, protocol: 'TCP' },
  ]);
  t.deepEqual(svc.metadata.ownerReferences, [{ apiVersion: 'fishjam-ts.dev/v1alpha1', kind: 'FishjamCluster', name: 'media', uid: 'uid-media', controller: true, blockOwnerDeletion: true }]);
  t.is(envOf(d)['FJ_WEBRTC_TURN_IP'], 'turn.example.com');
  t.deepEqual(kinds(d, 'Service'), ['media-nodes', 'media', 'media-turn'], 'no per-pod Services');
  const inCluster = find(reconcileSpec({ exposure: { ...POD, turn: { serviceType: 'ClusterIP', externalTrafficPolicy: 'Cluster' } } }), 'Service', 'media-turn');
  t.is(inCluster.spec.type, 'ClusterIP');
  t.is(inCluster.spec.externalTrafficPolicy, undefined);
});

test('the shared TURN secret is generated once, owned by the cluster, and can be the user\'s own', (t) => {
  const d = reconcileSpec({ exposure: POD });
  const secret = d.createIfMissing.find((o) => o.metadata.name === 'media-turn-secret') as any;
  t.deepEqual(secret.stringData, { secret: 'random-32' });
  t.is(secret.type, 'Opaque');
  t.is(secret.metadata.ownerReferences[0].uid, 'uid-media');
  t.true(d.secrets.some((s) => s.name === 'media-turn-secret' && s.generated && s.field === 'spec.exposure.turn.secretRef'));
  const own = reconcileSpec({ exposure: { ...POD, turn: { secretRef: { name: 'my-turn', key: 'k' } } } });
  t.false(own.createIfMissing.some((o) => o.metadata.name === 'media-turn-secret'));
  t.deepEqual(envOf(own)['FJ_WEBRTC_TURN_SECRET'], { secretKeyRef: { name: 'my-turn', key: 'k' } });
  t.true(own.secrets.some((s) => s.name === 'my-turn' && !s.generated), 'checked like every referenced Secret');
  const host = reconcileSpec({ exposure: { mode: 'HostNetwork' } });
  t.false(host.createIfMissing.some((o) => o.metadata.name === 'media-turn-secret'), 'other modes keep a random secret per pod');
  t.is(envOf(host)['FJ_WEBRTC_TURN_SECRET'], undefined);
  t.is(envOf(host)['FJ_WEBRTC_TURN_ALLOWED_PEER_CIDRS'], undefined);
});

test('network policies: clients reach the TURN port only; WebRTC ports take the own pods\' relays; UDP egress only to them and DNS', (t) => {
  const d = reconcileSpec({ workers: 2, exposure: POD, networkPolicy: { mediaFrom: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }] } });
  t.deepEqual(kinds(d, 'NetworkPolicy'), ['media-dist', 'media-api', 'media-media', 'media-metrics', 'media-egress']);
  const media = find(d, 'NetworkPolicy', 'media-media');
  t.deepEqual(media.spec.ingress, [
    { ports: [{ protocol: 'UDP', port: 3478 }, { protocol: 'TCP', port: 3478 }], from: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }] },
    { ports: [{ protocol: 'UDP', port: 50000 }, { protocol: 'TCP', port: 50000 }, { protocol: 'UDP', port: 50001 }, { protocol: 'TCP', port: 50001 }], from: [OWN] },
  ]);
  const open = find(reconcileSpec({ exposure: POD }), 'NetworkPolicy', 'media-media');
  t.is(open.spec.ingress[0].from, undefined, 'TURN from anywhere by default');
  t.deepEqual(open.spec.ingress[1].from, [OWN], 'the WebRTC ports never from anywhere');
  const egress = find(d, 'NetworkPolicy', 'media-egress');
  t.deepEqual(egress.spec.policyTypes, ['Egress']);
  t.deepEqual(egress.spec.podSelector, OWN.podSelector);
  t.deepEqual(egress.spec.egress, [
    { to: [OWN], ports: [{ protocol: 'UDP', port: 50000 }, { protocol: 'UDP', port: 50001 }] },
    { ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }] },
    { ports: [{ protocol: 'TCP' }] },
  ]);
  t.like(d.conditions.find((c) => c.type === 'NetworkPolicyEnforced'), { status: 'True' });
  t.like(d.conditions.find((c) => c.type === 'PodSecurity'), { status: 'True', reason: 'Restricted' });
  const off = reconcileSpec({ exposure: POD, networkPolicy: { enabled: false } });
  t.deepEqual(kinds(off, 'NetworkPolicy'), []);
  t.like(off.conditions.find((c) => c.type === 'NetworkPolicyEnforced'), { status: 'False', reason: 'Disabled' });
});

test('an empty spec is PodNetwork without a pod network: SpecValid=False naming the field, nothing applied', (t) => {
  const d = desired(rawCluster(undefined), observedNothing(), operatorDefaults);
  t.false(d.valid);
  t.deepEqual(d.apply, []);
  t.deepEqual(d.createIfMissing, []);
  t.like(d.conditions[0], { type: 'SpecValid', status: 'False', reason: 'InvalidSpec' });
  t.regex(d.conditions[0]!.message, /spec\.exposure\.podCidrs is required with PodNetwork \(the default mode\)/);
});

const refused: [string, object, RegExp][] = [
  ['no pod network', { exposure: { mode: 'PodNetwork' } }, /spec\.exposure\.podCidrs is required with PodNetwork/],
  ['an empty pod network list', { exposure: { podCidrs: [] } }, /spec\.exposure\.podCidrs is required with PodNetwork/],
  ['a pod network without prefix', { exposure: { podCidrs: ['10.244.0.0'] } }, /spec\.exposure\.podCidrs\[0\] must match/],
  ['a pod network with bad octets', { exposure: { podCidrs: ['10.244.0.0/16', '300.1.0.0/16'] } }, /spec\.exposure\.podCidrs\[1\] "300\.1\.0\.0\/16" is not an IPv4 CIDR/],
  ['the whole address space', { exposure: { podCidrs: ['0.0.0.0/0'] } }, /spec\.exposure\.podCidrs\[0\] "0\.0\.0\.0\/0" is wider than a \/8/],
  ['host bits set', { exposure: { podCidrs: ['10.244.3.0/16'] } }, /has host bits set \(did you mean 10\.244\.0\.0\/16\?\)/],
  ['loopback', { exposure: { podCidrs: ['127.0.0.0/8'] } }, /is loopback/],
  ['cloud metadata', { exposure: { podCidrs: ['169.254.0.0/16'] } }, /covers link-local 169\.254\.0\.0\/16/],
  ['IPv6 (not yet)', { exposure: { podCidrs: ['fd00::/64'] } }, /spec\.exposure\.podCidrs\[0\] must match/],
  ['a TURN address with a port', { exposure: { ...POD, turn: { address: 'turn.example.com:3478' } } }, /spec\.exposure\.turn\.address must match/],
  ['a TURN address with a template', { exposure: { ...POD, turn: { address: '$(POD_IP)' } } }, /spec\.exposure\.turn\.address must match/],
  ['NodePort TURN (ports would differ from the announced one)', { exposure: { ...POD, turn: { serviceType: 'NodePort' } } }, /spec\.exposure\.turn\.serviceType must be one of LoadBalancer, ClusterIP/],
  ['an unknown TURN field', { exposure: { ...POD, turn: { port: 443 } } }, /spec\.exposure\.turn\.port is not a known field/],
  ['pod network with HostNetwork', { exposure: { mode: 'HostNetwork', ...POD } }, /spec\.exposure\.podCidrs is only used with PodNetwork, not HostNetwork/],
  ['a TURN entry with ServicePerPod', { exposure: { mode: 'ServicePerPod', hostTemplate: 'h', announcedAddressTemplate: 'a', turn: { address: 't.example.com' } } }, /spec\.exposure\.turn is only used with PodNetwork, not ServicePerPod/],
  ['an announced address with PodNetwork', { exposure: { ...POD, announcedAddressTemplate: '$(POD_NAME).rtc.example.com' } }, /spec\.exposure\.announcedAddressTemplate is only used with ServicePerPod; PodNetwork announces the pod IP/],
  ['per-pod Services with PodNetwork', { exposure: { ...POD, servicePerPod: { type: 'ClusterIP' } } }, /spec\.exposure\.servicePerPod is only used with ServicePerPod/],
  ['the shared secret through env', { exposure: POD, env: [{ name: 'FJ_WEBRTC_TURN_SECRET', value: 'x'.repeat(20) }] }, /spec\.env\[0\]\.name FJ_WEBRTC_TURN_SECRET is set by the operator/],
  ['the relay networks through env', { exposure: POD, env: [{ name: 'FJ_WEBRTC_TURN_ALLOWED_PEER_CIDRS', value: '0.0.0.0/0' }] }, /spec\.env\[0\]\.name FJ_WEBRTC_TURN_ALLOWED_PEER_CIDRS is set by the operator/],
  ['a bad TURN secret name', { exposure: { ...POD, turn: { secretRef: { name: 'Bad_Name' } } } }, /spec\.exposure\.turn\.secretRef\.name must match/],
];
for (const [what, spec, reason] of refused) {
  test(`refused: ${what}`, (t) => {
    const d = desired(rawCluster(spec as never), observedNothing(), operatorDefaults);
    t.false(d.valid);
    t.deepEqual(d.apply, []);
    t.like(d.conditions[0], { type: 'SpecValid', status: 'False', reason: 'InvalidSpec' });
    t.regex(d.conditions[0]!.message, reason);
  });
}
