/**
 * Schema-valid artifacts from a few parameters, for tests of anything that
 * reads artifacts (compare, gate, site). Summaries are computed from the
 * samples unless a test overrides them (to prove they are not trusted).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARTIFACT_SCHEMA_ID, type Artifact, type CellResult, type Summary } from '../../runner/artifact/schema.ts';
import { withFingerprintId, type FingerprintFields } from '../../runner/host/fingerprint.ts';
import { cellId } from '../../runner/rig/matrix.ts';
import { RigFile, type MetricDef, type RigInput, type Scalar } from '../../runner/rig/schema.ts';
import { evaluateGates } from '../../runner/gate/evaluate.ts';
import { computeRatios } from '../../runner/run/ratios.ts';
import { createRng, summarize, summarizeBatches } from '../../runner/stats/index.ts';

export interface CellSpec {
  params: Record<string, Scalar>;
  status?: 'ok' | 'skipped' | 'failed';
  reason?: string;
  /** Raw samples per metric name; a metric left out is recorded with no samples. */
  samples?: Record<string, number[]>;
  /** Replaces the computed summary of a metric (a "hand-edited" artifact). */
  summaries?: Record<string, Summary>;
  /** Calls per batch of a batched metric (its samples are then time per call); the slope is fitted from them. */
  batches?: Record<string, number[]>;
}

export interface ArtifactSpec {
  rig?: string;
  hostId?: string;
  cpuModel?: string;
  /** Fields of host.fingerprint over the defaults; the host block's CPU model, kernel and memory follow them. */
  fingerprint?: Partial<FingerprintFields>;
  /** An artifact written before rigor recorded fingerprints: no host.fingerprint. */
  withoutFingerprint?: boolean;
  commit?: string | null;
  startedAt?: string;
  status?: 'complete' | 'interrupted' | 'failed';
  /** run.overrides, as --set and --iterations record them. */
  overrides?: Record<string, unknown>;
  /** run.trial: a try-out (rigor run --trial). */
  trial?: boolean;
  /** sampling.iterations of the rig (default the schema's). */
  iterations?: number;
  /** rig.sha256; default a hash of the definition (so rigs whose cells differ differ). */
  rigSha256?: string;
  /** Default: one metric `time_ms` (ms, lower is better). */
  metrics?: Record<string, MetricDef>;
  gates?: RigInput['gates'];
  /** Ratios of two cells; the artifact's `ratios` are computed from the samples, as a run does. */
  ratios?: RigInput['ratios'];
  cells: CellSpec[];
}

export const TIME_MS: Record<string, MetricDef> = {
  time_ms: { unit: 'ms', better: 'lower', clock: 'spawn() called -> child exited' },
};

/** n log-normal samples with the given median and coefficient of variation, from a seeded generator. */
export function lognormalSamples(n: number, median: number, cv: number, seed: number): number[] {
  const rng = createRng(seed);
  const sigma = Math.sqrt(Math.log(1 + cv * cv));
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    // Box-Muller: two uniforms to one standard normal (1 - u keeps log away from 0).
    const z = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
    out.push(median * Math.exp(sigma * z));
  }
  return out;
}

