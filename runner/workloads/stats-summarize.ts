/**
 * `stats.summarize`: how long rigor's own summarize() takes on N seeded
 * samples (it bootstraps, so its cost grows with N and bounds how large a
 * cell can be before reporting gets slow).
 */
import { describeFound } from '../../base/errors.ts';
import { createRng } from '../stats/random.ts';
import { summarize } from '../stats/summary.ts';
import { microWorkload } from './micro.ts';

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
  validateParams(params) {
    const n = params.n;
    if (n === undefined || (Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 1_000_000)) return [];
    return [`params.n: expected an integer from 1 to 1000000, found ${describeFound(n)}`];
  },
  tasks(params) {
    const samples = seededSamples((params.n as number | undefined) ?? DEFAULT_N);
    return { summarize: () => summarize(samples) };
  },
});
