/**
 * Reading artifacts, checked. One file: opened without blocking (a FIFO never
 * hangs the reader), a regular file or refused, parsed with an error that
 * gives the byte, never the text (a link to a secret must not leak through a
 * message), and checked against schemas/artifact.schema.json. A results
 * folder: files in it are data, so links are not followed, and every entry
 * that is not a readable artifact of that rig is reported and skipped while
 * the others are read; the runs come back ordered by when they started, not
 * by file name.
 */
import { lstatSync, readdirSync, type Dirent, type Stats } from 'node:fs';
import { fileKind, readBounded } from '../../base/bounded-read.ts';
import { basename, join } from 'node:path';
import { InputError } from '../../base/errors.ts';
import { jsonSyntaxError } from '../../base/json-error.ts';
import { validatorFor } from '../schema/ajv.ts';
import { Name } from '../rig/schema.ts';
import type { Artifact } from './schema.ts';
import { MAX_ARTIFACT_READ_BYTES } from './size.ts';
import { batchProblems, formatSchemaErrors } from './validate.ts';

export interface ReadArtifactOptions {
  /** Refuse a symbolic link instead of following it (files found in a results tree, not named by the user). */
  noFollow?: boolean;
  /** Recompute the bootstrap intervals too, as rigor validate does; readers leave them out (validate.ts). Default false. */
  intervals?: boolean;
}

/** The bytes of a regular file of at most MAX_ARTIFACT_READ_BYTES; anything else is refused before a byte is read. */
function readRegularFile(path: string, opts: ReadArtifactOptions): Buffer {
  const read = readBounded(path, MAX_ARTIFACT_READ_BYTES, 'artifact', { noFollow: opts.noFollow });
  if (read.ok) return read.bytes;
  if (read.found === 'ELOOP' && opts.noFollow) throw new InputError(`${path}: a symbolic link; links in a results tree are not followed`);
  throw new InputError(`${path}: cannot read artifact: expected ${read.expected}, found ${read.found}`);
}

/** Parsed JSON, or an error that says where it stops being JSON and not what the text says. */
export function parseJsonFile(path: string, bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    const at = jsonSyntaxError(bytes);
    const where = at ? ` at byte ${at.byte} of ${bytes.length} (${at.reason})` : '';
    throw new InputError(`${path}: not valid JSON${where}`);
  }
}

/** A regular file's JSON (readRegularFile, parseJsonFile): for artifacts and the other JSON a results tree holds. */
export function readJsonFile(path: string, opts: ReadArtifactOptions = {}): unknown {
  return parseJsonFile(path, readRegularFile(path, opts));
}

export function readArtifact(path: string, opts: ReadArtifactOptions = {}): Artifact {
  return checkedArtifact(path, readJsonFile(path, opts), opts);
}

/** The JSON read from `path` (readJsonFile) as an artifact, checked as readArtifact checks it; for a caller that has parsed the file already. */
export function checkedArtifact(path: string, data: unknown, opts: Pick<ReadArtifactOptions, 'intervals'> = {}): Artifact {
  const validate = validatorFor('artifact');
  if (!validate(data)) {
    throw new InputError(`${path}: not a valid rigor artifact:\n${formatSchemaErrors(validate.errors ?? [], data)}`);
  }
  const batches = batchProblems(data as Artifact, { intervals: opts.intervals ?? false });
  if (batches) throw new InputError(`${path}: not a valid rigor artifact:\n${batches}`);
  const artifact = data as Artifact;
  // rig.name becomes folder and page names (results/<rig>/, the site): the rig loader's name rule.
  if (!Name.safeParse(artifact.rig.name).success) {
    throw new InputError(`${path}: not a valid rigor artifact:\n  at /rig/name: expected a lower-case name of letters, digits, - and _; found ${JSON.stringify(artifact.rig.name.slice(0, 40))}`);
  }
  return artifact;
}

/** An entry of a results tree that was not read, and why. */
export interface ResultsProblem {
  path: string;
  message: string;
}

export interface ArtifactFile {
  path: string;
  artifact: Artifact;
}

export interface RigResults {
  /** The readable artifacts, oldest run first (byRunStart). */
  artifacts: ArtifactFile[];
  problems: ResultsProblem[];
}

