/**
 * `rigor ab <rig> --base <ref> [--head <ref>]`: two commits measured side by
 * side in one interleaved run, judged by the paired gate. Exit 0 pass,
 * 1 regression (or a failed cell), 2 usage or input error, 130 interrupted.
 */
import { relative } from 'node:path';
import { InputError } from '../../../base/errors.ts';
import { runAb } from '../../ab/run-ab.ts';
import { SideError } from '../../ab/side-worker.ts';
import { roundOptions } from '../round-options.ts';
import { DEFAULT_WIDTH, formatResultsMatrix } from '../../report/results-matrix.ts';
import { formatAbTable } from '../../report/ab-table.ts';
import { gateMarkdown } from '../../gate/markdown.ts';
import { ratioGoals } from '../../gate/ratio-goals.ts';
import { findUnchecked, strictExitCode, strictMode } from '../../gate/strict.ts';
import { STRICT_HELP, uncheckedBlock } from '../../gate/strict-report.ts';
import { exitCodeFor, listenForInterrupt } from '../../run/interrupt.ts';
import { createProgress } from '../../run/progress.ts';
import type { RigorCommand } from '../command.ts';

export const abCommand: RigorCommand = {
  command: 'ab <rig>',
  describe: 'Measure two commits side by side in one interleaved run and gate the head against the base (paired)',
  builder: (yargs) =>
    yargs
      .positional('rig', { type: 'string', describe: 'rig name: each side runs its own rigs/<name>.rig.yaml', demandOption: true })
      .option('base', { type: 'string', demandOption: true, describe: 'git ref of the base side (a worktree of it is made)' })
      .option('head', { type: 'string', describe: 'git ref of the head side (default: this checkout, uncommitted changes included)' })
      .option('set', { type: 'string', array: true, default: [], describe: 'key=value, as for rigor run, on both sides' })
      .option('iterations', { type: 'number', describe: 'samples per cell and side, overriding the rig' })
      .option('rounds', { type: 'number', describe: 'rounds (default min(20, iterations))' })
      .option('per-round', { type: 'number', describe: 'samples per cell and side per round (default ⌈iterations / rounds⌉)' })
      .option('seed', { type: 'number', describe: 'seed of the round order (default: a fresh one, recorded)' })
      .option('max-seconds', { type: 'number', describe: 'stop at the end of the round in which this much time has passed' })
      .option('out', { type: 'string', describe: 'directory for the artifact (default results/<rig>/ab/)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the artifact as JSON' })
      .option('markdown', { type: 'boolean', default: false, describe: 'print the gate results as GitHub-flavoured markdown (for $GITHUB_STEP_SUMMARY)' })
      .option('quiet', { type: 'boolean', default: false, describe: 'no progress output' })
      .option('strict', { type: 'boolean', describe: STRICT_HELP })
      .example('$0 ab startup --base origin/main', 'this checkout against main, one interleaved run')
      .example('$0 ab startup --base HEAD~1 --head HEAD --set cache=warm', 'two commits, warm cells only'),
  handler: async (args) => {
    for (const name of ['iterations', 'max-seconds'] as const) {
      const value = args[name];
      if (value !== undefined && !(Number.isFinite(value) && value > 0 && (name === 'max-seconds' || Number.isInteger(value)))) {
        throw new InputError(`--${name}: expected a ${name === 'max-seconds' ? 'number' : 'whole number'} > 0, found ${String(value)}`);
      }
    }
    const rounds = roundOptions(args);
    if (typeof args.base !== 'string' || args.base === '') throw new InputError('--base: expected a git ref, found nothing');
    if (args.json && args.markdown) throw new InputError('--json and --markdown: expected one output format, found both');
    const progress = createProgress(process.stderr, Boolean(args.quiet));
    const interrupt = listenForInterrupt((signal) => progress.note(`\nrigor ab: ${signal} received: stopping both sides, writing what was measured`));
    try {
      const { artifact, path } = await runAb({
        root: process.cwd(),
        rig: String(args.rig),
        base: args.base,
        ...(args.head !== undefined ? { head: String(args.head) } : {}),
        sets: args.set as string[],
        ...(args.iterations !== undefined ? { iterations: args.iterations as number } : {}),
        rounds,
        ...(args['max-seconds'] !== undefined ? { maxSeconds: args['max-seconds'] as number } : {}),
        ...(args.out !== undefined ? { outDir: String(args.out) } : {}),
        commandLine: ['rigor', ...process.argv.slice(2)],
        progress,
        signal: interrupt.signal,
      });
      const shown = relative(process.cwd(), path);
      if (args.json) process.stdout.write(`${JSON.stringify(artifact, null, 1)}\n`);
      else if (args.markdown) {
        const base = artifact.ab!.base;
        process.stdout.write(
          gateMarkdown(artifact.gates, {
            rig: artifact.rig.name,
            candidate: shown,
            baseline: `base side ${base.ref} (${base.commit?.slice(0, 12) ?? 'no commit'}) of the same run`,
            method: 'paired — both sides in shuffled rounds of one run (Wilcoxon signed-rank on per-round log ratios, Holm)',
            warnings: artifact.host.warnings,
          }),
        );
      } else {
        const maxWidth = process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : DEFAULT_WIDTH;
        process.stdout.write(`\n${formatAbTable(artifact, { maxWidth })}\n\n${formatResultsMatrix(artifact, { maxWidth, artifactPath: shown, baseline: null })}\n\nartifact: ${shown}\n`);
      }
      // Paired gates judge every gate, relative ones included: what they did not check is judged as `rigor gate` judges it.
      const mode = strictMode(args.strict as boolean | undefined, process.env);
      const unchecked = findUnchecked({ verb: 'gate', gates: artifact.rig.definition.gates, results: artifact.gates, goals: ratioGoals(artifact.ratios), candidate: artifact });
      if (unchecked.length > 0) {
        const width = process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : DEFAULT_WIDTH;
        (args.json || args.markdown ? process.stderr : process.stdout).write(`\n${uncheckedBlock(unchecked, mode, width).join('\n')}\n`);
      }
      const received = interrupt.received();
      if (received) return exitCodeFor(received);
      if (artifact.run.status === 'failed' || artifact.cells.some((c) => c.status === 'failed') || artifact.ab!.base_cells.some((c) => c.status === 'failed')) return 1;
      if (artifact.gates.some((g) => g.verdict === 'fail')) return 1;
      return strictExitCode(unchecked, mode);
    } catch (error) {
      // A side that cannot be set up or run is an input problem of that side, said without a stack.
      if (error instanceof SideError) throw new InputError(`rigor ab: ${error.message}`);
      throw error;
    } finally {
      interrupt.dispose();
    }
  },
};
