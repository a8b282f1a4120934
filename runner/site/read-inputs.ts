/**
 * The edge where the site reads: rig files, artifacts (validated, through the
 * checked results reader) and the repository's commit order. rigs/ and
 * results/ are data: links in them are reported and never followed, so
 * nothing outside them is read or published.
 */
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { folderProblem, jsonEntries, readRigResults, shownName } from '../artifact/read.ts';
import { InputError } from '../../base/errors.ts';
import { commitOrder } from '../history/commit-order.ts';
import { listRigFiles, rigNameOf } from '../rig/discover.ts';
import { loadRig } from '../rig/load.ts';
import { Name } from '../rig/schema.ts';
import type { ArtifactInput } from './model/artifact-ref.ts';
import type { RigInput } from './model/rig-page.ts';
import type { SiteInput } from './model/site.ts';
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

/** The rig files of rigsDir that are regular files with a safe name; a link or anything else is a problem, never read or copied. */
function rigFilesIn(rigsDir: string, problems: SiteInput['problems']): string[] {
  return listRigFiles(rigsDir).filter((file) => {
    const sitePath = `rigs/${basename(file)}`;
    const stats = lstatSync(file);
    if (stats.isSymbolicLink()) problems.push({ path: shownName(sitePath), message: 'a symbolic link; rig files are not followed, nor published' });
    else if (!stats.isFile()) problems.push({ path: shownName(sitePath), message: 'not a regular file; not read' });
    else if (!Name.safeParse(rigNameOf(file)).success) problems.push({ path: shownName(sitePath), message: 'file name is not <name>.rig.yaml with a lower-case name of letters, digits, - and _; not read' });
    else return true;
    return false;
  });
}

/** The folders of results/ that are real directories named as a rig; links and other names are problems. */
function resultFolders(resultsDir: string, problems: SiteInput['problems']): string[] {
  if (!existsSync(resultsDir)) return [];
  return readdirSync(resultsDir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((entry) => {
      const sitePath = `results/${entry.name}`;
      if (entry.isSymbolicLink()) problems.push({ path: shownName(sitePath), message: 'a symbolic link; links in a results tree are not followed' });
      else if (!entry.isDirectory()) return [];
      else if (!Name.safeParse(entry.name).success) problems.push({ path: shownName(sitePath), message: 'folder name is not a rig name (lower-case letters, digits, - and _); not read' });
      else return [entry.name];
      return [];
    });
}

/** results/<folder>/fleet/*.json, both levels sorted. */
function fleetRecordFilesIn(resultsDir: string, folders: string[], problems: SiteInput['problems']): { sitePath: string; file: string }[] {
  return folders
    .filter((folder) => existsSync(join(resultsDir, folder, FLEET_RECORD_DIR)))
    .flatMap((folder) => {
      const dir = join(resultsDir, folder, FLEET_RECORD_DIR);
      const problem = folderProblem(dir);
      if (problem) {
        problems.push({ path: `results/${folder}/${FLEET_RECORD_DIR}`, message: problem });
        return [];
      }
      const listed = jsonEntries(dir);
      problems.push(...listed.problems.map((p) => ({ ...p, path: sitePathOf(resultsDir, p.path) })));
      return listed.files.map((file) => ({ sitePath: `results/${folder}/${FLEET_RECORD_DIR}/${basename(file)}`, file }));
    });
}

/** results/<...> as the site shows it, from a path under resultsDir. */
function sitePathOf(resultsDir: string, path: string): string {
  return path.startsWith(`${resultsDir}/`) ? `results/${path.slice(resultsDir.length + 1)}` : path;
}

export function readSiteInputs(opts: ReadOptions): SiteSources {
  const artifacts: ArtifactInput[] = [];
  const problems: SiteInput['problems'] = [];
  const artifactFiles = new Map<string, string>();
  const artifactTexts = new Map<string, string>();
  const rigs = rigFilesIn(opts.rigsDir, problems).map(readRig);
  const folders = resultFolders(opts.resultsDir, problems);
  for (const folder of folders) {
    // The checked reader: links not followed, FIFOs never opened, a corrupt file or one of another rig reported and left out.
    const results = readRigResults(join(opts.resultsDir, folder), folder);
    problems.push(...results.problems.map((p) => ({ path: sitePathOf(opts.resultsDir, p.path), message: p.message })));
    for (const { path: file, artifact } of results.artifacts) {
      const sitePath = `results/${folder}/${basename(file)}`;
      artifacts.push({ path: sitePath, artifact });
      artifactFiles.set(sitePath, file);
      // A second read, from the page cache: readArtifact keeps only the parsed value.
      artifactTexts.set(sitePath, readFileSync(file, 'utf8'));
    }
  }
  const fleetRecords: FleetRecordInput[] = [];
  for (const { sitePath, file } of fleetRecordFilesIn(opts.resultsDir, folders, problems)) {
    try {
      fleetRecords.push({ path: sitePath, record: readFleetRecord(file) });
      artifactFiles.set(sitePath, file);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      problems.push({ path: sitePath, message: error.message.replace(`${file}: `, '') });
    }
  }
  return {
    input: { rigs, artifacts, problems, commitOrder: commitOrder(opts.repoDir), fleetRecords },
    artifactFiles,
    artifactTexts,
  };
}
