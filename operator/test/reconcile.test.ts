import test from 'ava';
import { desired } from '../src/reconcile/desired.js';
import { HASH_ANNOTATION } from '../src/reconcile/names.js';
import {
  container,
  deepFreeze,
  envOf,
  find,
  kinds,
  makeCluster,
  observedNothing,
  operatorDefaults,
  podSpec,
  reconcileSpec,
} from './cluster-fixture.js';

const perPod = {
  exposure: {
    mode: 'ServicePerPod' as const,
    hostTemplate: '$(POD_NAME).media.example.com:443',
    announcedAddressTemplate: '$(POD_NAME).rtc.example.com',
  },
};

test('the defaults (PodNetwork with its pod network) give the full default set of objects', (t) => {
  const d = reconcileSpec(undefined);
  t.true(d.valid);
  t.deepEqual(
    d.apply.map((o) => `${o.kind}/${o.metadata.name}`),
    [
      'Service/media-nodes', 'Service/media', 'Service/media-turn', 'StatefulSet/media',
      'NetworkPolicy/media-dist', 'NetworkPolicy/media-api', 'NetworkPolicy/media-media', 'NetworkPolicy/media-metrics', 'NetworkPolicy/media-egress',
      'PodDisruptionBudget/media',
    ],
  );
  t.deepEqual(
    d.createIfMissing.map((o) => `${o.kind}/${o.metadata.name}`),
    ['Secret/media-api-token', 'Secret/media-dist-cookie', 'Secret/media-secret-key-base', 'Secret/media-turn-secret'],
  );
  const sts = find(d, 'StatefulSet', 'media');
  t.is(sts.spec.replicas, 1);
  t.is(sts.spec.serviceName, 'media-nodes');
  t.is(container(d).image, operatorDefaults.image);
});

test('every object carries the owner reference and the cluster labels', (t) => {
  const d = reconcileSpec({ ...perPod, replicas: 2, metrics: { serviceMonitor: { enabled: true } } });
  for (const obj of [...d.apply, ...d.createIfMissing]) {
    t.deepEqual(obj.metadata.ownerReferences, [
      { apiVersion: 'fishjam-ts.dev/v1alpha1', kind: 'FishjamCluster', name: 'media', uid: 'uid-media', controller: true, blockOwnerDeletion: true },
    ]);
    t.is(obj.metadata.namespace, 'live');
    t.is(obj.metadata.labels?.['fishjam-ts.dev/cluster'], 'media');
    t.is(obj.metadata.labels?.['app.kubernetes.io/managed-by'], 'fishjam-operator');
  }
});

test('reconcile does not write into the cluster object and is deterministic', (t) => {
  const cluster = deepFreeze(makeCluster({ ...perPod, replicas: 2, affinity: { nodeAffinity: {} }, env: [{ name: 'X', value: '1' }] }));
  const a = desired(cluster, observedNothing(), operatorDefaults);
  const b = desired(cluster, observedNothing(), operatorDefaults);
  t.deepEqual(a, b);
  t.truthy(find(a, 'StatefulSet', 'media').metadata.annotations[HASH_ANNOTATION]);
});

test('the spec hash changes with the desired content only', (t) => {
  const hash = (replicas: number) => find(reconcileSpec({ replicas }), 'StatefulSet', 'media').metadata.annotations[HASH_ANNOTATION];
  t.is(hash(2), hash(2));
  t.not(hash(2), hash(3));
});

test('headless Service publishes not-ready pods and carries dist, port mapper and metrics ports', (t) => {
  const svc = find(reconcileSpec({ dist: { port: 9100, portMapperPort: 4370 }, metrics: { port: 9600 } }), 'Service', 'media-nodes');
  t.is(svc.spec.clusterIP, 'None');
  t.true(svc.spec.publishNotReadyAddresses);
  t.deepEqual(svc.spec.selector, { 'app.kubernetes.io/name': 'fishjam', 'app.kubernetes.io/instance': 'media' });
  t.deepEqual(svc.spec.ports.map((p: any) => [p.name, p.port]), [['dist', 9100], ['port-mapper', 4370], ['metrics', 9600]]);
});

