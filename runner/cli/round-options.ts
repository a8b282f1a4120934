/** The round settings `rigor run --interleave` and `rigor ab` share, read from their command lines. */
import { InputError } from '../../base/errors.ts';
import { freshSeed, type RoundOptions } from '../interleave/schedule.ts';

/** --rounds, --per-round and --seed, as `rigor run --interleave` and `rigor ab` take them. */
export function roundOptions(args: Record<string, unknown>): RoundOptions {
  for (const name of ['rounds', 'per-round', 'seed'] as const) {
    const value = args[name];
    const least = name === 'seed' ? 0 : 1;
    if (value !== undefined && !(Number.isInteger(value) && (value as number) >= least)) {
      throw new InputError(`--${name}: expected a whole number >= ${least}, found ${String(value)}`);
    }
  }
  return {
    seed: (args.seed as number | undefined) ?? freshSeed(),
    ...(args.rounds !== undefined ? { rounds: args.rounds as number } : {}),
    ...(args['per-round'] !== undefined ? { perRound: args['per-round'] as number } : {}),
  };
}
