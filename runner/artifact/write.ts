/** Writing artifacts: validated first, atomically, never over an existing file. */
import { closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readdirSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { sealArtifact } from './digest.ts';
import type { Artifact } from './schema.ts';
import { artifactText, assertArtifactSize } from './size.ts';
import { assertValidArtifact } from './validate.ts';

/** `20261122T010203Z` from an ISO timestamp: sortable, and safe in file names. */
export function fileStamp(iso: string): string {
  return iso.replace(/\.\d+Z$/, 'Z').replaceAll('-', '').replaceAll(':', '');
}

/** results/<rig>/<UTC stamp>_<commit7>_<host-id>.json */
export function artifactFileName(artifact: Artifact): string {
  const commit = artifact.git.commit ? artifact.git.commit.slice(0, 7) : 'nocommit';
  return `${fileStamp(artifact.run.started_at)}_${commit}_${artifact.host.id}.json`;
}

/**
 * Validate against schemas/artifact.schema.json and refuse one over 2 MB
 * (size.ts), then write to a temp file in the same directory, fsync, and
 * hard-link it into place: link() fails when the name exists, so an existing
 * artifact is never replaced, and a reader never sees a half-written file.
 */
export function writeArtifact(artifact: Artifact, dir: string): string {
  artifact = sealArtifact(artifact);
  assertValidArtifact(artifact, join(dir, artifactFileName(artifact)));
  const text = artifactText(artifact);
  assertArtifactSize(artifact, text, join(dir, artifactFileName(artifact)));
  return writeNewFile(dir, artifactFileName(artifact), text);
}

/**
 * Write `text` as dir/name atomically and never over an existing file: a temp
 * file in the same directory, fsynced and hard-linked into place (link()
 * fails when the name exists); a taken name gets a -1, -2, ... suffix before
 * .json. Returns the path written.
 */
export function writeNewFile(dir: string, name: string, text: string): string {
  mkdirSync(dir, { recursive: true });
  const final = join(dir, name);
  const temp = join(dir, `.${basename(final)}.${process.pid}.tmp`);
  const fd = openSync(temp, 'wx');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    for (let attempt = 0; ; attempt++) {
      // Two runs in the same second on one host and commit: suffix, never replace.
      const target = attempt === 0 ? final : final.replace(/\.json$/, `-${attempt}.json`);
      try {
        linkSync(temp, target);
        syncDirectory(dirname(target));
        return target;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 100) throw error;
      }
    }
  } finally {
    unlinkSync(temp);
  }
}

/** Make the new directory entry durable too. */
function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Artifact file names oldest first. Plain string order puts a same-second
 * `…-1.json` before the `….json` written first ('-' < '.'): the suffix is
 * compared as the number it is.
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

/** The artifact files of one folder (results/<rig>/), oldest first; none when the folder does not exist. */
export function artifactNames(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort(byArtifactAge);
}