export function buildArtifact(spec: ArtifactSpec): Artifact {
  const name = spec.rig ?? 'synthetic';
  const metrics = spec.metrics ?? TIME_MS;
  const matrix: Record<string, Scalar[]> = {};
  for (const cell of spec.cells) {
    for (const [key, value] of Object.entries(cell.params)) {
      const values = (matrix[key] ??= []);
      if (!values.includes(value)) values.push(value);
    }
  }
  const definition = RigFile.parse({
    name,
    title: `Synthetic rig ${name}`,
    claim: 'Numbers made up by a test.',
    workload: 'command',
    matrix,
    metrics,
    gates: spec.gates ?? [],
    ...(spec.ratios && { ratios: spec.ratios }),
    ...(spec.iterations !== undefined && { sampling: { iterations: spec.iterations } }),
  });
  const startedAt = spec.startedAt ?? '2025-01-01T00:00:00.000Z';
  const cells: CellResult[] = spec.cells.map((cell) => ({
    id: cellId(cell.params),
    params: cell.params,
    status: cell.status ?? 'ok',
    ...(cell.reason !== undefined && { reason: cell.reason }),
    concurrency: 1,
    warmup: 1,
    metrics: Object.fromEntries(
      Object.entries(metrics).map(([metric, def]) => {
        const samples = cell.samples?.[metric] ?? [];
        const batches = cell.batches?.[metric];
        const summary = cell.summaries?.[metric] ?? summarize(samples);
        return [metric, batches ? { ...def, samples, batch_iterations: batches, summary, slope: summarizeBatches(batches, samples) } : { ...def, samples, summary }];
      }),
    ),
  }));
  const fingerprint: FingerprintFields = {
    cpu_model: spec.cpuModel ?? 'Test CPU @ 2.0GHz',
    cpu_flags_sha256: createHash('sha256').update('fpu hypervisor sse sse2').digest('hex'),
    microcode: '0x1',
    logical_cpus: 2,
    kernel_release: '6.1.0-test',
    kernel_build: '#1 SMP',
    dmi: null,
    memory_total_mib: 4096,
    virtualization: 'kvm',
    ...spec.fingerprint,
  };
  const artifact: Artifact = {
    schema: ARTIFACT_SCHEMA_ID,
    tool: { name: 'rigor', version: '0.1.0' },
    rig: {
      name,
      path: `rigs/${name}.rig.yaml`,
      sha256: spec.rigSha256 ?? createHash('sha256').update(JSON.stringify(definition)).digest('hex'),
      definition,
    },
    run: {
      id: `${name}-${startedAt}`,
      command_line: ['rigor', 'run', name],
      started_at: startedAt,
      finished_at: startedAt,
      status: spec.status ?? 'complete',
      overrides: spec.overrides ?? {},
      ...(spec.trial && { trial: true }),
    },
    git: { commit: spec.commit === undefined ? 'abcdef0123456789abcdef0123456789abcdef01' : spec.commit, branch: 'main', dirty: false, dirty_paths: [] },
    host: {
      id: spec.hostId ?? 'test-host',
      hostname: spec.hostId ?? 'test-host',
      os: { id: 'debian', version_id: '12', pretty_name: 'Debian GNU/Linux 12 (bookworm)' },
      kernel: { release: fingerprint.kernel_release, version: fingerprint.kernel_build },
      arch: 'x64',
      cpu: { model: fingerprint.cpu_model ?? 'unknown', logical_cpus: fingerprint.logical_cpus },
      memory: { total_bytes: fingerprint.memory_total_mib * 2 ** 20, available_bytes: 2 * 2 ** 30 },
      load: { before: [0.1, 0.1, 0.1], after: [0.2, 0.1, 0.1] },
      cpu_governor: null,
      node: 'v20.0.0',
      tools: {},
      virtualization: { kvm: { status: 'absent', reason: 'no /dev/kvm', probe_ms: null, cached: false } },
      warnings: [],
      ...(!spec.withoutFingerprint && { fingerprint: withFingerprintId(fingerprint) }),
    },
    environment: {},
    cells,
    gates: [],
    ...(definition.ratios && { ratios: computeRatios(definition.ratios, cells) }),
  };
  // As a run stores them: judged on the samples, a relative gate waiting for a baseline.
  artifact.gates = evaluateGates(definition.gates, definition.metrics, artifact);
  return artifact;
}

/** Write an artifact under dir/<rig>/ with a file name like the runner's; returns the path. */
export function writeArtifactFile(dir: string, artifact: Artifact): string {
  const stamp = artifact.run.started_at.replace(/[-:]/g, '').replace(/\.\d+/, '');
  const rigDir = join(dir, artifact.rig.name);
  mkdirSync(rigDir, { recursive: true });
  const path = join(rigDir, `${stamp}_${(artifact.git.commit ?? 'nocommit').slice(0, 7)}_${artifact.host.id}.json`);
  writeFileSync(path, `${JSON.stringify(artifact, null, 2)}\n`);
  return path;
}
