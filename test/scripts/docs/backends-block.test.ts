/** The README's backend table is what scripts/docs/backends-block.ts makes from the newest lifecycle artifact. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderBackends, renderBackendsBlock, whatRan } from '../../../scripts/docs/backends-block.ts';
import { README } from '../../../scripts/docs/calibration-block.ts';
import { buildArtifact } from '../../helpers/artifact-builder.ts';

describe('README backend table', () => {
  it('matches the newest lifecycle artifact (regenerate with `npm run docs`)', () => {
    const committed = readFileSync(README, 'utf8');
    expect(committed === renderBackendsBlock(committed), `${README} is stale: run \`npm run docs\` and commit it`).toBe(true);
  });

  it('says which engine, runtime and platform ran, from the facts alone', () => {
    expect(
      whatRan({ engine: { cli: 'docker', server_version: '20.10.24', managed: 'private', storage_driver: 'overlay2', cgroup_driver: 'cgroupfs', userns: 'remap', runtime: 'runsc', platform: 'ptrace' } }),
    ).toBe("docker 20.10.24 (rigor's private daemon), overlay2, cgroupfs cgroups, userns remap; runtime runsc (platform ptrace)");
    expect(whatRan({ gvisor: { runsc_version: '0.0~20221219.0', platform: 'ptrace' } })).toBe('runsc 0.0~20221219.0, platform ptrace');
    expect(whatRan({ accel: 'tcg', guest: { kernel: { version: '6.1.192-rigor' } } })).toBe('qemu under TCG, guest kernel 6.1.192-rigor');
    expect(whatRan({})).toBe('');
  });

  it('gives each cell its row: a skipped one with its reason, a variant with its option, one sandbox at a time only', () => {
    const artifact = buildArtifact({
      rig: 'lifecycle',
      cells: [
        { params: { backend: 'bwrap', concurrency: 1 }, samples: { total_ms: [9, 10, 11] } },
        { params: { backend: 'bwrap', concurrency: 4 }, samples: { total_ms: [30, 31, 32] } },
        { params: { backend: 'docker', concurrency: 1, runtime: 'runsc' }, samples: { total_ms: [300, 310, 320] } },
        { params: { backend: 'podman', concurrency: 1 }, status: 'skipped', reason: 'backend podman unavailable: podman not on PATH' },
      ],
      metrics: { total_ms: { unit: 'ms', better: 'lower', clock: 'a -> b' } },
    });
    artifact.cells[0]!.facts = { isolation: { seccomp: 'rigor-default-v1', commandUid: 1000, commandHostUid: 1500000001, limits: { pids: 1024, memoryMiB: 2048, workspaceMiB: 1024 } } };
    artifact.cells[2]!.facts = { engine: { cli: 'docker', server_version: '20.10.24', managed: 'user', runtime: 'runsc' } };
    const lines = renderBackends(artifact, 'results/lifecycle/x.json');
    const rows = lines.filter((line) => line.startsWith('| `'));
    expect(rows).toEqual([
      '| `bwrap` | — | 1000 → host 1500000001 | rigor-default-v1 | pids 1024, 2048 MiB, workspace 1024 MiB | 10 ms |',
      "| `docker` (runtime runsc) | docker 20.10.24 (the user's engine); runtime runsc | not recorded | not recorded | not recorded | 310 ms |",
      '| `podman` | skipped: backend podman unavailable: podman not on PATH | — | — | — | — |',
    ]);
    expect(lines.join('\n')).toContain('[artifact](results/lifecycle/x.json)');
  });
});