test('client Service exposes the REST port', (t) => {
  const svc = find(reconcileSpec({ httpPort: 5002 }), 'Service', 'media');
  t.is(svc.spec.type, 'ClusterIP');
  t.deepEqual(svc.spec.ports, [{ name: 'http', port: 5002, targetPort: 5002, protocol: 'TCP' }]);
});

test('pods get the dist, mode and identity environment', (t) => {
  const env = envOf(reconcileSpec({ replicas: 3 }));
  t.is(env['FJ_MODE'], 'production');
  t.is(env['FJ_DIST_ENABLED'], 'true');
  t.is(env['FJ_DIST_STRATEGY_NAME'], 'DNS');
  t.is(env['FJ_DIST_MODE'], 'name');
  t.is(env['FJ_DIST_NODE_NAME'], 'fishjam@$(POD_IP)');
  t.is(env['FJ_DIST_QUERY'], 'media-nodes.live.svc.cluster.local');
  t.is(env['FJ_DIST_MIN_PORT'], '9000');
  t.is(env['FJ_DIST_MAX_PORT'], '9000');
  t.deepEqual(env['POD_IP'], { fieldRef: { fieldPath: 'status.podIP' } });
  t.deepEqual(env['POD_NAME'], { fieldRef: { fieldPath: 'metadata.name' } });
  t.deepEqual(env['HOST_IP'], { fieldRef: { fieldPath: 'status.hostIP' } });
  t.is(env['FJ_PORT'], '8080');
  t.is(env['FJ_METRICS_PORT'], '9568');
  t.is(env['FJ_METRICS_IP'], '0.0.0.0');
  // $(VAR) is only expanded for variables declared before it.
  const names = container(reconcileSpec({})).env.map((e: any) => e.name);
  t.true(names.indexOf('POD_IP') < names.indexOf('FJ_DIST_NODE_NAME'));
  t.true(names.indexOf('HOST_IP') < names.indexOf('FJ_HOST'));
});

test('generated secrets are referenced and created once with random content', (t) => {
  const d = reconcileSpec({});
  const env = envOf(d);
  t.deepEqual(env['FJ_SERVER_API_TOKEN'], { secretKeyRef: { name: 'media-api-token', key: 'token' } });
  t.deepEqual(env['FJ_DIST_COOKIE'], { secretKeyRef: { name: 'media-dist-cookie', key: 'cookie' } });
  t.deepEqual(env['FJ_SECRET_KEY_BASE'], { secretKeyRef: { name: 'media-secret-key-base', key: 'secretKeyBase' } });
  t.deepEqual((d.createIfMissing[0] as any).stringData, { token: 'random-32' });
  t.deepEqual((d.createIfMissing[2] as any).stringData, { secretKeyBase: 'random-64' });
});

test('user secret refs replace generated secrets', (t) => {
  const d = reconcileSpec({
    apiTokenSecretRef: { name: 'my-token' },
    secretKeyBaseSecretRef: { name: 'kb', key: 'base' },
    dist: { cookieSecretRef: { name: 'cookie', key: 'c' } },
    exposure: { podCidrs: ['10.244.0.0/16'], turn: { secretRef: { name: 'turn' } } },
  });
  const env = envOf(d);
  t.deepEqual(env['FJ_WEBRTC_TURN_SECRET'], { secretKeyRef: { name: 'turn', key: 'secret' } });
  t.deepEqual(env['FJ_SERVER_API_TOKEN'], { secretKeyRef: { name: 'my-token', key: 'token' } });
  t.deepEqual(env['FJ_SECRET_KEY_BASE'], { secretKeyRef: { name: 'kb', key: 'base' } });
  t.deepEqual(env['FJ_DIST_COOKIE'], { secretKeyRef: { name: 'cookie', key: 'c' } });
  t.deepEqual(d.createIfMissing, []);
});

