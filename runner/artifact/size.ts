/**
 * An artifact's size limit (DESIGN: artifacts stay under 2 MB; micro-benchmarks
 * keep batches, not calls) and what makes an artifact large. Rig validation
 * (runner/rig/semantic.ts) refuses a rig that could exceed it; writing refuses
 * an artifact that does, naming its largest metrics.
 */
import { InputError } from '../../base/errors.ts';
import type { Artifact } from './schema.ts';

export const MAX_ARTIFACT_BYTES = 2_000_000;
/**
 * The largest artifact (or hyperfine export) read: far above what rigor writes,
 * so artifacts made elsewhere and gate/compare of two 1,000,000-sample
 * artifacts (~30 MB each as written, SAMPLE_BYTES a sample) are read, while a
 * file of gigabytes is refused by its size before it is read.
 */
export const MAX_ARTIFACT_READ_BYTES = 64_000_000;
/** What one raw sample costs in the written JSON at most: indent, up to 21 characters, comma, newline (27–29 bytes in committed artifacts). */
export const SAMPLE_BYTES = 30;
/** What a batch's call count adds beside its sample (batch_iterations). */
export const BATCH_ITERATION_BYTES = 18;
/** How many of the largest metrics a refusal names. */
const NAMED = 3;

/** The artifact as it is written: indented by one space, so every sample is a line of its own. */
export function artifactText(artifact: Artifact): string {
  return `${JSON.stringify(artifact, null, 1)}\n`;
}

export interface MetricSize {
  cell: string;
  metric: string;
  bytes: number;
  samples: number;
}

/** The bytes each cell's metric takes in artifactText, largest first. */
export function metricSizes(artifact: Artifact): MetricSize[] {
  const sizes = artifact.cells.flatMap((cell) =>
    Object.entries(cell.metrics).map(([metric, result]) => {
      const alone = JSON.stringify(result, null, 1);
      const lines = alone.split('\n').length;
      // A metric sits four levels deep (artifact, cells, cell, metrics): each line after its first carries 4 more spaces than alone, and its key line 4 + "name": .
      const bytes = Buffer.byteLength(alone) + 4 * (lines - 1) + 4 + Buffer.byteLength(JSON.stringify(metric)) + 2;
      return { cell: cell.id, metric, bytes, samples: result.samples.length };
    }),
  );
  return sizes.sort((a, b) => b.bytes - a.bytes);
}

const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;

/** Throws an InputError naming the largest metrics when `text` (artifactText of artifact) is over MAX_ARTIFACT_BYTES. */
export function assertArtifactSize(artifact: Artifact, text: string, label: string): void {
  const bytes = Buffer.byteLength(text);
  if (bytes <= MAX_ARTIFACT_BYTES) return;
  const largest = metricSizes(artifact)
    .slice(0, NAMED)
    .map((size) => `  cell ${size.cell}, metric ${size.metric}: ${megabytes(size.bytes)} (${size.samples} samples)`);
  throw new InputError(
    [
      `${label}: artifact is ${megabytes(bytes)}, over the ${MAX_ARTIFACT_BYTES / 1e6} MB limit, and was not written; largest first:`,
      ...largest,
      'Every raw sample is kept: take fewer (sampling.iterations, max_iterations), or time a sub-microsecond call in batches (a micro-benchmark workload).',
    ].join('\n'),
  );
}