/** Names an artifact file may have in a results tree: they go into URLs and terminals as they are. */
const SAFE_FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Artifact file names oldest first. Plain string order puts a same-second
 * `…-1.json` before the `….json` written first ('-' < '.'): the suffix is
 * compared as the number it is. Only a tiebreak: runs are ordered by their
 * recorded start (byRunStart).
 */
export function byArtifactAge(a: string, b: string): number {
  const key = (name: string) => {
    const match = /^(.*?)(?:-(\d+))?\.json$/.exec(name);
    return { stem: match?.[1] ?? name, n: match?.[2] ? Number(match[2]) : 0 };
  };
  const x = key(a);
  const y = key(b);
  return x.stem < y.stem ? -1 : x.stem > y.stem ? 1 : x.n - y.n;
}

/** Oldest run first: by run.started_at, then the file name (byArtifactAge), then the path, so equal starts keep one order. */
export function byRunStart(a: ArtifactFile, b: ArtifactFile): number {
  const started = Date.parse(a.artifact.run.started_at) - Date.parse(b.artifact.run.started_at);
  if (started !== 0) return started;
  const age = byArtifactAge(basename(a.path), basename(b.path));
  if (age !== 0) return age;
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/** A name shown in a message: as it is when safe, else quoted so a newline or an escape sequence stays visible and inert. */
export function shownName(path: string): string {
  return /^[\x21-\x7e]*$/.test(path) ? path : JSON.stringify(path);
}

/**
 * The entries of a folder that a results reader should look at, from lstat
 * (never following a link): a `*.json` regular file is `{ file }`; a link, a
 * directory, a FIFO, a socket or a device named `*.json`, or a file whose
 * name is unsafe in a URL, is a problem and never opened.
 */
export function jsonEntries(dir: string): { files: string[]; problems: ResultsProblem[] } {
  const files: string[] = [];
  const problems: ResultsProblem[] = [];
  const entries = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.name.endsWith('.json'))
    .sort((a, b) => byArtifactAge(a.name, b.name));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (!SAFE_FILE_NAME.test(entry.name)) {
      problems.push({ path: shownName(path), message: 'file name has characters other than letters, digits, ".", "_" and "-" (a space, #, ? or a control character); not read — rename it' });
    } else if (entry.isSymbolicLink()) {
      problems.push({ path, message: 'a symbolic link; links in a results tree are not followed' });
    } else if (!entry.isFile()) {
      problems.push({ path, message: `${fileKind(entry)} named like an artifact; not opened` });
    } else {
      files.push(path);
    }
  }
  return { files, problems };
}

/** Why a folder of a results tree is not read, or null when it is a real directory. */
export function folderProblem(dir: string): string | null {
  let stats: Stats;
  try {
    stats = lstatSync(dir);
  } catch (error) {
    return `cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`;
  }
  if (stats.isSymbolicLink()) return 'a symbolic link; links in a results tree are not followed';
  if (!stats.isDirectory()) return `${fileKind(stats)}, not a folder of artifacts`;
  return null;
}

/**
 * Every artifact of results/<rig>/ that reads and validates, oldest run first,
 * and a problem for each entry that does not (with `rig`: also each artifact
 * whose rig.name is not its folder's). A folder that is a link is one problem.
 */
export function readRigResults(dir: string, rig?: string): RigResults {
  const problem = folderProblem(dir);
  if (problem) return { artifacts: [], problems: [{ path: dir, message: problem }] };
  const { files, problems } = jsonEntries(dir);
  const artifacts: ArtifactFile[] = [];
  for (const path of files) {
    try {
      const artifact = readArtifact(path, { noFollow: true });
      if (rig !== undefined && artifact.rig.name !== rig) {
        problems.push({ path, message: `rig.name is ${JSON.stringify(artifact.rig.name)}, expected ${JSON.stringify(rig)} (the folder it is in); not read` });
        continue;
      }
      artifacts.push({ path, artifact });
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      problems.push({ path, message: error.message.startsWith(`${path}: `) ? error.message.slice(path.length + 2) : error.message });
    }
  }
  return { artifacts: artifacts.sort(byRunStart), problems };
}

/** "rigor history: WARNING: results/x/y.json skipped: <why>" lines for stderr. */
export function problemLines(problems: readonly ResultsProblem[], verb?: string): string[] {
  return problems.map((p) => `rigor${verb ? ` ${verb}` : ''}: WARNING: ${p.path} skipped: ${p.message.replaceAll('\n', ' ').replace(/\s+/g, ' ')}`);
}