test('image, pull policy, pull secrets and resources reach the pod', (t) => {
  const d = reconcileSpec({
    image: 'registry.example/fj:1',
    imagePullPolicy: 'Always',
    imagePullSecrets: [{ name: 'regcred' }],
    resources: { requests: { cpu: '2', memory: '1Gi' }, limits: { cpu: '4', memory: '2Gi' } },
  });
  t.is(container(d).image, 'registry.example/fj:1');
  t.is(container(d).imagePullPolicy, 'Always');
  t.deepEqual(podSpec(d).imagePullSecrets, [{ name: 'regcred' }]);
  t.deepEqual(container(d).resources, { requests: { cpu: '2', memory: '1Gi' }, limits: { cpu: '4', memory: '2Gi' } });
  // Four whole CPUs -> four workers -> four WebRTC ports.
  t.is(envOf(d)['FJ_WORKERS'], '4');
  t.is(envOf(d)['FJ_WEBRTC_MIN_PORT'], '50000');
  t.is(envOf(d)['FJ_WEBRTC_MAX_PORT'], '50003');
});

const workerTable: [object, string][] = [
  [{}, '1'],
  [{ resources: { requests: { cpu: '500m' } } }, '1'],
  [{ resources: { requests: { cpu: '2500m' } } }, '2'],
  [{ resources: { requests: { cpu: 3 } } }, '3'],
  [{ resources: { limits: { cpu: '2' } }, workers: 6 }, '6'],
];
for (const [spec, workers] of workerTable) {
  test(`workers for ${JSON.stringify(spec)} = ${workers}`, (t) => {
    t.is(envOf(reconcileSpec(spec))['FJ_WORKERS'], workers);
  });
}

test('webrtc ports: explicit range is passed through and opened as container ports', (t) => {
  const d = reconcileSpec({ workers: 2, webrtc: { minPort: 40000, maxPort: 40009 } });
  t.is(envOf(d)['FJ_WEBRTC_MIN_PORT'], '40000');
  t.is(envOf(d)['FJ_WEBRTC_MAX_PORT'], '40009');
  const udp = container(d).ports.filter((p: any) => p.protocol === 'UDP' && p.name.startsWith('rtc-')).map((p: any) => p.containerPort);
  t.is(udp.length, 10);
  t.is(udp[0], 40000);
});

// [spec, FJ_WEBRTC_TURN_PORT, FJ_WEBRTC_TURN_IP, hostPort on the TURN container ports]
const turnTable: [string, object, string, string, number | undefined][] = [
  ['HostNetwork', { exposure: { mode: 'HostNetwork' } }, '3478', '$(HOST_IP)', 3478],
  ['HostNetwork, own port', { exposure: { mode: 'HostNetwork' }, webrtc: { turnPort: 443 } }, '443', '$(HOST_IP)', 443],
  ['ServicePerPod', { ...perPod }, '3478', '$(POD_NAME).rtc.example.com', undefined],
  ['ServicePerPod, own port and WebRTC range', { ...perPod, workers: 2, webrtc: { minPort: 40000, turnPort: 5349 } }, '5349', '$(POD_NAME).rtc.example.com', undefined],
];
for (const [what, spec, port, turnIp, hostPort] of turnTable) {
  test(`TURN server: ${what}`, (t) => {
    const d = reconcileSpec(spec);
    const env = envOf(d);
    t.is(env['FJ_WEBRTC_TURN_PORT'], port);
    t.is(env['FJ_WEBRTC_TURN_IP'], turnIp);
    t.is(env['FJ_WEBRTC_TURN_IP'], env['FJ_WEBRTC_ANNOUNCED_IP'], 'clients reach TURN where WebRTC is announced');
    // $(VAR) in the TURN address is expanded only for variables declared before it.
    const names = container(d).env.map((e: any) => e.name);
    t.true(names.indexOf('HOST_IP') < names.indexOf('FJ_WEBRTC_TURN_IP'));
    const turn = container(d).ports.filter((p: any) => p.name.startsWith('turn-'));
    t.deepEqual(
      turn,
      ['UDP', 'TCP'].map((protocol) => ({
        name: `turn-${protocol.toLowerCase()}`,
        containerPort: Number(port),
        protocol,
        ...(hostPort === undefined ? {} : { hostPort }),
      })),
    );
    // The relay ports only talk to the pod itself: never a container port.
    t.false(container(d).ports.some((p: any) => p.containerPort >= 51000 && p.containerPort <= 51999));
    const names2 = container(d).ports.map((p: any) => p.name);
    t.is(new Set(names2).size, names2.length, 'container port names are unique');
    t.true(names2.every((n: string) => n.length <= 15), 'container port names fit IANA_SVC_NAME');
  });
}

