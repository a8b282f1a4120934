/**
 * `rigor gate <artifact> [--baseline <artifact>]`: the rig's gates and ratio
 * goals, judged on raw samples. Exit 0 pass, 1 regression (or, strict, anything
 * not checked), 2 usage or input error.
 */
import { readArtifact } from '../../artifact/read.ts';
import { INCLUDE_INCOMPLETE_HELP, resolveArtifactArgument } from '../../compare/artifact-argument.ts';
import { pairWarnings, runWarnings } from '../../compare/warnings.ts';
import { evaluateGates, gateExitCode } from '../../gate/evaluate.ts';
import { evaluatePairedGates, PAIRED_CORRECTION, PAIRED_TEST } from '../../gate/paired.ts';
import type { Artifact } from '../../artifact/schema.ts';
import { formatGateResults } from '../../gate/format.ts';
import { gateMarkdown } from '../../gate/markdown.ts';
import { ratioGoals } from '../../gate/ratio-goals.ts';
import { findUnchecked, strictExitCode, strictMode } from '../../gate/strict.ts';
import { modeClause, STRICT_HELP, uncheckedNoun } from '../../gate/strict-report.ts';
import { computeRatios } from '../../run/ratios.ts';
import { InputError } from '../../../base/errors.ts';
import type { RigorCommand } from '../command.ts';

/** One line saying how the two sides were measured, so a cross-run verdict is read for what it is. */
function gateMethod(candidate: Artifact, baseline: Artifact | undefined): string {
  if (candidate.ab) return `paired — base and head measured side by side in ${candidate.interleave?.rounds_done ?? 0} shuffled rounds of one run (${PAIRED_TEST}, ${PAIRED_CORRECTION} over every comparison)`;
  return `cross-run — the two artifacts were measured at different times (${baseline!.run.started_at} and ${candidate.run.started_at}): drift of the host between them is not controlled; rigor ab measures both in one run`;
}

export const gateCommand: RigorCommand = {
  command: 'gate <artifact>',
  describe: "Check an artifact against its rig's gates (relative gates need --baseline); exit 1 on a regression",
  builder: (yargs) =>
    yargs
      .positional('artifact', { type: 'string', describe: 'candidate: an artifact file, or a rig name for its newest complete run in results/<rig>/' })
      .option('baseline', {
        type: 'string',
        describe: 'baseline artifact for relative gates: a file, or a rig name (its newest complete run other than the candidate)',
      })
      .option('include-incomplete', { type: 'boolean', default: false, describe: INCLUDE_INCOMPLETE_HELP })
      .option('markdown', { type: 'boolean', default: false, describe: 'print GitHub-flavoured markdown (for $GITHUB_STEP_SUMMARY)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the results as JSON' })
      .option('strict', { type: 'boolean', describe: STRICT_HELP })
      .example('$0 gate startup --baseline results/startup/<older>.json', 'fail (exit 1) on a significant regression')
      .example('$0 gate startup --baseline startup --markdown >> $GITHUB_STEP_SUMMARY', 'newest run against the one before, as markdown'),
  handler: async (args) => {
    if (args.json && args.markdown) throw new InputError('--json and --markdown: expected one output format, found both');
    const resolving = { verb: 'gate', includeIncomplete: Boolean(args.includeIncomplete ?? args['include-incomplete']) };
    const candidatePath = resolveArtifactArgument(String(args.artifact), resolving);
    const candidate = readArtifact(candidatePath);
    if (args.baseline !== undefined && (typeof args.baseline !== 'string' || args.baseline === '')) {
      throw new InputError('--baseline: expected an artifact file or a rig name, found nothing');
    }
    if (candidate.ab && args.baseline !== undefined) {
      throw new InputError(`--baseline: ${candidatePath} is an A/B artifact and holds its own baseline (its base side); expected no --baseline, found ${args.baseline}`);
    }
    const baselinePath = args.baseline ? resolveArtifactArgument(args.baseline, { ...resolving, exclude: candidatePath }) : undefined;
    const baseline = baselinePath ? readArtifact(baselinePath) : undefined;
    const warnings = baseline
      ? pairWarnings(baseline, candidate, { a: 'baseline', b: 'candidate' })
      : runWarnings('candidate', candidate);

    const { gates, metrics, ratios } = candidate.rig.definition;
    const results = candidate.ab ? evaluatePairedGates(gates, metrics, { ...candidate, ab: candidate.ab }) : evaluateGates(gates, metrics, candidate, baseline);
    // Ratio goals are gates too, recomputed from the raw samples like the rest.
    const goals = ratioGoals(computeRatios(ratios ?? [], candidate.cells));
    const mode = strictMode(args.strict as boolean | undefined, process.env);
    const unchecked = findUnchecked({ verb: 'gate', gates, results, goals, candidate, ...(baseline && { baseline }) });
    const exitCode = Math.max(gateExitCode(results), strictExitCode(unchecked, mode));
    const ctx = {
      rig: candidate.rig.name,
      candidate: candidatePath,
      ...(baselinePath && { baseline: baselinePath }),
      ...(candidate.ab && { baseline: `its base side, ${candidate.ab.base.ref ?? 'working tree'} (${candidate.ab.base.commit?.slice(0, 12) ?? 'no commit'})` }),
      ...((candidate.ab || baseline) && { method: gateMethod(candidate, baseline) }),
      warnings,
      goals,
      unchecked,
      mode,
    };

    if (args.json) {
      const report = {
        rig: ctx.rig,
        candidate: candidatePath,
        baseline: baselinePath ?? null,
        warnings,
        results,
        ratio_goals: goals,
        strict: mode.strict,
        unchecked,
        exit_code: exitCode,
      };
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else if (args.markdown) {
      process.stdout.write(gateMarkdown(results, ctx));
    } else {
      // In a log (not a terminal) nothing is truncated: there is no width to fit.
      const maxWidth = process.stdout.isTTY ? process.stdout.columns : Infinity;
      process.stdout.write(`${formatGateResults(results, ctx, { maxWidth })}\n`);
    }
    // The markdown and JSON may be redirected to a file; the warning must still reach the log.
    if (args.json || args.markdown) {
      for (const warning of warnings) process.stderr.write(`rigor gate: WARNING: ${warning}\n`);
      for (const item of unchecked) {
        process.stderr.write(`rigor gate: ${uncheckedNoun([item]).toUpperCase()} — ${modeClause(mode)}: ${item.reason}\n`);
      }
    }
    return exitCode;
  },
};
