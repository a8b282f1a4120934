/**
 * `stats.summarize`: how long rigor's own summarize() takes on N seeded
 * samples (it bootstraps, so its cost grows with N and bounds how large a
 * cell can be before reporting gets slow).
 */
import { createRng } from '../stats/random.ts';
import { summarize } from '../stats/summary.ts';
import { microWorkload } from './micro.ts';
import { wholeNumber } from './param-checks.ts';

/** Default sample count; a cell picks another with params.n. */
const DEFAULT_N = 1000;
/** Fixed seed: every cell times the same data. */
const SEED = 20240601;

/** n log-normal-ish positive samples around 1 ms, the shape timing samples have. */
export function seededSamples(n: number, seed = SEED): number[] {
  const random = createRng(seed);
  return Array.from({ length: n }, () => Math.exp((random() + random() + random() - 1.5) * 0.5));
}

export const statsSummarizeWorkload = microWorkload({
  name: 'stats.summarize',
  description: 'times runner/stats summarize() on params.n seeded samples (in process, in batches)',
  params: { n: wholeNumber({ unit: 'samples', most: 1_000_000 }).optional() },
  taskNames: ['summarize'],
  tasks(params) {
    const samples = seededSamples((params.n as number | undefined) ?? DEFAULT_N);
    return { summarize: () => summarize(samples) };
  },
});
