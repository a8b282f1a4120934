export type { Backend, BootStage, ExecRequest, ExecResult, Phases, Sandbox, SandboxSpec, SandboxStats } from './backends/types.ts';
export { backendNames, getBackend, listBackends } from './backends/registry.ts';
export { bwrapBackend } from './backends/bwrap.ts';
export { processBackend } from './backends/process.ts';
export {
  destroyAllSandboxes,
  liveSandboxes,
  makeSandboxTempDir,
  newResources,
  reclaimSync,
  trackSandbox,
  untrackSandbox,
  type DestroyAllResult,
  type SandboxResources,
  type TrackedSandbox,
} from './cleanup.ts';
