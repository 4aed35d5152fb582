// The media pods against the Pod Security Standards (src/reconcile/pod-security.ts, written from the published
// tables): pod-network pods meet restricted; HostNetwork pods break exactly baseline's Host Namespaces and Host
// Ports. The checker itself is held to the standard's controls, one hostile pod per control.
import test from 'ava';
import { checkPodSecurity, podSecurityLevel, type Level } from '../src/reconcile/pod-security.js';
import { podSpec, reconcileSpec } from './cluster-fixture.js';

const perPod = { mode: 'ServicePerPod', hostTemplate: '$(POD_NAME).media.example.com:443', announcedAddressTemplate: '$(POD_IP)' } as const;
const pod = (spec: object) => podSpec(reconcileSpec(spec as never));

const restrictedSpecs: [string, object][] = [
  ['ServicePerPod', { exposure: perPod }],
  ['ServicePerPod with dist TLS, extra env, scheduling', { exposure: perPod, dist: { tls: { secretName: 't' } }, env: [{ name: 'A', value: 'b' }], tolerations: [{ key: 'k', operator: 'Exists' }] }],
  ['ServicePerPod on port 443 (NET_BIND_SERVICE, the one capability restricted allows)', { exposure: perPod, httpPort: 443 }],
  ['ServicePerPod, ClusterIP Services, 8 workers', { exposure: { ...perPod, servicePerPod: { type: 'ClusterIP' } }, workers: 8, webrtc: { minPort: 40000 } }],
];
for (const [name, spec] of restrictedSpecs) {
  test(`media pods meet PodSecurity restricted: ${name}`, (t) => {
    t.deepEqual(checkPodSecurity(pod(spec), 'restricted'), []);
    t.is(podSecurityLevel(pod(spec)), 'restricted');
  });
}

