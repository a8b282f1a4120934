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
