/** `rigor run <rig>`: measure a rig and write its artifact. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { readRigResults } from '../../artifact/read.ts';
import { InputError } from '../../../base/errors.ts';
import { resolveArtifact } from '../../compare/artifact-argument.ts';
import { whyIncomplete } from '../../compare/incomplete.ts';
import { ratioGoals } from '../../gate/ratio-goals.ts';
import { findUnchecked, strictExitCode, strictMode } from '../../gate/strict.ts';
import { STRICT_HELP, uncheckedBlock } from '../../gate/strict-report.ts';
import { DEFAULT_WIDTH, formatResultsMatrix } from '../../report/results-matrix.ts';
import { formatResultsTable } from '../../report/results-table.ts';
import { resolveRigPath } from '../../rig/discover.ts';
import { exitCodeFor, listenForInterrupt } from '../../run/interrupt.ts';
import { createProgress } from '../../run/progress.ts';
import { runRig } from '../../run/run-rig.ts';
import type { InterleaveOptions } from '../../run/execute-interleaved.ts';
import { roundOptions } from '../round-options.ts';
import type { RigorCommand } from '../command.ts';

export const runCommand: RigorCommand = {
  command: 'run <rig>',
  describe: 'Run a rig and write its artifact to results/<rig>/',
  builder: (yargs) =>
    yargs
      .positional('rig', { type: 'string', describe: 'rig name (rigs/<name>.rig.yaml) or path', demandOption: true })
      .option('set', {
        type: 'string',
        array: true,
        default: [],
        describe: 'key=value: pin a matrix axis (backend=bwrap) or set a param (params.x=1, sampling.warmup=0)',
      })
      .option('iterations', { type: 'number', describe: 'samples per cell, overriding the rig' })
      .option('out', { type: 'string', describe: 'directory for the artifact (default results/<rig>/)' })
      .option('trial', {
        type: 'boolean',
        default: false,
        describe: 'a try-out: the artifact goes to a new temp directory (or --out), is marked run.trial, and is never taken as the newest run of the rig',
      })
      .option('json', { type: 'boolean', default: false, describe: 'print the artifact as JSON instead of the table' })
      .option('verbose', {
        type: 'boolean',
        default: false,
        describe: 'print a row per cell and metric (p95, CV, outliers, exact CI) and every reason and gate in full',
      })
      .option('quiet', { type: 'boolean', default: false, describe: 'no progress output' })
      .option('interleave', {
        type: 'boolean',
        default: false,
        describe: 'measure the cells in shuffled rounds (k samples each per round) so drift of the host lands on all alike',
      })
      .option('rounds', { type: 'number', describe: 'with --interleave: rounds (default min(20, iterations))' })
      .option('per-round', { type: 'number', describe: 'with --interleave: samples per cell per round (default ⌈iterations / rounds⌉)' })
      .option('seed', { type: 'number', describe: 'with --interleave: seed of the round order (default: a fresh one, recorded)' })
      .option('strict', { type: 'boolean', describe: STRICT_HELP })
      .example('$0 run startup', 'run rigs/startup.rig.yaml')
      .example('$0 run startup --set program=node --iterations 5', 'one axis value, fewer samples')
      .example('$0 run startup --trial --iterations 2', 'try the rig out: written to a temp directory, never a baseline')
      .example('$0 run baseline-tools --interleave', 'the cells in shuffled rounds: in-run ratios share the drift'),
  handler: async (args) => {
    if (args.iterations !== undefined && (!Number.isInteger(args.iterations) || args.iterations < 1)) {
      throw new InputError(`--iterations: expected a whole number >= 1, found ${args.iterations}`);
    }
    const interleave = interleaveOptions(args);
    const rigPath = resolveRigPath(String(args.rig));
    const trial = Boolean(args.trial);
    const outDir = (args.out as string | undefined) ?? (trial ? mkdtempSync(join(tmpdir(), 'rigor-trial-')) : undefined);
    const progress = createProgress(process.stderr, Boolean(args.quiet));
    const interrupt = listenForInterrupt((signal) =>
      progress.note(`\nrigor: ${signal} received: stopping, writing what was measured (again to exit at once)`),
    );
    try {
      const { artifact, path } = await runRig({
        rigPath,
        sets: args.set as string[],
        iterations: args.iterations as number | undefined,
        outDir,
        trial,
        commandLine: ['rigor', ...process.argv.slice(2)],
        progress,
        signal: interrupt.signal,
        ...(interleave ? { interleave } : {}),
      });
      const shown = displayPath(path);
      // Where the artifact went and how compare and gate will treat it: with --json, stdout is the artifact alone.
      const notes = args.json ? process.stderr : process.stdout;
      if (args.json) process.stdout.write(JSON.stringify(artifact, null, 1) + '\n');
      else if (args.verbose) {
        // Cut the table to the terminal's width; in a log or a pipe keep every character.
        const maxWidth = process.stdout.isTTY ? process.stdout.columns : Number.POSITIVE_INFINITY;
        process.stdout.write(`\n${formatResultsTable(artifact, { maxWidth })}\n\nartifact: ${shown}\n`);
      } else {
        // The matrix folds rather than cuts, so in a log or a pipe it keeps to 120 columns too.
        const maxWidth = process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : DEFAULT_WIDTH;
        const baseline = trial ? (completeRunOf(artifact.rig.name) ? artifact.rig.name : undefined) : baselineFor(path, artifact.rig.name);
        process.stdout.write(`\n${formatResultsMatrix(artifact, { maxWidth, artifactPath: shown, baseline })}\n\nartifact: ${shown}\n`);
      }
      const skippedBecause = whyIncomplete(artifact);
      if (skippedBecause) notes.write(`${runNote(artifact.rig.name, skippedBecause, { trial, inTemp: trial && args.out === undefined }, shown)}\n`);
      // What a run can judge alone (absolute gates, ratio goals); relative gates wait for `rigor gate --baseline`.
      const mode = strictMode(args.strict as boolean | undefined, process.env);
      const { gates } = artifact.rig.definition;
      const unchecked = findUnchecked({ verb: 'run', gates, results: artifact.gates, goals: ratioGoals(artifact.ratios), candidate: artifact });
      if (unchecked.length > 0) {
        const width = process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : DEFAULT_WIDTH;
        // --json keeps stdout one JSON document.
        (args.json ? process.stderr : process.stdout).write(`\n${uncheckedBlock(unchecked, mode, width).join('\n')}\n`);
      }
      const received = interrupt.received();
      if (received) return exitCodeFor(received);
      // The artifact is written either way; a failed cell or gate still fails the command.
      if (artifact.run.status === 'failed' || artifact.cells.some((c) => c.status === 'failed')) return 1;
      if (artifact.gates.some((g) => g.verdict === 'fail')) return 1;
      return strictExitCode(unchecked, mode);
    } finally {
      interrupt.dispose();
    }
  },
};

/** --interleave and its settings; the settings alone are a usage error. */
export function interleaveOptions(args: Record<string, unknown>): InterleaveOptions | undefined {
  for (const name of ['rounds', 'per-round', 'seed'] as const) {
    if (args[name] !== undefined && !args.interleave) throw new InputError(`--${name}: only with --interleave, found it without`);
  }
  return args.interleave ? roundOptions(args) : undefined;
}