test('the media container: non-root, RuntimeDefault seccomp, no privilege escalation, read-only root with /tmp and the resources on emptyDirs, ALL dropped', (t) => {
  const spec = pod({ exposure: perPod });
  t.like(spec.securityContext, { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
  const sc = spec.containers[0].securityContext;
  t.deepEqual(sc, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  t.deepEqual(spec.volumes[0], { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } });
  t.deepEqual(spec.containers[0].volumeMounts[0], { name: 'tmp', mountPath: '/tmp' });
  // components write their output (HLS, recordings) to the resources folder: writable, on its own emptyDir
  t.deepEqual(spec.volumes.find((v: { name: string }) => v.name === 'resources'), { name: 'resources', emptyDir: {} });
  t.deepEqual(spec.containers[0].volumeMounts.find((m: { name: string }) => m.name === 'resources'), { name: 'resources', mountPath: '/var/lib/fishjam' });
  t.deepEqual(
    spec.containers[0].env.find((e: { name: string }) => e.name === 'FJ_RESOURCES_BASE_PATH'),
    { name: 'FJ_RESOURCES_BASE_PATH', value: '/var/lib/fishjam' },
  );
  t.deepEqual(pod({ exposure: perPod, httpPort: 80 }).containers[0].securityContext.capabilities, { drop: ['ALL'], add: ['NET_BIND_SERVICE'] });
});

test('HostNetwork pods break exactly baseline Host Namespaces and Host Ports, nothing else', (t) => {
  const spec = pod({ exposure: { mode: 'HostNetwork' } });
  const violations = checkPodSecurity(spec, 'restricted');
  t.deepEqual([...new Set(violations.map((v) => `${v.level}:${v.control}`))].sort(), ['baseline:Host Namespaces', 'baseline:Host Ports']);
  t.deepEqual(violations.filter((v) => v.control === 'Host Namespaces').map((v) => v.detail), ['spec.hostNetwork is true']);
  t.is(podSecurityLevel(spec), 'privileged');
  // Without those two, the same pod would be restricted.
  const { hostNetwork: _h, dnsPolicy: _d, ...rest } = spec;
  const noHostPorts = { ...rest, containers: rest.containers.map((c: any) => ({ ...c, ports: c.ports.map(({ hostPort: _p, ...p }: any) => p) })) };
  t.is(podSecurityLevel(noHostPorts), 'restricted');
});

test('the PodSecurity condition says which level the pods meet and what breaks the next', (t) => {
  const cond = (spec: object) => reconcileSpec(spec as never).conditions.find((c) => c.type === 'PodSecurity')!;
  t.like(cond({ exposure: perPod }), { status: 'True', reason: 'Restricted' });
  t.like(cond({}), { status: 'True', reason: 'Restricted' }, 'the default, PodNetwork');
  const host = cond({ exposure: { mode: 'HostNetwork' } });
  t.like(host, { status: 'False', reason: 'Privileged' });
  t.is(host.message, 'media pods meet PodSecurity privileged; baseline is broken by: Host Namespaces, Host Ports (exposure.mode HostNetwork)');
});

const c = (securityContext: object = {}, extra: object = {}) => ({ name: 'x', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, ...securityContext }, ...extra });
const good = { securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } }, containers: [c()] };
const hostile: [string, object, Level, string][] = [
  ['hostPID', { ...good, hostPID: true }, 'baseline', 'Host Namespaces'],
  ['hostIPC', { ...good, hostIPC: true }, 'baseline', 'Host Namespaces'],
  ['privileged container', { ...good, containers: [c({ privileged: true })] }, 'baseline', 'Privileged Containers'],
  ['privileged init container', { ...good, initContainers: [c({ privileged: true })] }, 'baseline', 'Privileged Containers'],
  ['SYS_ADMIN added', { ...good, containers: [c({ capabilities: { drop: ['ALL'], add: ['SYS_ADMIN'] } })] }, 'baseline', 'Capabilities'],
  ['CHOWN added (baseline allows it, restricted does not)', { ...good, containers: [c({ capabilities: { drop: ['ALL'], add: ['CHOWN'] } })] }, 'restricted', 'Capabilities'],
  ['hostPath volume', { ...good, volumes: [{ name: 'h', hostPath: { path: '/' } }] }, 'baseline', 'HostPath Volumes'],
  ['hostPort', { ...good, containers: [c({}, { ports: [{ containerPort: 80, hostPort: 80 }] })] }, 'baseline', 'Host Ports'],
  ['AppArmor unconfined (field)', { ...good, containers: [c({ appArmorProfile: { type: 'Unconfined' } })] }, 'baseline', 'AppArmor'],
  ['AppArmor unconfined (annotation)', good, 'baseline', 'AppArmor'],
  ['SELinux type spc_t', { ...good, containers: [c({ seLinuxOptions: { type: 'spc_t' } })] }, 'baseline', 'SELinux'],
  ['SELinux user', { ...good, securityContext: { ...good.securityContext, seLinuxOptions: { user: 'root' } } }, 'baseline', 'SELinux'],
  ['unmasked /proc', { ...good, containers: [c({ procMount: 'Unmasked' })] }, 'baseline', '/proc Mount Type'],
  ['seccomp Unconfined', { ...good, containers: [c({ seccompProfile: { type: 'Unconfined' } })] }, 'baseline', 'Seccomp'],
  ['unsafe sysctl', { ...good, securityContext: { ...good.securityContext, sysctls: [{ name: 'kernel.msgmax', value: '1' }] } }, 'baseline', 'Sysctls'],
  ['windows host process', { ...good, securityContext: { ...good.securityContext, windowsOptions: { hostProcess: true } } }, 'baseline', 'HostProcess'],
  ['nfs volume', { ...good, volumes: [{ name: 'n', nfs: { server: 's', path: '/' } }] }, 'restricted', 'Volume Types'],
  ['privilege escalation allowed by omission', { ...good, containers: [{ name: 'x', securityContext: { capabilities: { drop: ['ALL'] } } }] }, 'restricted', 'Privilege Escalation'],
  ['runAsNonRoot missing', { ...good, securityContext: { seccompProfile: { type: 'RuntimeDefault' } } }, 'restricted', 'Running as Non-root'],
  ['runAsNonRoot false on the container overrides the pod', { ...good, containers: [c({ runAsNonRoot: false })] }, 'restricted', 'Running as Non-root'],
  ['runAsUser 0', { ...good, containers: [c({ runAsUser: 0 })] }, 'restricted', 'Running as Non-root user'],
  ['seccomp unset', { ...good, securityContext: { runAsNonRoot: true } }, 'restricted', 'Seccomp'],
  ['capabilities not dropped', { ...good, containers: [{ name: 'x', securityContext: { allowPrivilegeEscalation: false } }] }, 'restricted', 'Capabilities'],
  ['an ephemeral debug container with privileges', { ...good, ephemeralContainers: [c({ privileged: true })] }, 'baseline', 'Privileged Containers'],
];
for (const [name, spec, level, control] of hostile) {
  test(`checker (${level}): ${name} -> ${control}`, (t) => {
    const annotations: Record<string, string> = name.includes('annotation') ? { 'container.apparmor.security.beta.kubernetes.io/x': 'unconfined' } : {};
    t.deepEqual(checkPodSecurity(good, 'restricted'), [], 'the reference pod is clean');
    const found = checkPodSecurity(spec, 'restricted', annotations).filter((v) => v.control === control);
    t.true(found.length > 0, JSON.stringify(checkPodSecurity(spec, 'restricted', annotations)));
    t.true(found.some((v) => v.level === level), 'reported at the level the standard puts it');
    if (level === 'restricted') t.deepEqual(checkPodSecurity(spec, 'baseline', annotations), [], 'baseline allows it');
  });
}

test('checker survives garbage pod specs', (t) => {
  for (const spec of [{}, { containers: null }, { containers: [null] }, { volumes: [null, {}] }, { securityContext: { sysctls: [null] } }, { containers: 'x' }]) {
    t.notThrows(() => checkPodSecurity(spec as never, 'restricted'), JSON.stringify(spec));
  }
});
