/** Every artifact of one rig, read and validated: results/<rig>/*.json, in file-name (= time) order. */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readArtifact } from '../artifact/read.ts';
import { InputError } from '../../base/errors.ts';
import type { ArtifactFile } from './series.ts';
import { artifactNames } from '../artifact/write.ts';

export function readRigArtifacts(rig: string, resultsDir: string = 'results'): ArtifactFile[] {
  const dir = join(resultsDir, rig);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new InputError(`${rig}: expected a directory of artifacts at ${dir}/, found none (rigor run ${rig} writes one)`);
  }
  return artifactNames(dir)
    .map((name) => {
      const path = join(dir, name);
      return { path, artifact: readArtifact(path) };
    });
}
