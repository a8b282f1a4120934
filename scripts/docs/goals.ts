/**
 * The goals the issues set, each with the rig, cell and metric (or the rig's
 * ratio) that judges it. Only the bounds are written here; every measured
 * value and every verdict comes from the newest committed artifact
 * (scripts/docs/results-doc.ts).
 */

/** A bound on the median of one metric in one cell. */
export interface MedianCheck {
  cell: string;
  metric: string;
  max: number;
}

/** One of the artifact's ratios; its goal is the rig's `ratios[].goal`. */
export interface RatioCheck {
  ratio: string;
}

/** The cells' own verdict, `facts.summary` (harness.fidelity writes one). */
export interface SummaryCheck {
  summaryOf: string;
}

export type GoalCheck = MedianCheck | RatioCheck | SummaryCheck;

export interface Goal {
  goal: string;
  rig: string;
  checks: GoalCheck[];
  /** The goal only applies where KVM is usable: under TCG it is not measured. */
  needsKvm?: boolean;
}

export const GOALS: Goal[] = [
  {
    goal: 'rigor times commands within 5% of hyperfine, < 0.2 ms overhead per sample',
    rig: 'harness',
    checks: [{ summaryOf: 'command=true' }, { summaryOf: 'command=sh -c :' }, { summaryOf: 'command=echo hello' }],
  },
  {
    goal: 'warm exec round trip p50 ≤ 1 ms (process, bwrap, runc)',
    rig: 'exec',
    checks: ['process', 'bwrap', 'runc'].map((b) => ({ cell: `backend=${b},agent=native`, metric: 'roundtrip_ms', max: 1 })),
  },
  {
    goal: 'pool acquire → first output p50 ≤ 2 ms',
    rig: 'pool',
    checks: ['process', 'bwrap', 'runc', 'qemu'].map((b) => ({ cell: `backend=${b},concurrency=1`, metric: 'first_output_ms', max: 2 })),
  },
  {
    goal: 'bwrap ≤ 2 MiB per idle sandbox at N = 100',
    rig: 'density',
    checks: [{ cell: 'backend=bwrap,n=100', metric: 'pss_per_sandbox_mib', max: 2 }],
  },
  {
    goal: 'bwrap cold lifecycle p50 ≤ 1.5× bare `bwrap echo`, same run',
    rig: 'baseline-tools',
    checks: [{ ratio: 'bwrap_launcher_over_bare' }],
  },
  {
    goal: 'every launcher ≤ 1.5× its bare tool doing the same work (bwrap, runc, runsc do, docker and podman run --rm, a qemu boot), same run',
    rig: 'baseline-tools',
    checks: ['runc', 'gvisor', 'docker', 'podman', 'qemu'].map((b) => ({ ratio: `${b}_launcher_over_bare` })),
  },
  {
    goal: 'warm exec round trip through the agent p50 ≤ 2 ms (docker, podman, gvisor)',
    rig: 'exec',
    checks: ['docker', 'podman', 'gvisor'].map((b) => ({ cell: `backend=${b},agent=native`, metric: 'roundtrip_ms', max: 2 })),
  },
  {
    goal: 'pool acquire → first output p50 ≤ 2 ms on the container backends, where their pause allows',
    rig: 'pool',
    checks: ['docker', 'podman', 'gvisor'].map((b) => ({ cell: `backend=${b},concurrency=1`, metric: 'first_output_ms', max: 2 })),
  },
  {
    goal: 'policy: last match across 100 rules ≤ 5 µs',
    rig: 'policy',
    checks: [
      { cell: 'task=last-of-100,impl=cel', metric: 'call_ms', max: 0.005 },
      { cell: 'task=last-of-100-unindexed,impl=cel', metric: 'call_ms', max: 0.005 },
    ],
  },
  {
    goal: 'intercepted download ≥ 50% of direct loopback TLS, and ≥ 3× mitmproxy’s, same run',
    rig: 'proxy',
    checks: [{ ratio: 'direct-over-intercept-download' }, { ratio: 'mitmproxy-over-intercept-download' }],
  },
  {
    goal: 'guest kernel under TCG, best preset: launch → agent-ready ≤ 0.8 s',
    rig: 'kernel-boot',
    checks: ['microvm', 'pc'].map((m) => ({ cell: `kernel=rigor,machine=${m},cmdline=best`, metric: 'launch_to_ready_ms', max: 800 })),
  },
  {
    goal: 'guest kernel under KVM: launch → agent-ready ≤ 100 ms',
    rig: 'kernel-boot',
    needsKvm: true,
    checks: [{ cell: 'kernel=rigor,machine=microvm,cmdline=best', metric: 'launch_to_ready_ms', max: 100 }],
  },
  {
    goal: "a fleet run's own overhead (all but the hosts' measuring) ≤ 10 s at 16 hosts, growing no worse than linearly with the hosts, forks fixed",
    rig: 'fleet',
    checks: [{ cell: 'task=fleet-16', metric: 'overhead_ms', max: 10_000 }, { ratio: 'fleet_4_over_1' }, { ratio: 'fleet_16_over_4' }],
  },
  {
    goal: '1,000 artifacts → site ≤ 10 s; compare of two 10,000-sample artifacts ≤ 1 s (CLI start to exit)',
    rig: 'site-build',
    checks: [
      { cell: 'task=site-1000-artifacts', metric: 'wall_ms', max: 10_000 },
      { cell: 'task=compare-10000-samples', metric: 'wall_ms', max: 1_000 },
    ],
  },
];