test('HostNetwork mode: node network, node IP announced, one pod per node', (t) => {
  const d = reconcileSpec({ exposure: { mode: 'HostNetwork' }, affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'zone' }] } } });
  const pod = podSpec(d);
  t.true(pod.hostNetwork);
  t.is(pod.dnsPolicy, 'ClusterFirstWithHostNet');
  t.is(envOf(d)['FJ_WEBRTC_ANNOUNCED_IP'], '$(HOST_IP)');
  t.is(envOf(d)['FJ_WEBRTC_TURN_IP'], '$(HOST_IP)');
  t.is(envOf(d)['FJ_WEBRTC_TURN_PORT'], '3478');
  t.is(envOf(d)['FJ_HOST'], '$(HOST_IP):8080');
  t.true(container(d).ports.every((p: any) => p.hostPort === p.containerPort));
  const terms = pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution;
  t.deepEqual(terms[0], { topologyKey: 'zone' }, 'user terms are kept');
  t.is(terms[1].topologyKey, 'kubernetes.io/hostname');
  t.deepEqual(kinds(d, 'NetworkPolicy'), []);
  const np = d.conditions.find((c) => c.type === 'NetworkPolicyEnforced');
  t.is(np?.status, 'False');
  t.is(np?.reason, 'HostNetwork');
  t.regex(np!.message, /firewall/);
});

test('HostNetwork with a host template', (t) => {
  const d = reconcileSpec({ exposure: { mode: 'HostNetwork', hostTemplate: '$(POD_NAME).nodes.example.com:8080' } });
  t.is(envOf(d)['FJ_HOST'], '$(POD_NAME).nodes.example.com:8080');
});

test('ServicePerPod: one LoadBalancer Service per pod with HTTP and WebRTC ports, templates as env', (t) => {
  const d = reconcileSpec({
    ...perPod,
    replicas: 3,
    workers: 2,
    exposure: { ...perPod.exposure, servicePerPod: { annotations: { 'lb.example/type': 'nlb' }, loadBalancerClass: 'lbc' } },
  });
  t.deepEqual(kinds(d, 'Service'), ['media-nodes', 'media', 'media-0', 'media-1', 'media-2']);
  const svc = find(d, 'Service', 'media-1');
  t.is(svc.spec.type, 'LoadBalancer');
  t.is(svc.spec.externalTrafficPolicy, 'Local');
  t.is(svc.spec.loadBalancerClass, 'lbc');
  t.is(svc.metadata.annotations['lb.example/type'], 'nlb');
  t.is(svc.spec.selector['statefulset.kubernetes.io/pod-name'], 'media-1');
  t.deepEqual(
    svc.spec.ports.map((p: any) => `${p.protocol}/${p.port}`),
    ['TCP/8080', 'UDP/3478', 'TCP/3478', 'UDP/50000', 'TCP/50000', 'UDP/50001', 'TCP/50001'],
  );
  t.deepEqual(svc.spec.ports[1], { name: 'turn-udp', port: 3478, targetPort: 3478, protocol: 'UDP' });
  t.deepEqual(svc.spec.ports[2], { name: 'turn-tcp', port: 3478, targetPort: 3478, protocol: 'TCP' });
  t.false(svc.spec.ports.some((p: any) => p.port >= 51000 && p.port <= 51999), 'TURN relay ports stay inside the pod');
  t.falsy(podSpec(d).hostNetwork);
  t.falsy(container(d).ports[0].hostPort);
  t.is(envOf(d)['FJ_HOST'], '$(POD_NAME).media.example.com:443');
  t.is(envOf(d)['FJ_WEBRTC_ANNOUNCED_IP'], '$(POD_NAME).rtc.example.com');
  t.is(envOf(d)['FJ_WEBRTC_TURN_IP'], '$(POD_NAME).rtc.example.com');
});

