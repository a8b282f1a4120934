/**
 * An `<artifact>` on the command line: a file path, or a rig name meaning the
 * newest artifact in results/<rig>/ (file names start with a UTC stamp, so
 * lexical order is time order).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../../base/errors.ts';

export interface ArtifactArgumentOptions {
  /** Where rig results live; default `results` under the working directory. */
  resultsDir?: string;
  /** A path never chosen for a rig name (so `--baseline <rig>` means the run before the candidate). */
  exclude?: string;
}

export function resolveArtifactArgument(argument: string, opts: ArtifactArgumentOptions = {}): string {
  if (existsSync(argument) && statSync(argument).isFile()) return argument;
  const resultsDir = opts.resultsDir ?? 'results';
  const rigDir = join(resultsDir, argument);
  const isName = /^[a-z0-9][a-z0-9_-]*$/.test(argument);
  if (!isName || !existsSync(rigDir) || !statSync(rigDir).isDirectory()) {
    throw new InputError(
      `${argument}: expected an artifact file or a rig name with results in ${join(resultsDir, '<rig>')}/, found neither`,
    );
  }
  const candidates = readdirSync(rigDir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => join(rigDir, name))
    .filter((path) => opts.exclude === undefined || resolve(path) !== resolve(opts.exclude));
  const newest = candidates.at(-1);
  if (!newest) {
    throw new InputError(`${argument}: expected an artifact in ${rigDir}/${opts.exclude ? ` other than ${opts.exclude}` : ''}, found none`);
  }
  return newest;
}
