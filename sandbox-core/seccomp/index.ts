/** The default seccomp profile of the bwrap and runc backends: as data, as OCI `linux.seccomp`, as BPF. */
export {
  ALLOWED_PERSONALITIES,
  ARCHITECTURES,
  DENIED_SYSCALLS,
  DENY_LIST,
  ENOSYS,
  EPERM,
  PROFILE_NAME,
  exceptValues,
  ociSeccomp,
  seccompProfile,
  type ArgComparison,
  type DenyGroup,
  type OciSeccomp,
  type OciSeccompSyscall,
  type SeccompOp,
  type SeccompProfile,
  type SeccompRule,
} from './profile.ts';
export { compileSeccomp, compilerInput, seccompBpf, seccompCompilerPath, type SeccompBuildOptions } from './bpf.ts';