test('ServicePerPod Services carry a custom TURN port', (t) => {
  const d = reconcileSpec({ ...perPod, replicas: 2, webrtc: { turnPort: 443 } });
  for (const name of ['media-0', 'media-1']) {
    const ports = find(d, 'Service', name).spec.ports.filter((p: any) => p.name.startsWith('turn-'));
    t.deepEqual(ports.map((p: any) => `${p.protocol}/${p.port}->${p.targetPort}`), ['UDP/443->443', 'TCP/443->443']);
  }
});

test('ServicePerPod with ClusterIP Services has no externalTrafficPolicy', (t) => {
  const d = reconcileSpec({ ...perPod, exposure: { ...perPod.exposure, servicePerPod: { type: 'ClusterIP', externalTrafficPolicy: 'Cluster' } } });
  const svc = find(d, 'Service', 'media-0');
  t.is(svc.spec.type, 'ClusterIP');
  t.is(svc.spec.externalTrafficPolicy, undefined);
});

test('network policies: dist only between own pods, API and media from anywhere by default', (t) => {
  const d = reconcileSpec({ ...perPod, workers: 2 });
  t.deepEqual(kinds(d, 'NetworkPolicy'), ['media-dist', 'media-api', 'media-media', 'media-metrics']);
  const own = { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'fishjam', 'app.kubernetes.io/instance': 'media' } } };
  const dist = find(d, 'NetworkPolicy', 'media-dist');
  t.deepEqual(dist.spec.podSelector, own.podSelector);
  t.deepEqual(dist.spec.policyTypes, ['Ingress']);
  t.deepEqual(dist.spec.ingress, [{ ports: [{ protocol: 'TCP', port: 4369 }, { protocol: 'TCP', port: 9000 }], from: [own] }]);
  const api = find(d, 'NetworkPolicy', 'media-api');
  t.deepEqual(api.spec.ingress, [{ ports: [{ protocol: 'TCP', port: 8080 }] }], 'no from = anywhere');
  const media = find(d, 'NetworkPolicy', 'media-media');
  t.deepEqual(media.spec.ingress[0].ports, [
    { protocol: 'UDP', port: 3478 }, { protocol: 'TCP', port: 3478 },
    { protocol: 'UDP', port: 50000 }, { protocol: 'TCP', port: 50000 },
    { protocol: 'UDP', port: 50001 }, { protocol: 'TCP', port: 50001 },
  ]);
  t.is(media.spec.ingress[0].from, undefined);
  t.is(media.spec.ingress.length, 1, 'open to anywhere: one rule is enough');
  t.deepEqual(find(reconcileSpec({ ...perPod, webrtc: { turnPort: 3479 } }), 'NetworkPolicy', 'media-media').spec.ingress[0].ports.slice(0, 2), [
    { protocol: 'UDP', port: 3479 }, { protocol: 'TCP', port: 3479 },
  ]);
  const metrics = find(d, 'NetworkPolicy', 'media-metrics');
  t.deepEqual(metrics.spec.ingress[0].from, [
    { namespaceSelector: {} },
    {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'fishjam-system' } },
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'fishjam-operator' } },
    },
  ]);
  t.is(d.conditions.find((c) => c.type === 'NetworkPolicyEnforced')?.status, 'True');
});

test('network policies: restricted API keeps the operator and own pods, media restricted to CIDRs', (t) => {
  const d = reconcileSpec({
    ...perPod,
    networkPolicy: {
      apiFrom: [{ namespaceSelector: { matchLabels: { ingress: 'yes' } } }],
      mediaFrom: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }],
    },
  });
  const from = find(d, 'NetworkPolicy', 'media-api').spec.ingress[0].from;
  t.is(from.length, 3);
  t.deepEqual(from[0], { namespaceSelector: { matchLabels: { ingress: 'yes' } } });
  t.is(from[1].namespaceSelector.matchLabels['kubernetes.io/metadata.name'], 'fishjam-system');
  t.deepEqual(from[2].podSelector.matchLabels['app.kubernetes.io/instance'], 'media');
  const media = find(d, 'NetworkPolicy', 'media-media').spec.ingress;
  t.deepEqual(media[0].from, [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }]);
  t.deepEqual(media[0].ports.slice(0, 2), [{ protocol: 'UDP', port: 3478 }, { protocol: 'TCP', port: 3478 }], 'clients reach TURN');
  // The TURN relay inside the pod sends to the announced WebRTC address: own pods may reach the WebRTC ports.
  t.deepEqual(media[1], {
    ports: [{ protocol: 'UDP', port: 50000 }, { protocol: 'TCP', port: 50000 }],
    from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'fishjam', 'app.kubernetes.io/instance': 'media' } } }],
  });
});

