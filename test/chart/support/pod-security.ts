/**
 * The Kubernetes "restricted" Pod Security Standard (which includes "baseline"), as the
 * PodSecurity admission controller checks it, plus this chart's own rules: a read-only root
 * filesystem and no service-account token.
 */

const RESTRICTED_VOLUME_TYPES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];
const SAFE_SYSCTLS = [
  'kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes',
];
const SELINUX_TYPES = ['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'];

/** Every way a pod spec breaks the restricted profile; empty when it meets it. */
export function restrictedViolations(spec: any): string[] {
  const v: string[] = [];
  const psc = spec.securityContext ?? {};
  const containers: any[] = [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])];

  // baseline
  for (const f of ['hostNetwork', 'hostPID', 'hostIPC']) if (spec[f]) v.push(`${f} is set`);
  for (const vol of spec.volumes ?? []) {
    const type = Object.keys(vol).find((k) => k !== 'name');
    if (!type || !RESTRICTED_VOLUME_TYPES.includes(type)) v.push(`volume ${vol.name} is of type ${type}`);
  }
  for (const s of psc.sysctls ?? []) if (!SAFE_SYSCTLS.includes(s.name)) v.push(`unsafe sysctl ${s.name}`);
  if (psc.seLinuxOptions && (!SELINUX_TYPES.includes(psc.seLinuxOptions.type ?? '') || psc.seLinuxOptions.user || psc.seLinuxOptions.role)) {
    v.push('pod seLinuxOptions not allowed');
  }
  if (psc.appArmorProfile?.type === 'Unconfined') v.push('pod AppArmor profile is Unconfined');

  // restricted, pod level
  const podNonRoot = psc.runAsNonRoot === true;
  const podSeccomp = psc.seccompProfile?.type;
  if (psc.runAsUser === 0) v.push('pod runAsUser is 0');
  if (podSeccomp === 'Unconfined') v.push('pod seccomp profile is Unconfined');

  for (const c of containers) {
    const sc = c.securityContext ?? {};
    const at = `container ${c.name}`;
    if (sc.privileged) v.push(`${at} is privileged`);
    for (const p of c.ports ?? []) if (p.hostPort) v.push(`${at} uses hostPort ${p.hostPort}`);
    if (sc.procMount && sc.procMount !== 'Default') v.push(`${at} procMount ${sc.procMount}`);
    if (sc.appArmorProfile?.type === 'Unconfined') v.push(`${at} AppArmor profile is Unconfined`);
    if (sc.seLinuxOptions && (!SELINUX_TYPES.includes(sc.seLinuxOptions.type ?? '') || sc.seLinuxOptions.user || sc.seLinuxOptions.role)) {
      v.push(`${at} seLinuxOptions not allowed`);
    }
    if (sc.allowPrivilegeEscalation !== false) v.push(`${at} does not set allowPrivilegeEscalation: false`);
    const nonRoot = sc.runAsNonRoot ?? psc.runAsNonRoot;
    if (nonRoot !== true && !podNonRoot) v.push(`${at} does not set runAsNonRoot: true`);
    if (sc.runAsNonRoot === false) v.push(`${at} sets runAsNonRoot: false`);
    if (sc.runAsUser === 0) v.push(`${at} runAsUser is 0`);
    const seccomp = sc.seccompProfile?.type ?? podSeccomp;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') v.push(`${at} has no RuntimeDefault or Localhost seccomp profile`);
    const drop: string[] = sc.capabilities?.drop ?? [];
    if (!drop.includes('ALL')) v.push(`${at} does not drop ALL capabilities`);
    for (const cap of sc.capabilities?.add ?? []) if (cap !== 'NET_BIND_SERVICE') v.push(`${at} adds capability ${cap}`);
  }
  return v;
}

/** This chart's rules beyond "restricted". */
export function hardeningViolations(spec: any): string[] {
  const v: string[] = [];
  if (spec.automountServiceAccountToken !== false) v.push('mounts a service-account token');
  if (spec.enableServiceLinks !== false) v.push('gets service-link environment variables');
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    if (c.securityContext?.readOnlyRootFilesystem !== true) v.push(`container ${c.name} has a writable root filesystem`);
  }
  return v;
}
