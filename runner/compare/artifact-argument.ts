/**
 * An `<artifact>` on the command line: a file path, or a rig name meaning the
 * newest artifact in results/<rig>/ (by its recorded run.started_at, never
 * by file name; an entry that does not read is reported and skipped) that is
 * a whole run: a rig name passes over
 * interrupted, failed, trial and reduced-iteration runs (incomplete.ts), and
 * says which, unless asked to take them.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../../base/errors.ts';
import { problemLines, readRigResults, type ResultsProblem } from '../artifact/read.ts';
import { Name } from '../rig/schema.ts';
import { whyIncomplete } from './incomplete.ts';

/** The --include-incomplete option's help, shared by the verbs that take a rig name. */
export const INCLUDE_INCOMPLETE_HELP =
  'let a rig name take its newest run even when it was interrupted, failed, a trial (--trial) or took fewer iterations than the rig asks (by default those are skipped, and named on stderr)';

export interface ArtifactArgumentOptions {
  /** Where rig results live; default `results` under the working directory. */
  resultsDir?: string;
  /** A path never chosen for a rig name (so `--baseline <rig>` means the run before the candidate). */
  exclude?: string;
  /** Take the newest artifact whatever its run was (`--include-incomplete`). */
  includeIncomplete?: boolean;
}

export interface SkippedArtifact {
  path: string;
  /** "the run was interrupted", "a trial run (rigor run --trial)", "--iterations 2: fewer samples than the rig's 20". */
  reason: string;
}

export interface ResolvedArtifact {
  path: string;
  /** Newer artifacts of the rig a rig name passed over, newest first. */
  skipped: SkippedArtifact[];
  /** Entries of results/<rig>/ that could not be read (corrupt, a link, a FIFO...), each skipped. */
  problems: ResultsProblem[];
}

export function resolveArtifact(argument: string, opts: ArtifactArgumentOptions = {}): ResolvedArtifact {
  if (existsSync(argument) && statSync(argument).isFile()) return { path: argument, skipped: [], problems: [] };
  const resultsDir = opts.resultsDir ?? 'results';
  const rigDir = join(resultsDir, argument);
  const isName = Name.safeParse(argument).success;
  if (!isName || !existsSync(rigDir) || !statSync(rigDir).isDirectory()) {
    throw new InputError(
      `${argument}: expected an artifact file or a rig name with results in ${join(resultsDir, '<rig>')}/, found neither`,
    );
  }
  // Every artifact is read (and validated) to order the runs by their start, not by file name.
  const { artifacts, problems } = readRigResults(rigDir, argument);
  const candidates = artifacts.reverse().filter(({ path }) => opts.exclude === undefined || resolve(path) !== resolve(opts.exclude));
  const other = opts.exclude ? ` other than ${opts.exclude}` : '';
  const unread = problems.length > 0 ? ` (${problems.length} not read: ${problems.map((p) => p.path).join(', ')})` : '';
  if (candidates.length === 0) throw new InputError(`${argument}: expected an artifact in ${rigDir}/${other}, found none${unread}`);
  if (opts.includeIncomplete) return { path: candidates[0]!.path, skipped: [], problems };
  const skipped: SkippedArtifact[] = [];
  for (const { path, artifact } of candidates) {
    const reason = whyIncomplete(artifact);
    if (reason === null) return { path, skipped, problems };
    skipped.push({ path, reason });
  }
  throw new InputError(
    `${argument}: expected a complete run in ${rigDir}/${other}, found only ${skipped.length === 1 ? 'one that is not' : `${skipped.length} that are not`} ` +
      `(${skipped.map((s) => `${s.path}: ${s.reason}`).join('; ')}); name the file, or --include-incomplete to take the newest`,
  );
}

/**
 * One line per artifact a rig name passed over, for stderr; `verb` ("gate")
 * names the command, and one that has --include-incomplete says so.
 */
export function skippedNotes(skipped: readonly SkippedArtifact[], verb?: string): string[] {
  const prefix = verb ? `rigor ${verb}` : 'rigor';
  const way = verb ? 'name the file, or --include-incomplete, to use it' : 'name the file to use it';
  return skipped.map((s) => `${prefix}: skipped ${s.path}: ${s.reason} (${way})`);
}

/**
 * The path an argument names, saying on stderr which newer artifacts a rig
 * name passed over. `verb` is set by the verbs that offer --include-incomplete.
 */
export function resolveArtifactArgument(argument: string, opts: ArtifactArgumentOptions & { verb?: string } = {}): string {
  const { path, skipped, problems } = resolveArtifact(argument, opts);
  for (const line of problemLines(problems, opts.verb)) process.stderr.write(`${line}\n`);
  for (const line of skippedNotes(skipped, opts.verb)) process.stderr.write(`${line}\n`);
  return path;
}