test('network policies can be disabled', (t) => {
  const d = reconcileSpec({ ...perPod, networkPolicy: { enabled: false } });
  t.deepEqual(kinds(d, 'NetworkPolicy'), []);
  t.is(d.conditions.find((c) => c.type === 'NetworkPolicyEnforced')?.reason, 'Disabled');
});

test('dist TLS mounts the secret and points the FJ_DIST_TLS_* variables at it', (t) => {
  const d = reconcileSpec({ dist: { tls: { secretName: 'dist-tls' } } });
  const env = envOf(d);
  t.is(env['FJ_DIST_TLS_CERT_PATH'], '/etc/fishjam/dist-tls/tls.crt');
  t.is(env['FJ_DIST_TLS_KEY_PATH'], '/etc/fishjam/dist-tls/tls.key');
  t.is(env['FJ_DIST_TLS_CA_PATH'], '/etc/fishjam/dist-tls/ca.crt');
  t.deepEqual(podSpec(d).volumes[1], { name: 'dist-tls', secret: { secretName: 'dist-tls', defaultMode: 0o440 } });
  t.deepEqual(container(d).volumeMounts[1], { name: 'dist-tls', mountPath: '/etc/fishjam/dist-tls', readOnly: true });
  t.is(envOf(reconcileSpec({}))['FJ_DIST_TLS_CERT_PATH'], undefined);
});

test('dist polling interval and cluster domain', (t) => {
  const env = envOf(reconcileSpec({ dist: { pollingIntervalMs: 1000, clusterDomain: 'k8s.example' } }));
  t.is(env['FJ_DIST_POLLING_INTERVAL'], '1000');
  t.is(env['FJ_DIST_QUERY'], 'media-nodes.live.svc.k8s.example');
});

test('probes on /livez and /readyz, preStop drain, grace = drain timeout + margin', (t) => {
  const d = reconcileSpec({ drainTimeoutSeconds: 120 });
  const c = container(d);
  t.deepEqual(c.livenessProbe.httpGet, { path: '/livez', port: 'http' });
  t.deepEqual(c.readinessProbe.httpGet, { path: '/readyz', port: 'http' });
  t.deepEqual(c.startupProbe.httpGet, { path: '/livez', port: 'http' });
  t.deepEqual(c.lifecycle.preStop.exec.command, ['node', '/app/media-server/dist/cli/drain.js']);
  t.is(podSpec(d).terminationGracePeriodSeconds, 135);
  t.is(envOf(d)['FJ_DRAIN_TIMEOUT'], '120');
  t.is(podSpec(reconcileSpec({})).terminationGracePeriodSeconds, 45);
});

test('ServiceMonitor on demand, selecting the headless Service', (t) => {
  t.deepEqual(kinds(reconcileSpec({}), 'ServiceMonitor'), []);
  const d = reconcileSpec({ metrics: { port: 9999, serviceMonitor: { enabled: true, interval: '5s', labels: { release: 'prom' } } } });
  const sm = find(d, 'ServiceMonitor', 'media');
  t.is(sm.apiVersion, 'monitoring.coreos.com/v1');
  t.is(sm.metadata.labels.release, 'prom');
  t.deepEqual(sm.spec.endpoints, [{ port: 'metrics', path: '/metrics', interval: '5s' }]);
  const headless = find(d, 'Service', 'media-nodes');
  for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) t.is(headless.metadata.labels[k], v);
  t.is(envOf(d)['FJ_METRICS_PORT'], '9999');
});

test('PodDisruptionBudget settings', (t) => {
  t.is(find(reconcileSpec({}), 'PodDisruptionBudget', 'media').spec.maxUnavailable, 1);
  t.is(find(reconcileSpec({ podDisruptionBudget: { maxUnavailable: 2 } }), 'PodDisruptionBudget', 'media').spec.maxUnavailable, 2);
  t.deepEqual(kinds(reconcileSpec({ podDisruptionBudget: { enabled: false } }), 'PodDisruptionBudget'), []);
});

