import { defineConfig } from 'vitest/config';

/**
 * Tests that drive real sandboxes (bwrap, runc, qemu and the guest kernel the
 * global setup builds), Chromium, the kernel source, or simulated fleet hosts
 * (sshd and ansible-playbook). Everything else is the
 * `unit` project: pure code and fast local processes, the quick loop
 * (`npm run test:unit`).
 */
const INTEGRATION = [
  'test/sandbox-core/{backends,cleanup,egress,images,isolation,pool,seccomp,kvm}/**/*.test.ts',
  'test/sandbox-core/cleanup.test.ts',
  'test/sandbox-core/e2b/conformance.test.ts',
  'test/runner/workloads/sandbox.test.ts',
  'test/runner/workloads/sandbox/**/*.test.ts',
  'test/runner/workloads/egress/bypass-workload.test.ts',
  'test/runner/workloads/kill/battery.test.ts',
  'test/runner/workloads/engine-cycle/engines.test.ts',
  'test/kernel/{build,apply-patches}.test.ts',
  'test/runner/site/e2e.test.ts',
  'test/runner/ab/run-ab.test.ts',
  'test/docs/benchmark-your-own-commands.test.ts',
  'test/runner/fleet/simulated-fleet.test.ts',
];

const shared = {
  // Integration tests start real processes; this machine has 2 cores.
  testTimeout: 60_000,
  hookTimeout: 60_000,
  pool: 'forks' as const,
  setupFiles: ['test/helpers/engine-teardown.ts'],
};

export default defineConfig({
  test: {
    maxWorkers: 2,
    projects: [
      { test: { ...shared, name: 'unit', include: ['test/**/*.test.ts'], exclude: INTEGRATION, globalSetup: ['test/global-setup.ts'] } },
      { test: { ...shared, name: 'integration', include: INTEGRATION, globalSetup: ['test/global-setup.ts', 'test/kernel-setup.ts'] } },
    ],
  },
});
