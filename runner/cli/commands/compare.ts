/** `rigor compare <a> <b>`: two artifacts side by side. Information, not a gate: exit 0. */
import { readArtifact } from '../../artifact/read.ts';
import { INCLUDE_INCOMPLETE_HELP, resolveArtifactArgument } from '../../compare/artifact-argument.ts';
import { compareArtifacts, DEFAULT_ALPHA } from '../../compare/compare.ts';
import { formatComparison } from '../../compare/format.ts';
import { InputError } from '../../../base/errors.ts';
import type { RigorCommand } from '../command.ts';

export const compareCommand: RigorCommand = {
  command: 'compare <a> <b>',
  describe: 'Compare two artifacts cell by cell (B against A); an artifact is a file or a rig name (its newest run)',
  builder: (yargs) =>
    yargs
      .positional('a', { type: 'string', describe: 'baseline artifact: a file, or a rig name (its newest complete run before B when B names the same rig)' })
      .positional('b', { type: 'string', describe: 'candidate artifact: a file, or a rig name for its newest complete run in results/<rig>/' })
      .option('json', { type: 'boolean', default: false, describe: 'print the comparison as JSON' })
      .option('alpha', { type: 'number', default: DEFAULT_ALPHA, describe: "significance level: better/worse needs p < alpha, and a change beyond the metric's noise threshold" })
      .option('include-incomplete', { type: 'boolean', default: false, describe: INCLUDE_INCOMPLETE_HELP })
      .example('$0 compare results/startup/A.json results/startup/B.json', 'two runs, cell by cell')
      .example('$0 compare startup startup', 'the newest startup run against the one before it'),
  handler: async (args) => {
    const alpha = Number(args.alpha);
    if (!(alpha > 0 && alpha < 1)) throw new InputError(`--alpha: expected a number between 0 and 1, found ${String(args.alpha)}`);
    const resolving = { verb: 'compare', includeIncomplete: Boolean(args.includeIncomplete ?? args['include-incomplete']) };
    const pathB = resolveArtifactArgument(String(args.b), resolving);
    const pathA = resolveArtifactArgument(String(args.a), { ...resolving, ...(args.a === args.b && { exclude: pathB }) });
    const comparison = compareArtifacts(readArtifact(pathA), readArtifact(pathB), { alpha, labels: { a: pathA, b: pathB } });
    if (args.json) {
      process.stdout.write(`${JSON.stringify(comparison, null, 2)}\n`);
    } else {
      // In a log (not a terminal) nothing is truncated: there is no width to fit.
      const maxWidth = process.stdout.isTTY ? process.stdout.columns : Infinity;
      process.stdout.write(`${formatComparison(comparison, { maxWidth })}\n`);
    }
    return 0;
  },
};