test('scheduling, labels, annotations, extra env and log level reach the pod template', (t) => {
  const d = reconcileSpec({
    ...perPod,
    nodeSelector: { pool: 'media' },
    tolerations: [{ key: 'media', operator: 'Exists', effect: 'NoSchedule' }],
    affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] } },
    podLabels: { team: 'rtc', 'app.kubernetes.io/instance': 'hijack' },
    podAnnotations: { 'example/a': 'b' },
    env: [{ name: 'FJ_WEBRTC_USED', value: 'true' }],
    logLevel: 'debug',
  });
  const pod = podSpec(d);
  t.deepEqual(pod.nodeSelector, { pool: 'media' });
  t.deepEqual(pod.tolerations, [{ key: 'media', operator: 'Exists', effect: 'NoSchedule' }]);
  t.deepEqual(pod.affinity, { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] } });
  const template = find(d, 'StatefulSet', 'media').spec.template.metadata;
  t.is(template.labels.team, 'rtc');
  t.is(template.labels['app.kubernetes.io/instance'], 'media', 'selector labels cannot be overridden');
  t.deepEqual(template.annotations, { 'example/a': 'b' });
  t.is(envOf(d)['FJ_WEBRTC_USED'], 'true');
  t.is(envOf(d)['FJ_LOG_LEVEL'], 'debug');
});

test('replicas flow to the StatefulSet and to the number of per-pod Services', (t) => {
  const d = reconcileSpec({ ...perPod, replicas: 4 }, { statefulSetReplicas: 2 });
  t.is(find(d, 'StatefulSet', 'media').spec.replicas, 4);
  t.is(kinds(d, 'Service').length, 2 + 4);
  t.is(find(reconcileSpec({ replicas: 0 }), 'StatefulSet', 'media').spec.replicas, 0);
});

test('scale-down keeps the StatefulSet and the draining pod Service until the node is empty', (t) => {
  const nodes = [0, 1, 2].map((ordinal) => ({ name: `media-${ordinal}`, ordinal, ready: true, draining: false, rooms: 1 }));
  const d = reconcileSpec({ ...perPod, replicas: 2 }, { statefulSetReplicas: 3, nodes });
  t.is(find(d, 'StatefulSet', 'media').spec.replicas, 3);
  t.truthy(find(d, 'Service', 'media-2'));
  t.is(d.drainOrdinal, 2);
  t.deepEqual(d.scaleDown, { ordinal: 2, startedAt: '2025-01-01T00:00:00.000Z' });
  const cond = d.conditions.find((c) => c.type === 'ScalingDown');
  t.is(cond?.status, 'True');
  t.regex(cond!.message, /media-2/);
});

