// The Kubernetes Pod Security Standards (https://kubernetes.io/docs/concepts/security/pod-security-standards/),
// baseline and restricted, as the "latest" version of the PodSecurity admission checks them, over a pod spec.
// Written from the published tables; each rule carries the standard's own name. Pure: the operator reports the
// level its media pods meet (condition PodSecurity), and tests hold the rendered pods to it.

export type Level = 'baseline' | 'restricted';

export interface Violation {
  level: Level;
  /** The control's name in the standard, e.g. "Host Namespaces". */
  control: string;
  detail: string;
}

type Obj = Record<string, any>;

const BASELINE_CAPABILITIES = new Set([
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID',
  'SETPCAP', 'SETUID', 'SYS_CHROOT',
]);
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes',
]);
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);
const RESTRICTED_VOLUMES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);
const NON_SOURCE_VOLUME_FIELDS = new Set(['name']);

/** Every container of the pod (init and ephemeral ones too, as the admission checks them) with its field path. */
function containers(spec: Obj): [string, Obj][] {
  return (['containers', 'initContainers', 'ephemeralContainers'] as const).flatMap((field) =>
    (Array.isArray(spec[field]) ? (spec[field] as Obj[]) : []).map((c, i): [string, Obj] => [`spec.${field}[${i}] ${c?.name ?? ''}`.trim(), c ?? {}]),
  );
}

function seLinuxBad(opts: Obj | undefined): string | undefined {
  if (!opts) return undefined;
  if (opts['type'] !== undefined && !SELINUX_TYPES.has(opts['type'])) return `type ${opts['type']}`;
  if (opts['user'] !== undefined) return 'user set';
  if (opts['role'] !== undefined) return 'role set';
  return undefined;
}

function appArmorBad(profile: Obj | undefined): boolean {
  return profile?.['type'] !== undefined && profile['type'] !== 'RuntimeDefault' && profile['type'] !== 'Localhost';
}

export function checkPodSecurity(spec: Obj, level: Level, annotations: Record<string, string> = {}): Violation[] {
  const v: Violation[] = [];
  const add = (l: Level, control: string, detail: string) => v.push({ level: l, control, detail });
  const pod = (spec['securityContext'] ?? {}) as Obj;
  const all = containers(spec);

  // ---- baseline ----
  if (pod['windowsOptions']?.['hostProcess'] === true || all.some(([, c]) => c['securityContext']?.['windowsOptions']?.['hostProcess'] === true)) {
    add('baseline', 'HostProcess', 'windowsOptions.hostProcess is true');
  }
  for (const ns of ['hostNetwork', 'hostPID', 'hostIPC']) if (spec[ns] === true) add('baseline', 'Host Namespaces', `spec.${ns} is true`);
  for (const [where, c] of all) {
    const sc = (c['securityContext'] ?? {}) as Obj;
    if (sc['privileged'] === true) add('baseline', 'Privileged Containers', `${where}: privileged`);
    for (const cap of (sc['capabilities']?.['add'] ?? []) as string[]) {
      if (!BASELINE_CAPABILITIES.has(cap)) add('baseline', 'Capabilities', `${where}: adds ${cap}`);
    }
    for (const p of (c['ports'] ?? []) as Obj[]) if (p['hostPort'] !== undefined && p['hostPort'] !== 0) add('baseline', 'Host Ports', `${where}: hostPort ${p['hostPort']}`);
    if (appArmorBad(sc['appArmorProfile'])) add('baseline', 'AppArmor', `${where}: appArmorProfile ${sc['appArmorProfile']['type']}`);
    const se = seLinuxBad(sc['seLinuxOptions']);
    if (se) add('baseline', 'SELinux', `${where}: seLinuxOptions ${se}`);
    if (sc['procMount'] !== undefined && sc['procMount'] !== 'Default') add('baseline', '/proc Mount Type', `${where}: procMount ${sc['procMount']}`);
    if (sc['seccompProfile']?.['type'] === 'Unconfined') add('baseline', 'Seccomp', `${where}: seccompProfile Unconfined`);
  }
  for (const vol of (spec['volumes'] ?? []) as Obj[]) if (vol && vol['hostPath'] !== undefined) add('baseline', 'HostPath Volumes', `volume ${vol['name']}`);
  if (appArmorBad(pod['appArmorProfile'])) add('baseline', 'AppArmor', `pod appArmorProfile ${pod['appArmorProfile']['type']}`);
  for (const [k, val] of Object.entries(annotations)) {
    if (k.startsWith('container.apparmor.security.beta.kubernetes.io/') && val !== 'runtime/default' && !val.startsWith('localhost/')) {
      add('baseline', 'AppArmor', `annotation ${k}=${val}`);
    }
  }
  const podSe = seLinuxBad(pod['seLinuxOptions']);
  if (podSe) add('baseline', 'SELinux', `pod seLinuxOptions ${podSe}`);
  if (pod['seccompProfile']?.['type'] === 'Unconfined') add('baseline', 'Seccomp', 'pod seccompProfile Unconfined');
  for (const s of (pod['sysctls'] ?? []) as Obj[]) if (!SAFE_SYSCTLS.has(s?.['name'])) add('baseline', 'Sysctls', `sysctl ${s?.['name']}`);
  if (level === 'baseline') return v;

  // ---- restricted ----
  for (const vol of (spec['volumes'] ?? []) as Obj[]) {
    const source = Object.keys(vol ?? {}).filter((k) => !NON_SOURCE_VOLUME_FIELDS.has(k));
    for (const s of source) if (!RESTRICTED_VOLUMES.has(s)) add('restricted', 'Volume Types', `volume ${vol['name']}: ${s}`);
  }
  for (const [where, c] of all) {
    const sc = (c['securityContext'] ?? {}) as Obj;
    if (sc['allowPrivilegeEscalation'] !== false) add('restricted', 'Privilege Escalation', `${where}: allowPrivilegeEscalation is not false`);
    const nonRoot = sc['runAsNonRoot'] ?? pod['runAsNonRoot'];
    if (nonRoot !== true) add('restricted', 'Running as Non-root', `${where}: runAsNonRoot is not true`);
    if ((sc['runAsUser'] ?? pod['runAsUser']) === 0) add('restricted', 'Running as Non-root user', `${where}: runAsUser 0`);
    const seccomp = sc['seccompProfile']?.['type'] ?? pod['seccompProfile']?.['type'];
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') add('restricted', 'Seccomp', `${where}: seccompProfile is ${seccomp ?? 'unset'}`);
    const caps = (sc['capabilities'] ?? {}) as Obj;
    if (!((caps['drop'] ?? []) as string[]).includes('ALL')) add('restricted', 'Capabilities', `${where}: does not drop ALL`);
    for (const cap of (caps['add'] ?? []) as string[]) if (cap !== 'NET_BIND_SERVICE') add('restricted', 'Capabilities', `${where}: adds ${cap}`);
  }
  if (pod['runAsUser'] === 0) add('restricted', 'Running as Non-root user', 'pod runAsUser 0');
  return v;
}

/** The highest level the pod meets: 'restricted', 'baseline' or 'privileged'. */
export function podSecurityLevel(spec: Obj, annotations: Record<string, string> = {}): Level | 'privileged' {
  if (checkPodSecurity(spec, 'restricted', annotations).length === 0) return 'restricted';
  return checkPodSecurity(spec, 'baseline', annotations).length === 0 ? 'baseline' : 'privileged';
}
