/**
 * When a run's artifact cannot be written where it should go (a full disk, a
 * read-only results folder), its samples are not lost: the same validated
 * text goes to a recovery file, or to stdout when that fails too. The
 * recovery file is the artifact under its own name: `rigor validate` it, then
 * move it into results/<rig>/.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Artifact } from './schema.ts';
import { artifactText } from './size.ts';
import { InvalidArtifactError } from './validate.ts';
import { ArtifactWriteError, artifactFileName, writeArtifact, writeNewFile } from './write.ts';

/** $XDG_STATE_HOME/rigor/recovery/ when XDG_STATE_HOME is set, else <tmpdir>/rigor-recovery/; one folder per rig. */
export function recoveryDir(rig: string, env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME ? join(env.XDG_STATE_HOME, 'rigor', 'recovery') : join(tmpdir(), 'rigor-recovery');
  return join(base, rig);
}

export interface RecoveryOptions {
  /** Where the text goes when no recovery file can be written either (the CLI: stdout). */
  lastResort: (text: string) => void;
  env?: NodeJS.ProcessEnv;
}

/**
 * writeArtifact, and when the destination fails, the artifact saved elsewhere:
 * the error thrown then says what failed and where the samples are.
 */
export function writeArtifactOrRecover(artifact: Artifact, dir: string, opts: RecoveryOptions): string {
  try {
    return writeArtifact(artifact, dir);
  } catch (error) {
    if (error instanceof InvalidArtifactError) throw new InvalidArtifactError(`${error.message}\n${saveInvalid(artifact, opts)}`);
    if (!(error instanceof ArtifactWriteError)) throw error;
    const text = artifactText(artifact);
    const rig = artifact.rig.name;
    let saved: string;
    try {
      const path = writeNewFile(recoveryDir(rig, opts.env), artifactFileName(artifact), text);
      saved = `the measured samples are saved in ${path}; check it with \`rigor validate ${path}\`, then move it into results/${rig}/ (mv ${path} results/${rig}/)`;
    } catch (again) {
      if (!(again instanceof ArtifactWriteError)) throw again;
      opts.lastResort(text);
      saved =
        `the recovery file could not be written either (${again.message}); the artifact was printed on stdout: ` +
        `save it as results/${rig}/${artifactFileName(artifact)} and check it with rigor validate`;
    }
    throw new ArtifactWriteError(`${error.message}; the artifact was not written, and ${saved}`, error.code);
  }
}

/**
 * An artifact validation refused, kept so its samples are not lost: in the
 * recovery folder as <name>.invalid.json, which no reader takes for an
 * artifact, or on stdout. Says where, for the error.
 */
function saveInvalid(artifact: Artifact, opts: RecoveryOptions): string {
  const text = `${JSON.stringify(artifact, null, 2)}\n`;
  try {
    const path = writeNewFile(recoveryDir(artifact.rig.name, opts.env), artifactFileName(artifact).replace(/\.json$/, '.invalid.json'), text);
    return `The measured samples are saved, as measured, in ${path} (not an artifact: fix the rig or the workload, then run again).`;
  } catch (again) {
    if (!(again instanceof ArtifactWriteError)) throw again;
    opts.lastResort(text);
    return `The measured samples could not be saved (${again.message}): they were printed on stdout.`;
  }
}
