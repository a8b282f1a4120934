/** The edge where the site reads: rig files, artifacts (validated), and the repository's commit order. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readArtifact } from '../artifact/read.ts';
import { InputError } from '../../base/errors.ts';
import { commitOrder } from '../history/commit-order.ts';
import { listRigFiles, rigNameOf } from '../rig/discover.ts';
import { loadRig } from '../rig/load.ts';
import type { ArtifactInput } from './model/artifact-ref.ts';
import type { RigInput } from './model/rig-page.ts';
import type { SiteInput } from './model/site.ts';
import { artifactNames } from '../artifact/write.ts';
import { readFleetRecord } from '../fleet/record-file.ts';
import { FLEET_RECORD_DIR } from '../fleet/record.ts';
import type { FleetRecordInput } from './model/fleet-page.ts';

export interface SiteSources {
  input: SiteInput;
  /** Site path of each artifact (results/<rig>/<file>.json) and fleet record → the file on disk, copied byte for byte. */
  artifactFiles: Map<string, string>;
  /** Site path of each artifact → its text, which its viewer page embeds. */
  artifactTexts: Map<string, string>;
}

export interface ReadOptions {
  rigsDir: string;
  resultsDir: string;
  /** The git repository whose commit order places artifacts in history. */
  repoDir: string;
}

function readRig(file: string): RigInput {
  const name = rigNameOf(file);
  const path = `rigs/${basename(file)}`;
  const source = readFileSync(file, 'utf8');
  try {
    const { rig, sha256 } = loadRig(file);
    return { name, path, source, loaded: { rig, sha256 } };
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    return { name, path, source, loaded: { error: error.message } };
  }
}

/** results/<folder>/*.json, both levels sorted. */
function artifactFilesIn(resultsDir: string): { sitePath: string; file: string }[] {
  if (!existsSync(resultsDir)) return [];
  return readdirSync(resultsDir)
    .sort()
    .filter((folder) => statSync(join(resultsDir, folder)).isDirectory())
    .flatMap((folder) =>
      artifactNames(join(resultsDir, folder))
        .map((name) => ({ sitePath: `results/${folder}/${name}`, file: join(resultsDir, folder, name) })),
    );
}

/** results/<folder>/fleet/*.json, both levels sorted. */
function fleetRecordFilesIn(resultsDir: string): { sitePath: string; file: string }[] {
  if (!existsSync(resultsDir)) return [];
  return readdirSync(resultsDir)
    .sort()
    .filter((folder) => existsSync(join(resultsDir, folder, FLEET_RECORD_DIR)) && statSync(join(resultsDir, folder, FLEET_RECORD_DIR)).isDirectory())
    .flatMap((folder) =>
      readdirSync(join(resultsDir, folder, FLEET_RECORD_DIR))
        .filter((name) => name.endsWith('.json'))
        .sort()
        .map((name) => ({ sitePath: `results/${folder}/${FLEET_RECORD_DIR}/${name}`, file: join(resultsDir, folder, FLEET_RECORD_DIR, name) })),
    );
}

export function readSiteInputs(opts: ReadOptions): SiteSources {
  const artifacts: ArtifactInput[] = [];
  const problems: SiteInput['problems'] = [];
  const artifactFiles = new Map<string, string>();
  const artifactTexts = new Map<string, string>();
  for (const { sitePath, file } of artifactFilesIn(opts.resultsDir)) {
    try {
      artifacts.push({ path: sitePath, artifact: readArtifact(file) });
      artifactFiles.set(sitePath, file);
      // A second read, from the page cache: readArtifact keeps only the parsed value.
      artifactTexts.set(sitePath, readFileSync(file, 'utf8'));
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      // readArtifact names the file first; the page shows the path in its own column.
      problems.push({ path: sitePath, message: error.message.replace(`${file}: `, '') });
    }
  }
  const fleetRecords: FleetRecordInput[] = [];
  for (const { sitePath, file } of fleetRecordFilesIn(opts.resultsDir)) {
    try {
      fleetRecords.push({ path: sitePath, record: readFleetRecord(file) });
      artifactFiles.set(sitePath, file);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      problems.push({ path: sitePath, message: error.message.replace(`${file}: `, '') });
    }
  }
  return {
    input: { rigs: listRigFiles(opts.rigsDir).map(readRig), artifacts, problems, commitOrder: commitOrder(opts.repoDir), fleetRecords },
    artifactFiles,
    artifactTexts,
  };
}
