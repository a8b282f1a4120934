/**
 * Artifacts made anywhere (fetched from fleet hosts, downloaded from a CI
 * matrix's jobs) into one results tree: every file validated before any is
 * written (plan), then each placed in results/<rig>/ under its own name,
 * atomically and never over an existing file (apply). A file already there
 * byte for byte is not written twice.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { InputError } from '../../base/errors.ts';
import { readArtifact } from '../artifact/read.ts';
import type { Artifact } from '../artifact/schema.ts';
import { artifactFileName, writeNewFile } from '../artifact/write.ts';
import { FLEET_RECORD_SCHEMA_ID } from './record.ts';

export interface FoundArtifact {
  /** Where it was found. */
  file: string;
  artifact: Artifact;
  text: string;
}

/** .json files under dir, depth first, sorted; hidden folders and node_modules passed over. */
function jsonFilesUnder(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (name.startsWith('.') || name === 'node_modules') return [];
      if (statSync(path).isDirectory()) return jsonFilesUnder(path);
      return name.endsWith('.json') ? [path] : [];
    });
}

/** True for a fleet record (results/<rig>/fleet/*.json of another results tree): not an artifact, not merged. */
function isFleetRecord(text: string): boolean {
  try {
    return (JSON.parse(text) as { schema?: unknown }).schema === FLEET_RECORD_SCHEMA_ID;
  } catch {
    return false;
  }
}

/**
 * Every artifact under `dir`, each validated as `rigor validate` does; throws
 * one InputError naming every file that is not a valid artifact, so a bad
 * file stops the merge before anything is written.
 */
export function collectArtifacts(dir: string): FoundArtifact[] {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw new InputError(`${dir}: expected a directory of artifacts (.json files, at any depth), found ${isDir ? 'a file' : 'nothing'}`);
  const found: FoundArtifact[] = [];
  const problems: string[] = [];
  for (const file of jsonFilesUnder(dir)) {
    const text = readFileSync(file, 'utf8');
    if (isFleetRecord(text)) continue;
    try {
      found.push({ file, artifact: readArtifact(file), text });
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      problems.push(error.message);
    }
  }
  if (problems.length > 0) {
    throw new InputError(`${dir}: ${problems.length} file(s) are not valid rigor artifacts; nothing was merged:\n${problems.join('\n')}`);
  }
  return found;
}

export interface MergeStep {
  source: FoundArtifact;
  rig: string;
  /** The file name in results/<rig>/: the source's own when it is rigor's, else the name rigor gives it. */
  name: string;
  /** add: write it (suffixed when the name is taken by another file); present: the same bytes are already there (or earlier in this merge). */
  action: 'add' | 'present';
  /** For present: where. */
  presentAs: string | null;
}

/** A name rigor writes: <stamp>_<commit7|nocommit>_<host>.json, maybe with a same-second suffix. */
const ARTIFACT_NAME = /^\d{8}T\d{6}Z_[0-9a-z]+_[a-z0-9][a-z0-9-]*\.json$/;

/**
 * What merging `found` into a results tree does, without touching it.
 * `existing(rig, name)` is the text of results/<rig>/<name>, null when there is none.
 */
export function planMerge(found: FoundArtifact[], existing: (rig: string, name: string) => string | null): MergeStep[] {
  const planned = new Map<string, string>();
  return found.map((source) => {
    const rig = source.artifact.rig.name;
    const own = basename(source.file);
    const name = ARTIFACT_NAME.test(own) ? own : artifactFileName(source.artifact);
    const key = `${rig}/${name}`;
    if (planned.get(key) === source.text) return { source, rig, name, action: 'present', presentAs: key };
    // the name, then the suffixed names a same-second run (or an earlier merge) gave the same stem
    for (let n = 0; ; n++) {
      const candidate = n === 0 ? name : name.replace(/\.json$/, `-${n}.json`);
      const there = existing(rig, candidate);
      if (there === null) break;
      if (there === source.text) return { source, rig, name, action: 'present', presentAs: `${rig}/${candidate}` };
    }
    if (!planned.has(key)) planned.set(key, source.text);
    return { source, rig, name, action: 'add', presentAs: null };
  });
}

export interface Placed {
  step: MergeStep;
  /** Relative to the results directory: <rig>/<file>.json. */
  path: string;
}

/** Write the plan's new files into resultsDir; every step comes back with the path its artifact now has. */
export function applyMerge(steps: MergeStep[], resultsDir: string): Placed[] {
  return steps.map((step) => {
    if (step.action === 'present') return { step, path: step.presentAs! };
    const written = writeNewFile(join(resultsDir, step.rig), step.name, step.source.text);
    return { step, path: relative(resultsDir, written) };
  });
}

/** The text of results/<rig>/<name>, or null: planMerge's view of a results tree on disk. */
export function existingIn(resultsDir: string): (rig: string, name: string) => string | null {
  return (rig, name) => {
    try {
      return readFileSync(join(resultsDir, rig, name), 'utf8');
    } catch {
      return null;
    }
  };
}