const invalidSpecs: [string, unknown, RegExp][] = [
  ['negative replicas', { replicas: -1 }, /spec\.replicas must be >= 0/],
  ['replicas as a string', { replicas: '3' }, /spec\.replicas must be an integer, got string/],
  ['unknown field', { replica: 3 }, /spec\.replica is not a known field/],
  ['bad exposure mode', { exposure: { mode: 'NodePort' } }, /spec\.exposure\.mode must be one of PodNetwork, HostNetwork, ServicePerPod/],
  ['ServicePerPod without templates', { exposure: { mode: 'ServicePerPod' } }, /spec\.exposure\.hostTemplate is required with ServicePerPod/],
  ['unknown template variable', { exposure: { hostTemplate: '$(NODE_NAME):8080' } }, /uses \$\(NODE_NAME\)/],
  ['too few WebRTC ports', { workers: 4, webrtc: { minPort: 50000, maxPort: 50001 } }, /range 50000-50001 has 2 ports, fewer than the 4 workers/],
  ['WebRTC range past 65535', { workers: 4, webrtc: { minPort: 65534 } }, /runs past port 65535/],
  ['port clash', { httpPort: 9568 }, /spec\.metrics\.port port 9568 is already used by spec\.httpPort/],
  ['port inside WebRTC range', { httpPort: 50000 }, /spec\.httpPort port 50000 falls inside the WebRTC range/],
  ['operator-owned env', { env: [{ name: 'FJ_DIST_QUERY', value: 'x' }] }, /spec\.env\[0\]\.name FJ_DIST_QUERY is set by the operator/],
  ['TURN port set through env', { env: [{ name: 'FJ_WEBRTC_TURN_PORT', value: '3479' }] }, /spec\.env\[0\]\.name FJ_WEBRTC_TURN_PORT is set by the operator/],
  ['TURN address set through env', { env: [{ name: 'FJ_WEBRTC_TURN_IP', value: '1.2.3.4' }] }, /spec\.env\[0\]\.name FJ_WEBRTC_TURN_IP is set by the operator/],
  ['TURN port 0', { webrtc: { turnPort: 0 } }, /spec\.webrtc\.turnPort must be >= 1/],
  ['TURN port past 65535', { webrtc: { turnPort: 70000 } }, /spec\.webrtc\.turnPort must be <= 65535/],
  ['TURN port as a string', { webrtc: { turnPort: '3478' } }, /spec\.webrtc\.turnPort must be an integer, got string/],
  ['TURN port clashes with the API port', { httpPort: 3478 }, /spec\.webrtc\.turnPort port 3478 is already used by spec\.httpPort/],
  ['TURN port clashes with the metrics port', { webrtc: { turnPort: 9568 } }, /spec\.webrtc\.turnPort port 9568 is already used by spec\.metrics\.port/],
  ['TURN port inside the WebRTC range', { workers: 2, webrtc: { turnPort: 50001 } }, /spec\.webrtc\.turnPort port 50001 falls inside the WebRTC range 50000-50001/],
  ['TURN port among the relay ports', { webrtc: { turnPort: 51500 } }, /spec\.webrtc\.turnPort port 51500 falls inside the TURN relay range 51000-51999/],
  ['TURN port among relay ports set in env', { webrtc: { turnPort: 3478 }, env: [{ name: 'FJ_WEBRTC_TURN_PORT_RANGE', value: '3000-3999' }] }, /falls inside the TURN relay range 3000-3999/],
  ['WebRTC range over the relay ports', { workers: 2, webrtc: { minPort: 51999 } }, /spec\.webrtc\.minPort WebRTC range 51999-52000 overlaps the TURN relay range 51000-51999/],
  ['bad secret name', { apiTokenSecretRef: { name: 'Bad_Name' } }, /spec\.apiTokenSecretRef\.name must match/],
  ['bad interval', { metrics: { serviceMonitor: { enabled: true, interval: 'often' } } }, /interval must match/],
  ['bad quantity', { resources: { limits: { cpu: 'lots' } } }, /spec\.resources\.limits\.cpu must match/],
];
for (const [what, spec, reason] of invalidSpecs) {
  test(`invalid spec (${what}) gives SpecValid=False with a clear message and applies nothing`, (t) => {
    const d = reconcileSpec(spec as never);
    t.false(d.valid);
    t.deepEqual(d.apply, []);
    t.deepEqual(d.createIfMissing, []);
    const cond = d.conditions.find((c) => c.type === 'SpecValid');
    t.is(cond?.status, 'False');
    t.is(cond?.reason, 'InvalidSpec');
    t.regex(cond!.message, reason);
  });
}

test('a relay range moved through env frees the default relay ports for WebRTC', (t) => {
  const d = reconcileSpec({ webrtc: { minPort: 51000 }, env: [{ name: 'FJ_WEBRTC_TURN_PORT_RANGE', value: '60000-60999' }] });
  t.true(d.valid, d.conditions.map((c) => c.message).join('; '));
  t.is(envOf(d)['FJ_WEBRTC_MIN_PORT'], '51000');
  t.is(envOf(d)['FJ_WEBRTC_TURN_PORT_RANGE'], '60000-60999');
});

test('a cluster name too long for pod names is refused', (t) => {
  const d = desired(makeCluster({}, 'x'.repeat(41)), observedNothing(), operatorDefaults);
  t.false(d.valid);
  t.regex(d.conditions[0]!.message, /at most 40 characters/);
});
