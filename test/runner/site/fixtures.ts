/** Artifacts and rig files for the site tests: a rig with every kind of cell, run twice, and a rig never run. */
import type { Artifact } from '../../../runner/artifact/schema.ts';
import { parseRig } from '../../../runner/rig/load.ts';
import type { ArtifactInput } from '../../../runner/site/model/artifact-ref.ts';
import type { Shown } from '../../../runner/site/model/source.ts';
import type { RigInput } from '../../../runner/site/model/rig-page.ts';
import { buildArtifact, lognormalSamples } from '../../helpers/artifact-builder.ts';

export const METRICS = {
  ready_ms: { unit: 'ms', better: 'lower' as const, clock: 'create() called -> agent answered ping' },
  total_ms: { unit: 'ms', better: 'lower' as const, clock: 'create() called -> destroy() returned' },
  exec_ms: { unit: 'ms', better: 'lower' as const, clock: 'exec() called -> result decoded' },
};

export const DEMO_RIG_YAML = `name: demo
title: Demo lifecycle
claim: A rig whose cells ran, were skipped, produced nothing, or were never captured.
workload: command
matrix:
  backend: [process, qemu, docker, partial, later]
metrics:
  ready_ms: { unit: ms, better: lower, clock: "create() called -> agent answered ping" }
  total_ms: { unit: ms, better: lower, clock: "create() called -> destroy() returned" }
  exec_ms: { unit: ms, better: lower, clock: "exec() called -> result decoded" }
gates:
  - { metric: total_ms, stat: median, max: 5000 }
published:
  - { publisher: elsewhere, source: "owner/repo/BENCHMARK.md", host: a laptop, measures: "create to destroy, mean of 10", metric: total_ms, where: { backend: process }, stat: mean, value: 4, unit: ms }
`;

export const NEVER_RUN_RIG_YAML = `name: never-run
title: A rig nobody ran yet
claim: Shown on the index as not captured yet.
workload: command
metrics:
  wall_ms: { unit: ms, better: lower, clock: "fork requested -> child exited" }
`;

export const DOCKER_REASON = 'backend docker unavailable: no engine answers';
export const NOT_COLD_WHY = "/usr/bin/node is mapped by rigor's own process (pid 10): drop_caches cannot evict the pages a live process maps, so every run found them cached";

/** One run of the demo rig: process fast, qemu three orders of magnitude slower (TCG), docker skipped, partial without exec_ms. */
export function demoArtifact(startedAt: string, commit: string, slowdown = 1): Artifact {
  const artifact = buildArtifact({
    rig: 'demo',
    startedAt,
    commit,
    metrics: METRICS,
    gates: [{ metric: 'total_ms', stat: 'median', max: 5000 }],
    cells: [
      {
        params: { backend: 'process' },
        samples: {
          ready_ms: lognormalSamples(20, 3 * slowdown, 0.05, 1),
          total_ms: lognormalSamples(20, 5 * slowdown, 0.05, 2),
          exec_ms: lognormalSamples(20, 1, 0.05, 3),
        },
      },
      {
        params: { backend: 'qemu' },
        samples: {
          ready_ms: lognormalSamples(6, 1400, 0.05, 4),
          total_ms: lognormalSamples(6, 1450, 0.05, 5),
          exec_ms: lognormalSamples(6, 13, 0.05, 6),
        },
      },
      { params: { backend: 'docker' }, status: 'skipped', reason: DOCKER_REASON },
      { params: { backend: 'partial' }, samples: { ready_ms: [2, 2.5, 3], total_ms: [4, 4.5, 5] } },
    ],
  });
  artifact.cells[1]!.facts = { accel: 'tcg' };
  artifact.cells[3]!.facts = { cold: { cold: false, why: NOT_COLD_WHY } };
  return artifact;
}

export const OLDER = 'results/demo/20250101T000000Z_aaaaaaa_test-host.json';
export const NEWER = 'results/demo/20250102T000000Z_bbbbbbb_test-host.json';

/** Newer first in time, given in the wrong order on purpose. */
export function demoArtifacts(): ArtifactInput[] {
  return [
    { path: NEWER, artifact: demoArtifact('2025-01-02T00:00:00.000Z', 'b'.repeat(40), 1.5) },
    { path: OLDER, artifact: demoArtifact('2025-01-01T00:00:00.000Z', 'a'.repeat(40)) },
  ];
}

export function rigInput(yaml: string, name: string): RigInput {
  const path = `rigs/${name}.rig.yaml`;
  const { rig, sha256 } = parseRig(yaml, path);
  return { name, path, source: yaml, loaded: { rig, sha256 } };
}

/** RFC 6901 resolution written out here, independent of the code under test. */
export function resolve(document: unknown, pointer: string): unknown {
  return pointer
    .split('/')
    .slice(1)
    .map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], document);
}

/** Every sourced number anywhere in a page model. */
export function shownIn(node: unknown, found: Shown[] = []): Shown[] {
  if (node === null || typeof node !== 'object') return found;
  if ('artifactPath' in node && 'pointer' in node && 'value' in node) found.push(node as Shown);
  for (const child of Object.values(node)) shownIn(child, found);
  return found;
}