/** A path as the user can type it: relative under the working directory, absolute elsewhere (a trial's temp directory). */
function displayPath(path: string): string {
  const shown = relative(process.cwd(), path);
  return shown.startsWith('..') || isAbsolute(shown) ? path : shown;
}

/** True when a rig name would resolve: results/<rig>/ holds a complete run (other than `exclude`). */
function completeRunOf(rig: string, exclude?: string): boolean {
  try {
    resolveArtifact(rig, exclude ? { exclude } : {});
    return true;
  } catch (error) {
    if (error instanceof InputError) return false;
    throw error;
  }
}

/** What compare, gate and export will make of a run that is not a whole measurement, and where a trial went. */
function runNote(rig: string, reason: string, trial: { trial: boolean; inTemp: boolean }, shown: string): string {
  if (trial.trial) {
    const where = trial.inTemp ? `written to a temp directory, not results/${rig}/, and ` : '';
    return `trial run: ${where}marked run.trial, so \`rigor compare/gate/export ${rig}\` never take it for the rig's newest run; judge it with \`rigor gate ${shown} --baseline ${rig}\``;
  }
  return `note: \`rigor compare/gate/export ${rig}\` skip this run (${reason}); name the file to use it. For try-outs, rigor run --trial keeps them out of results/${rig}/.`;
}

/**
 * What `rigor gate <this> --baseline …` can name: the rig (its newest complete
 * run other than this one) when this artifact went to results/<rig>/ and such a
 * run is there, else the newest earlier artifact beside this one; null when none.
 */
export function baselineFor(path: string, rig: string): string | null {
  const dir = dirname(path);
  if (resolve(dir) === resolve('results', rig)) return completeRunOf(rig, path) ? rig : null;
  // Runs ordered by their recorded start, as compare and gate order them; unreadable neighbours are not offered.
  const self = resolve(path);
  const { artifacts } = readRigResults(dir);
  const at = artifacts.findIndex((file) => resolve(file.path) === self);
  const newest = artifacts.slice(0, at === -1 ? artifacts.length : at).at(-1);
  return newest ? displayPath(newest.path) : null;
}
